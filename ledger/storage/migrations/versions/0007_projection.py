"""the chain projection read from indexed tables: consent_resources

The API no longer loads the projection into memory; the release decision looks consents up by
(subject, grantee, resource). ``consent_resources`` holds one row per resource a consent names,
with its field mask and the consent's subject and grantee, indexed for that lookup. It replaces
the ``consents.resources`` JSON list, whose pairs are copied into it here (in pages, so a table
of millions of consents is never held in memory at once) before the column is dropped.

Revision ID: 0007_projection
Revises: 0006_tiles
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_projection'
down_revision = '0006_tiles'
branch_labels = None
depends_on = None

_PAGE = 10_000


def upgrade() -> None:
    op.create_table('consent_resources',
    sa.Column('consent_id', sa.String(length=66), nullable=False),
    sa.Column('resource_key', sa.String(length=66), nullable=False),
    sa.Column('field_mask', sa.String(length=80), nullable=False),
    sa.Column('subject_id', sa.String(length=66), nullable=False),
    sa.Column('grantee', sa.String(length=42), nullable=False),
    sa.PrimaryKeyConstraint('consent_id', 'resource_key')
    )
    connection = op.get_bind()
    consents = sa.table('consents', sa.column('consent_id', sa.String), sa.column('subject_id', sa.String),
                        sa.column('grantee', sa.String), sa.column('resources', sa.JSON))
    resources = sa.table('consent_resources', *(sa.column(c) for c in (
        'consent_id', 'resource_key', 'field_mask', 'subject_id', 'grantee')))
    after = ''
    while True:
        page = connection.execute(sa.select(consents).where(consents.c.consent_id > after)
                                  .order_by(consents.c.consent_id).limit(_PAGE)).all()
        if not page:
            break
        rows = [{'consent_id': c.consent_id, 'resource_key': key, 'field_mask': str(mask),
                 'subject_id': c.subject_id, 'grantee': c.grantee}
                for c in page for key, mask in c.resources]
        if rows:
            connection.execute(resources.insert(), rows)
        after = page[-1].consent_id
    op.create_index('ix_consent_resources_lookup', 'consent_resources', ['subject_id', 'grantee', 'resource_key'])
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_column('resources')


def downgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resources', sa.JSON(), nullable=False, server_default='[]'))
    connection = op.get_bind()
    pairs: dict[str, list] = {}
    for consent_id, key, mask in connection.execute(sa.text(
            'SELECT consent_id, resource_key, field_mask FROM consent_resources ORDER BY consent_id')):
        pairs.setdefault(consent_id, []).append([key, mask])
    consents = sa.table('consents', sa.column('consent_id', sa.String), sa.column('resources', sa.JSON))
    for consent_id, listed in pairs.items():
        connection.execute(consents.update().where(consents.c.consent_id == consent_id).values(resources=listed))
    op.drop_index('ix_consent_resources_lookup', table_name='consent_resources')
    op.drop_table('consent_resources')
