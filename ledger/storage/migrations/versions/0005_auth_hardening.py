"""auth hardening: stateless SIWE challenges, canonical consent drafts with nonce and deadline

Challenges no longer write a row each: ``auth_nonces`` (one row per challenge, never purged) is
replaced by ``auth_used_nonces`` (one row per successful login, purged once expired).
``consent_drafts`` gets ``nonce`` and ``deadline`` copied out of its typed data; a stored draft
whose typed data does not parse is dropped (it could never be relayed, and it broke drafting).

Revision ID: 0005_api
Revises: 0003_catalog
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_api'
down_revision = '0003_catalog'
branch_labels = None
depends_on = None

_UINT = {"nonce": 2**256, "deadline": 253402300800}  # deadline: a time before the year 10000


def _number(value, bound: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 80:
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < bound else None


def upgrade() -> None:
    op.drop_table('auth_nonces')
    op.create_table('auth_used_nonces',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce')
    )
    with op.batch_alter_table('auth_used_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_used_nonces_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('consent_drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nonce', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('deadline', sa.BigInteger(), nullable=True))
    drafts = sa.table('consent_drafts', sa.column('consent_id', sa.String), sa.column('typed_data', sa.JSON),
                      sa.column('nonce', sa.String), sa.column('deadline', sa.BigInteger))
    connection = op.get_bind()
    for consent_id, typed in connection.execute(sa.select(drafts.c.consent_id, drafts.c.typed_data)).all():
        message = typed.get("message") if isinstance(typed, dict) else None
        values = {k: _number(message.get(k), bound) for k, bound in _UINT.items()} if isinstance(message, dict) \
            else {}
        if len(values) == 2 and None not in values.values():
            connection.execute(drafts.update().where(drafts.c.consent_id == consent_id)
                               .values(nonce=str(values["nonce"]), deadline=values["deadline"]))
        else:
            connection.execute(drafts.delete().where(drafts.c.consent_id == consent_id))
    with op.batch_alter_table('consent_drafts', schema=None) as batch_op:
        batch_op.alter_column('nonce', existing_type=sa.String(length=80), nullable=False)
        batch_op.alter_column('deadline', existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index(batch_op.f('ix_consent_drafts_deadline'), ['deadline'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consent_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_drafts_deadline'))
        batch_op.drop_column('deadline')
        batch_op.drop_column('nonce')
    with op.batch_alter_table('auth_used_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_used_nonces_expires_at'))
    op.drop_table('auth_used_nonces')
    op.create_table('auth_nonces',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('nonce')
    )
