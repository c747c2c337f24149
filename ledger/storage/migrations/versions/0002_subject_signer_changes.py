"""subject signer changes (proposed, cancelled, applied)

Revision ID: 0002_subjects
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_subjects'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('subject_signer_changes',
    sa.Column('change_id', sa.String(length=66), nullable=False),
    sa.Column('subject_id', sa.String(length=66), nullable=False),
    sa.Column('add', sa.JSON(), nullable=False),
    sa.Column('remove', sa.JSON(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=80), nullable=False),
    sa.Column('effective_at', sa.BigInteger(), nullable=False),
    sa.Column('proposed_by', sa.String(length=42), nullable=False),
    sa.Column('proposed_block', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=True),
    sa.Column('ended_block', sa.BigInteger(), nullable=True),
    sa.Column('ended_by', sa.String(length=42), nullable=True),
    sa.PrimaryKeyConstraint('change_id')
    )
    with op.batch_alter_table('subject_signer_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_signer_changes_subject_id'), ['subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('subject_signer_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_signer_changes_subject_id'))
    op.drop_table('subject_signer_changes')
