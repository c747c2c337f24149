"""The anchorer: a backlog past the contract's step is anchored in consecutive steps at once, each
no larger than the contract takes, and the lag it reports falls to zero."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ledger.audit.anchoring import Anchorer
from ledger.storage.database import make_engine, make_sessionmaker, migrate

pytestmark = pytest.mark.unit

STEP = 10


@dataclass
class _Receipt:
    tx_hash: str
    block_number: int


class _AuditAnchor:
    """The contract's rules that matter here: sizes strictly grow, by at most ``maxTreeSizeStep``."""

    def __init__(self):
        self.sizes = [0]

    def call(self, name: str, *args):
        return {"latest": (0, self.sizes[-1], b"\0" * 32, 0), "maxTreeSizeStep": STEP}[name]

    def transact(self, name: str, size: int, root: bytes, *, sender: str) -> _Receipt:
        assert name == "anchor" and self.sizes[-1] < size <= self.sizes[-1] + STEP
        self.sizes.append(size)
        return _Receipt("0x" + f"{len(self.sizes):064x}", len(self.sizes))


class _Log:
    def __init__(self, size: int):
        self.size = size

    def head(self) -> tuple[int, bytes]:
        return self.size, self.root(self.size)

    def root(self, size: int) -> bytes:
        return size.to_bytes(32, "big")


def test_catch_up_anchors_a_backlog_in_consecutive_steps(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    contract, audit = _AuditAnchor(), _Log(35)
    anchorer = Anchorer(audit, contract, make_sessionmaker(engine), sender="0x" + "11" * 20)
    anchorer.load()
    assert anchorer.catch_up() == 4
    assert contract.sizes == [0, 10, 20, 30, 35]
    assert anchorer.lag_seconds() == 0
    assert anchorer.catch_up() == 0  # nothing new: no transaction


def test_catch_up_sends_nothing_unless_leading(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    contract = _AuditAnchor()
    anchorer = Anchorer(_Log(35), contract, make_sessionmaker(engine), sender="0x" + "11" * 20,
                        is_leader=lambda: False)
    anchorer.load()
    assert anchorer.catch_up() == 0 and contract.sizes == [0]
