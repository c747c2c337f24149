"""A big audit log, made in minutes: a system's own log extended by bulk insert to N entries.

The scale benchmarks need logs of millions of entries that the regulator's verifier accepts as
it accepts a log the release path wrote. Writing them through the release path would take hours,
so :func:`extend` clones entries the release path really wrote (the *templates*: a system's log
after the release mix ran, every decision made by the live policy) with new seqs and times:

- every clone repeats a real query and its real decision, citing ``block`` (the chain head when
  the builder runs, with no transaction since the templates' blocks that could change a decision:
  the world's consents have no use limit and last 30 days); an ALLOW clone gets a fresh payload
  hash (the regulator cannot see payloads) and counts as one more use of its consent;
- times rise from the later of ``block``'s timestamp and the log's newest entry to the moment the
  builder started, so every clone is stamped after its block and before the next one (mined
  later, by the anchor that covers them);
- rows, ``audit_sequence`` and ``consent_uses`` are written as sequencing writes them, then the
  production :class:`~ledger.audit.integrate.Integrator` builds the tiles and signs the
  checkpoint with the log's own key. The API anchors that checkpoint when it next starts.

Leaves are rendered from each template's canonical encoding with the varying parts cut out, and
a sample is decoded and re-encoded, so a drifted encoding fails loudly.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from ledger.audit.entry import AuditEntry, decode_leaf, encode_leaf, format_time
from ledger.audit.hasher import hash_leaf
from ledger.audit.integrate import Integrator
from ledger.audit.lease import Lease
from ledger.audit.note import Checkpoint, NoteSigner
from ledger.storage.models import AuditEntryRow, AuditSequenceRow, ConsentUseRow

_CHUNK = 50_000
_SEQ_MARK = 987_654_321_987
_TIME_MARK = datetime(2001, 2, 3, 4, 5, 6, 789_000, tzinfo=UTC)
_PAYLOAD_MARK = "0x" + "fe" * 32


@dataclass(frozen=True)
class Extended:
    first_seq: int
    size: int
    checkpoint: Checkpoint
    insert_s: float
    integrate_s: float


class _LeafFormat:
    """One template's canonical leaf as a format string over (seq, time, payload hash)."""

    def __init__(self, template: AuditEntry, block: int):
        self.template = template
        probe = replace(template, seq=_SEQ_MARK, time=_TIME_MARK, block_number=block,
                        payload_hash=_PAYLOAD_MARK if template.payload_hash else None)
        text = encode_leaf(probe).decode().replace("{", "{{").replace("}", "}}")
        for mark, slot in ((f'"seq":{_SEQ_MARK}', '"seq":{0}'), (format_time(_TIME_MARK), "{1}"),
                           (_PAYLOAD_MARK, "{2}")):
            if text.count(mark) > 1:
                raise AssertionError(f"template field clashes with the leaf format's mark {mark!r}")
            text = text.replace(mark, slot)
        self._format = text.format

    def leaf(self, seq: int, when: str, payload: str) -> bytes:
        return self._format(seq, when, payload).encode()


def templates_from(engine: Engine, limit: int = 10_000) -> list[AuditEntry]:
    """The log's entries so far (its first ``limit``), to clone."""
    with engine.connect() as connection:
        leaves = connection.scalars(select(AuditEntryRow.leaf).order_by(AuditEntryRow.seq).limit(limit)).all()
    return [decode_leaf(leaf) for leaf in leaves]


def extend(engine: Engine, entries: int, templates: list[AuditEntry], *, block: int, block_time: int,
           signer: NoteSigner, origin: str, progress: Callable[[str, int], None] | None = None) -> Extended:
    """Append ``entries`` clones of ``templates`` citing ``block`` (timestamp ``block_time`` s), then
    integrate and sign; the API must not be running."""
    formats = [_LeafFormat(t, block) for t in templates]
    started_ms = time.time_ns() // 1_000_000
    sequence = AuditSequenceRow.__table__
    with engine.connect() as connection:
        first, last_ms = connection.execute(select(sequence.c.next_seq, sequence.c.last_time_ms)).one()
    start_ms = max(block_time * 1000, last_ms)
    span = max(0, started_ms - start_ms)
    uses: Counter[str] = Counter()
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    columns = ("seq", "leaf", "leaf_hash", "requester", "subject_id", "consent_id", "decision", "committed_at_ms")
    insert = (f"INSERT INTO {AuditEntryRow.__tablename__} ({', '.join(columns)}) "
              f"VALUES ({', '.join([mark] * len(columns))})")
    began = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cycle = itertools.cycle(formats)
        shown_ms, shown = -1, ""
        for chunk_start in range(0, entries, _CHUNK):
            rows = []
            for i in range(chunk_start, min(entries, chunk_start + _CHUNK)):
                fmt = next(cycle)
                t = fmt.template
                at_ms = start_ms + span * i // entries
                if at_ms != shown_ms:
                    shown_ms, shown = at_ms, format_time(datetime.fromtimestamp(at_ms / 1000, UTC))
                seq = first + i
                allowed = t.decision == "ALLOW"
                payload = "0x" + hashlib.sha256(seq.to_bytes(8, "big")).hexdigest() if allowed else ""
                leaf = fmt.leaf(seq, shown, payload)
                if allowed and t.consent_id:
                    uses[t.consent_id] += 1
                rows.append((seq, leaf, hash_leaf(leaf), t.requester, t.subject_id, t.consent_id, t.decision,
                             started_ms))
            if chunk_start == 0:
                _check_canonical([r[1] for r in rows[:len(formats) * 2]])
            cursor.executemany(insert, rows)
            raw.commit()
            if progress:
                progress("insert", min(entries, chunk_start + _CHUNK))
        last_time = start_ms + span * (entries - 1) // entries if entries else last_ms
        cursor.execute(f"UPDATE {AuditSequenceRow.__tablename__} SET next_seq = {mark}, last_time_ms = {mark} "
                       f"WHERE id = 1", (first + entries, max(last_ms, last_time)))
        for consent_id, count in uses.items():
            cursor.execute(f"INSERT INTO {ConsentUseRow.__tablename__} (consent_id, used) VALUES ({mark}, {mark}) "
                           f"ON CONFLICT (consent_id) DO UPDATE SET used = {ConsentUseRow.__tablename__}.used + "
                           f"excluded.used", (consent_id, count))
        raw.commit()
        cursor.close()
    finally:
        raw.close()
    insert_s = time.perf_counter() - began

    began = time.perf_counter()
    lease = Lease(engine, "integrator", "bench-biglog")
    if not lease.hold():
        raise RuntimeError("another process holds the integrator lease: stop the API first")
    try:
        integrator = Integrator(engine, lease, signer, origin)
        checkpoint = integrator.integrate_all((lambda size: progress("integrate", size)) if progress else None)
    finally:
        lease.release()
    if checkpoint is None or checkpoint.size != first + entries:
        raise RuntimeError(f"integration ended at {checkpoint and checkpoint.size}, not {first + entries}")
    return Extended(first, first + entries, checkpoint, insert_s, time.perf_counter() - began)


def _check_canonical(leaves: list[bytes]) -> None:
    for leaf in leaves:
        if encode_leaf(decode_leaf(leaf)) != leaf:
            raise AssertionError(f"cloned leaf is not canonical: {leaf!r}")
