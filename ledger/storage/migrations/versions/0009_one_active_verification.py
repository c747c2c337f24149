"""one active verification job across instances: verification_jobs.active, unique

Revision ID: 0009_one_active_verification
Revises: 0008_verification_jobs
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_one_active_verification'
down_revision = '0008_verification_jobs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('verification_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Integer(), nullable=True))
    # A job left queued or running belonged to an instance now stopped for the upgrade.
    op.execute("UPDATE verification_jobs SET status = 'failed', "
               "error = 'the verifying process stopped without a report' "
               "WHERE status IN ('queued', 'running')")
    with op.batch_alter_table('verification_jobs', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_verification_jobs_active', ['active'])


def downgrade() -> None:
    with op.batch_alter_table('verification_jobs', schema=None) as batch_op:
        batch_op.drop_constraint('uq_verification_jobs_active', type_='unique')
        batch_op.drop_column('active')
