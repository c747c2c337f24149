"""A named, time-bound lease in the database: which instance integrates the log and anchors it.

Every instance calls :meth:`Lease.hold` every few seconds. It takes the lease when the row is
missing or expired, renews it when already held, and reports whether this instance holds it now.
A holder that dies stops renewing and another instance takes over once ``ttl`` has passed.
Each change of holder bumps ``term``, so work done under a lost lease can be told apart (the
integrator writes only while the term it read is still current, in the same transaction).
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger.storage.models import AuditLeaseRow


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Lease:
    def __init__(self, engine: Engine, name: str, holder: str, *, ttl: float = 5.0):
        self.engine = engine
        self.name = name
        self.holder = holder
        self.ttl_ms = int(ttl * 1000)
        self.term: int | None = None  # the term this instance holds, None when it does not

    def hold(self) -> bool:
        """Take or renew the lease; True while this instance holds it."""
        table = AuditLeaseRow.__table__
        now = now_ms()
        with self.engine.begin() as connection:
            row = connection.execute(select(table).where(table.c.name == self.name).with_for_update()).first()
            if row is None:
                insert = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(table)
                won = connection.execute(insert.values(name=self.name, holder=self.holder, term=1,
                                                       expires_at_ms=now + self.ttl_ms)
                                         .on_conflict_do_nothing().returning(table.c.term)).first()
                self.term = 1 if won else None
            elif row.holder == self.holder or row.expires_at_ms < now:
                term = row.term if row.holder == self.holder else row.term + 1
                # Guarded by the values just read: a rival that moved first wins, and this one stands down.
                won = connection.execute(update(table).where(table.c.name == self.name, table.c.term == row.term,
                                                              table.c.holder == row.holder)
                                         .values(holder=self.holder, term=term, expires_at_ms=now + self.ttl_ms)
                                         .returning(table.c.term)).first()
                self.term = term if won else None
            else:
                self.term = None
        return self.term is not None

    def release(self) -> None:
        """Give the lease up at once (a clean shutdown), so another instance need not wait for it to expire."""
        if self.term is None:
            return
        table = AuditLeaseRow.__table__
        with self.engine.begin() as connection:
            connection.execute(update(table).where(table.c.name == self.name, table.c.holder == self.holder,
                                                   table.c.term == self.term).values(expires_at_ms=0))
        self.term = None
