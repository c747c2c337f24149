"""consents.end_reason_hash: the regulator's written reason when it ended a consent; consents.status wide
enough for ENDED_BY_REGULATOR

Revision ID: 0011_consent_end_reason
Revises: 0010_suspensions
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_consent_end_reason'
down_revision = '0010_suspensions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_reason_hash', sa.String(length=66), nullable=True))
        batch_op.alter_column('status', existing_type=sa.String(length=16), type_=sa.String(length=24),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=24), type_=sa.String(length=16),
                              existing_nullable=False)
        batch_op.drop_column('end_reason_hash')
