"""agreements keyed by purpose, with their term and end

Revision ID: 0003_catalog
Revises: 0001
Create Date: 2026-12-01 09:30:00

A sharing agreement is now keyed by (department, resource, purpose hash) and carries its term
(valid_from, valid_until) and its end (ended_at, ended_by). The table is a projection of Catalog
events, so it is rebuilt rather than converted: the indexer watermark is reset and the next start
folds every event again (the other projection tables are written idempotently).
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_catalog"
down_revision = "0002_subjects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("agreements")
    op.create_table(
        "agreements",
        sa.Column("department", sa.String(length=42), nullable=False),
        sa.Column("resource_key", sa.String(length=66), nullable=False),
        sa.Column("purpose_hash", sa.String(length=66), nullable=False),
        sa.Column("field_mask", sa.String(length=80), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("ended_by", sa.String(length=42), nullable=True),
        sa.PrimaryKeyConstraint("department", "resource_key", "purpose_hash"),
    )
    op.execute("DELETE FROM indexer_state WHERE name = 'chain'")


def downgrade() -> None:
    op.drop_table("agreements")
    op.create_table(
        "agreements",
        sa.Column("department", sa.String(length=42), nullable=False),
        sa.Column("resource_key", sa.String(length=66), nullable=False),
        sa.Column("field_mask", sa.String(length=80), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("department", "resource_key"),
    )
    op.execute("DELETE FROM indexer_state WHERE name = 'chain'")
