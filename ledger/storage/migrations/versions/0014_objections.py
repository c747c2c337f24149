"""objections: subjects' objections to records (异议, 第三十四条); records.version, which a correction cites

Revision ID: 0014_objections
Revises: 0013_emergencies
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_objections'
down_revision = '0013_emergencies'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('objections',
    sa.Column('objection_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('subject_id', sa.String(length=66), nullable=False),
    sa.Column('resource_key', sa.String(length=66), nullable=False),
    sa.Column('field_mask', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('filed_by', sa.String(length=42), nullable=False),
    sa.Column('reason_hash', sa.String(length=66), nullable=False),
    sa.Column('filed_at', sa.BigInteger(), nullable=False),
    sa.Column('filed_block', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('marked_at', sa.BigInteger(), nullable=True),
    sa.Column('forwarded_at', sa.BigInteger(), nullable=True),
    sa.Column('provider', sa.String(length=42), nullable=True),
    sa.Column('decided_at', sa.BigInteger(), nullable=True),
    sa.Column('decided_by', sa.String(length=42), nullable=True),
    sa.Column('corrected', sa.Boolean(), nullable=True),
    sa.Column('record_version', sa.BigInteger(), nullable=True),
    sa.Column('note_hash', sa.String(length=66), nullable=True),
    sa.Column('marked_block', sa.BigInteger(), nullable=True),
    sa.Column('forwarded_block', sa.BigInteger(), nullable=True),
    sa.Column('decided_block', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('objection_id')
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index('ix_objections_subject_resource', ['subject_id', 'resource_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_resource_key'), ['resource_key'], unique=False)
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.BigInteger(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_column('version')
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_resource_key'))
        batch_op.drop_index('ix_objections_subject_resource')
    op.drop_table('objections')
