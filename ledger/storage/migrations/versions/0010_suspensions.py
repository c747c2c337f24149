"""suspensions: a department's suspended access to a resource (第十九条); statements: texts behind on-chain hashes

Revision ID: 0010_suspensions
Revises: 0009_one_active_verification
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_suspensions'
down_revision = '0009_one_active_verification'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('suspensions',
    sa.Column('resource_key', sa.String(length=66), nullable=False),
    sa.Column('department', sa.String(length=42), nullable=False),
    sa.Column('provider', sa.String(length=42), nullable=False),
    sa.Column('reason_hash', sa.String(length=66), nullable=False),
    sa.Column('since', sa.BigInteger(), nullable=False),
    sa.Column('until', sa.BigInteger(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('lifted_at', sa.BigInteger(), nullable=True),
    sa.Column('lifted_by', sa.String(length=42), nullable=True),
    sa.PrimaryKeyConstraint('resource_key', 'department')
    )
    with op.batch_alter_table('suspensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suspensions_provider'), ['provider'], unique=False)
    op.create_table('statements',
    sa.Column('text_hash', sa.String(length=66), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('text_hash')
    )


def downgrade() -> None:
    op.drop_table('statements')
    with op.batch_alter_table('suspensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suspensions_provider'))
    op.drop_table('suspensions')
