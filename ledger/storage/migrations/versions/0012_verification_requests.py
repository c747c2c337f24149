"""verification_requests: departments' requests that a provider verify a record (校核, 第二十一条)

Revision ID: 0012_verification_requests
Revises: 0011_consent_end_reason
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_verification_requests'
down_revision = '0011_consent_end_reason'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verification_requests',
    sa.Column('request_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('requester', sa.String(length=42), nullable=False),
    sa.Column('resource_key', sa.String(length=66), nullable=False),
    sa.Column('audit_seq', sa.BigInteger(), nullable=False),
    sa.Column('field_mask', sa.String(length=80), nullable=False),
    sa.Column('reason_hash', sa.String(length=66), nullable=False),
    sa.Column('requested_at', sa.BigInteger(), nullable=False),
    sa.Column('requested_block', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('extended_until', sa.BigInteger(), nullable=True),
    sa.Column('extension_reason_hash', sa.String(length=66), nullable=True),
    sa.Column('resolved_at', sa.BigInteger(), nullable=True),
    sa.Column('corrected', sa.Boolean(), nullable=True),
    sa.Column('note_hash', sa.String(length=66), nullable=True),
    sa.PrimaryKeyConstraint('request_id')
    )
    with op.batch_alter_table('verification_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_requests_requester'), ['requester'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_requests_resource_key'), ['resource_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('verification_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_requests_resource_key'))
        batch_op.drop_index(batch_op.f('ix_verification_requests_requester'))
    op.drop_table('verification_requests')
