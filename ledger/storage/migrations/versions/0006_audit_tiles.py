"""audit log on tlog-tiles: the sequence row, tiles, checkpoints, use counts, the integration lease

``audit_sequence`` is the one row every appending instance locks to take seqs (its ``last_time_ms``
keeps entry times in seq order across instances). ``consent_uses`` holds each consent's ALLOW count,
bumped in the same transaction. ``audit_tiles`` holds the C2SP tiles, one row per tile at its
widest; ``audit_checkpoint`` the latest signed checkpoint (the anchors keep the history);
``audit_leases`` who integrates and anchors. Entries get ``committed_at_ms`` for the anchor-lag
bound. Existing logs keep their entries: the sequence row and
use counts are filled from them here, and the tiles are integrated by the next leader (or
``consent-ledger audit migrate``), which reads the entries in seq order.

Revision ID: 0006_tiles
Revises: 0005_api
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_tiles'
down_revision = '0005_api'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_sequence',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('next_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_time_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('consent_uses',
    sa.Column('consent_id', sa.String(length=66), nullable=False),
    sa.Column('used', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('consent_id')
    )
    op.create_table('audit_tiles',
    sa.Column('level', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('level', 'idx')
    )
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('signed_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('audit_leases',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('term', sa.BigInteger(), nullable=False),
    sa.Column('expires_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('committed_at_ms', sa.BigInteger(), nullable=True))

    connection = op.get_bind()
    entries = sa.table('audit_entries', sa.column('seq', sa.BigInteger), sa.column('consent_id', sa.String),
                       sa.column('decision', sa.String))
    count = connection.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one()
    connection.execute(sa.text("INSERT INTO audit_sequence (id, next_seq, last_time_ms) VALUES (1, :n, 0)"),
                       {"n": count})
    connection.execute(sa.text(
        "INSERT INTO consent_uses (consent_id, used) SELECT consent_id, COUNT(*) FROM audit_entries "
        "WHERE decision = 'ALLOW' AND consent_id IS NOT NULL GROUP BY consent_id"))


def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('committed_at_ms')
    op.drop_table('audit_leases')
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_tiles')
    op.drop_table('consent_uses')
    op.drop_table('audit_sequence')
