"""What an operator holding the database can do to the audit log: read its rows, and append forged
entries at the end before anchoring (stop the API, insert, restart: the API loads the rows and
anchors them as its own). An altered old entry is caught by the roots already anchored; a forged
tail is what the verifier's other checks must catch."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bench.local_system import LocalSystem
from ledger.audit.entry import AuditEntry, decode_leaf, encode_leaf
from ledger.audit.hasher import hash_leaf
from ledger.chain.client import Chain, Deployment

_COLUMNS = "seq, leaf, leaf_hash, requester, subject_id, consent_id, decision"


def entries(running: LocalSystem) -> list[AuditEntry]:
    with closing(sqlite3.connect(running.home / "ledger.db", timeout=30)) as connection:
        return [decode_leaf(leaf) for (leaf,) in connection.execute("SELECT leaf FROM audit_entries ORDER BY seq")]


def chain(running: LocalSystem) -> Chain:
    return Chain(running.rpc_url, deployment=Deployment.load(running.home / "deployment.json"))


def head(running: LocalSystem) -> tuple[int, datetime]:
    """The chain head's number and timestamp."""
    with closing(chain(running)) as c:
        block = c.block("latest")
    return int(block["number"], 16), datetime.fromtimestamp(int(block["timestamp"], 16), UTC)


def anchored_size(running: LocalSystem) -> int:
    with closing(chain(running)) as c:
        return int(c.contract("AuditAnchor").call("latest")[1])


def wait_anchored(running: LocalSystem, size: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while anchored_size(running) < size:
        if time.monotonic() > deadline:
            raise AssertionError(f"tree size {size} not anchored within {timeout}s")
        time.sleep(0.2)


def now() -> datetime:
    return datetime.now(UTC)


def later(seconds: float) -> datetime:
    return now() + timedelta(seconds=seconds)


def forge(template: AuditEntry, **changes) -> AuditEntry:
    """``template`` with ``changes``; an ALLOW gets a payload hash (the operator can make up any)."""
    forged = replace(template, **changes)
    if forged.decision == "ALLOW" and forged.payload_hash is None:
        forged = replace(forged, payload_hash="0x" + "5a" * 32)
    return forged


def append_forged(running: LocalSystem, *forged: AuditEntry) -> list[int]:
    """Stop the API, append ``forged`` (renumbered to follow the log), restart; returns their seqs
    once the restarted API has anchored them."""
    running.stop("api")
    with closing(sqlite3.connect(running.home / "ledger.db", timeout=30)) as connection, connection:
        (count,) = connection.execute("SELECT count(*) FROM audit_entries").fetchone()
        seqs = []
        for offset, entry in enumerate(forged):
            entry = replace(entry, seq=count + offset)
            leaf = encode_leaf(entry)
            connection.execute(f"INSERT INTO audit_entries ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (entry.seq, leaf, hash_leaf(leaf), entry.requester, entry.subject_id,
                                entry.consent_id, entry.decision))
            seqs.append(entry.seq)
    running.start_api()
    wait_anchored(running, count + len(forged))
    return seqs
