"""Engine and sessions: SQLite by default (WAL, fsync on commit), any SQLAlchemy URL otherwise."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ledger.settings import Settings


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: ``Settings.from_env().database_url``)."""
    url = url or Settings.from_env().database_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5}, pool_size=8,
                               max_overflow=8)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            # FULL: a commit is on disk before it returns, so an audit entry survives a crash.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        # WAL is a property of the database file: set once here, not on every new connection
        # (changing the journal mode needs a lock that a busy database would make us wait for).
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=16)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    here = Path(__file__).resolve().parent
    config = Config()
    config.set_main_option("script_location", str(here / "migrations"))
    config.attributes["engine"] = engine
    command.upgrade(config, "head")
