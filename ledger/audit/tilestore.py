"""The audit tree's tiles in the ``audit_tiles`` table: one row per tile, holding it at its widest.

A partial tile grows in place until it is full; a narrower version is always a prefix of the stored
one, so the ``.p/<W>`` tile of any checkpointed size is read from the same row.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import Connection, Engine, and_, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from ledger.audit.tiles import TileId
from ledger.storage.models import AuditTileRow

_TABLE = AuditTileRow.__table__
_MAX_KEYS = 200  # tiles per SELECT: a proof needs a dozen, a reload a handful


@lru_cache(maxsize=64)
def _select(count: int):
    """SELECT of ``count`` tiles by key, one statement object per count so its compiled form is
    cached: an OR of key equalities, which SQLite answers from the primary key (a row-value IN
    would scan the table)."""
    return select(_TABLE.c.level, _TABLE.c.idx, _TABLE.c.data).where(or_(*(
        and_(_TABLE.c.level == bindparam(f"l{i}"), _TABLE.c.idx == bindparam(f"i{i}")) for i in range(count))))


def read_tiles(connection: Connection, ids: Iterable[TileId]) -> dict[TileId, bytes]:
    """The stored tiles among ``ids`` (missing ones are absent from the result)."""
    ids = sorted(set(ids))
    found: dict[TileId, bytes] = {}
    for start in range(0, len(ids), _MAX_KEYS):
        chunk = ids[start:start + _MAX_KEYS]
        params = {f"{kind}{i}": v for i, (level, idx) in enumerate(chunk) for kind, v in (("l", level), ("i", idx))}
        for level, idx, data in connection.execute(_select(len(chunk)), params):
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
