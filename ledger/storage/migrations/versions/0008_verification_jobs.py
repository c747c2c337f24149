"""verification jobs: the API's re-verifications of the audit log, their progress and reports

Revision ID: 0008_verification_jobs
Revises: 0007_projection
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_verification_jobs'
down_revision = '0007_projection'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verification_jobs',
    sa.Column('job_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('entries_done', sa.BigInteger(), nullable=False),
    sa.Column('entries_total', sa.BigInteger(), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('from_size', sa.BigInteger(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('job_id')
    )
    with op.batch_alter_table('verification_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_jobs_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('verification_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_jobs_status'))
    op.drop_table('verification_jobs')
