"""A named, time-bound lease in the database: the leader, the one instance that integrates the log
and anchors it.

Every instance calls :meth:`Lease.hold` every second. It takes the lease when the row is missing
or expired, renews it when already held, and reports whether this instance holds it now. A holder
that dies stops renewing and another instance takes over once ``ttl`` (5 s) has passed: within
6 s of the last renewal, inside the 10 s the deployment promises.

Each change of holder bumps ``term``, a fencing token: the leader's writes renew the lease under
the term it holds in their own transaction (:meth:`Lease.fence`), which locks the row, so a
deposed leader (stalled past its lease, then resumed) changes nothing. Anchoring confirms the
term the same way just before it sends (:meth:`Lease.confirm`).

Why a row and not a PostgreSQL advisory lock: a session lock says who holds it, but not that a
write comes from its holder. The integrator writes over pooled connections, so a leader whose lock
session dropped would go on writing until it noticed; the term, checked in the writing transaction,
is needed either way. The row is that token, and it works alike on SQLite and PostgreSQL. What an
advisory lock would add is a faster takeover when a process dies (its session closes at once), at
the cost of a second mechanism, and a hung leader with its session open would hold it for ever;
the lease expires.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger.storage.models import AuditLeaseRow


class LeaseLost(Exception):
    """This instance no longer holds the lease; it must not write as the leader."""


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

    def fence(self, connection: Connection) -> None:
        """Renew the lease under the term held, in the caller's transaction, locking the lease row
        until it ends; raises :class:`LeaseLost` (and forgets the term) if the lease moved on."""
        term = self.term
        if term is None:
            raise LeaseLost(f"{self.holder} does not hold the {self.name} lease")
        table = AuditLeaseRow.__table__
        renewed = connection.execute(update(table).where(table.c.name == self.name, table.c.holder == self.holder,
                                                         table.c.term == term)
                                     .values(expires_at_ms=now_ms() + self.ttl_ms).returning(table.c.term)).first()
        if renewed is None:
            self.term = None
            raise LeaseLost(f"the {self.name} lease moved on from term {term}")

    def confirm(self) -> bool:
        """Whether this instance still holds the lease, renewed now (in a transaction of its own)."""
        try:
            with self.engine.begin() as connection:
                self.fence(connection)
        except LeaseLost:
            return False
        return True

    def release(self) -> None:
        """Give the lease up at once (a clean shutdown), so another instance need not wait for it to expire."""
        if self.term is None:
            return
        table = AuditLeaseRow.__table__
        with self.engine.begin() as connection:
            connection.execute(update(table).where(table.c.name == self.name, table.c.holder == self.holder,
                                                   table.c.term == self.term).values(expires_at_ms=0))
        self.term = None
