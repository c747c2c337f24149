"""Alembic environment: runs against the engine the caller passes in ``config.attributes``."""

from alembic import context
from sqlalchemy import create_engine

from ledger.settings import Settings
from ledger.storage.models import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(Settings.from_env().database_url)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
