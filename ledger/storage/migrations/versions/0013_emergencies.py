"""emergencies: the green channel's declarations, extensions, notice delays and reviews

Revision ID: 0013_emergencies
Revises: 0012_verification_requests
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_emergencies'
down_revision = '0012_verification_requests'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('emergencies',
    sa.Column('emergency_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('declared_by', sa.String(length=42), nullable=False),
    sa.Column('event_hash', sa.String(length=66), nullable=False),
    sa.Column('legal_basis_hash', sa.String(length=66), nullable=False),
    sa.Column('all_subjects', sa.Boolean(), nullable=False),
    sa.Column('declared_at', sa.BigInteger(), nullable=False),
    sa.Column('until', sa.BigInteger(), nullable=False),
    sa.Column('declared_block', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('departments', sa.JSON(), nullable=False),
    sa.Column('resources', sa.JSON(), nullable=False),
    sa.Column('subjects', sa.JSON(), nullable=False),
    sa.Column('extended_by', sa.String(length=42), nullable=True),
    sa.Column('notice_by', sa.BigInteger(), nullable=True),
    sa.Column('notice_reason_hash', sa.String(length=66), nullable=True),
    sa.Column('reviewed_at', sa.BigInteger(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=42), nullable=True),
    sa.Column('proper', sa.Boolean(), nullable=True),
    sa.Column('review_note_hash', sa.String(length=66), nullable=True),
    sa.PrimaryKeyConstraint('emergency_id')
    )


def downgrade() -> None:
    op.drop_table('emergencies')
