"""The audit tree's tiles in the ``audit_tiles`` table: one row per tile, holding it at its widest.

A partial tile grows in place until it is full; a narrower version is always a prefix of the stored
one, so the ``.p/<W>`` tile of any checkpointed size is read from the same row.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

from ledger.audit.tiles import TileId
from ledger.storage.models import AuditTileRow

_TABLE = AuditTileRow.__table__
_MAX_KEYS = 200  # tiles per SELECT: a proof needs a dozen, a reload a handful


@lru_cache(maxsize=128)
def _select(count: int, paramstyle: str) -> str:
    """SELECT of ``count`` tiles by key: an OR of key equalities, which SQLite answers from the
    primary key (a row-value IN would scan the table). Sent as the driver's own SQL, since a proof
    is one such read and SQLAlchemy's statement machinery would cost more than the read itself."""
    mark = "?" if paramstyle == "qmark" else "%s"
    keys = " OR ".join([f"(level = {mark} AND idx = {mark})"] * count)
    return f"SELECT level, idx, data FROM {_TABLE.name} WHERE {keys}"


def read_tiles(connection: Connection, ids: Iterable[TileId]) -> dict[TileId, bytes]:
    """The stored tiles among ``ids`` (missing ones are absent from the result)."""
    ids = sorted(set(ids))
    found: dict[TileId, bytes] = {}
    paramstyle = connection.dialect.paramstyle
    for start in range(0, len(ids), _MAX_KEYS):
        chunk = ids[start:start + _MAX_KEYS]
        params = tuple(v for key in chunk for v in key)
        for level, idx, data in connection.exec_driver_sql(_select(len(chunk), paramstyle), params):
            found[(level, idx)] = bytes(data)
    return found


def write_tiles(connection: Connection, tiles: dict[TileId, bytes]) -> None:
    """Store (or widen) tiles, in the caller's transaction."""
    if not tiles:
        return
    insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(_TABLE)
    statement = insert.on_conflict_do_update(index_elements=[_TABLE.c.level, _TABLE.c.idx],
                                             set_={"data": insert.excluded.data})
    connection.execute(statement, [{"level": level, "idx": idx, "data": data} for (level, idx), data in tiles.items()])


class TileReader:
    """``read_tiles`` over short-lived connections of an engine, for :class:`~ledger.audit.tiles.TiledTree`."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def __call__(self, ids: Iterable[TileId]) -> dict[TileId, bytes]:
        with self.engine.connect() as connection:
            return read_tiles(connection, ids)
