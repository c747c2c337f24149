"""The devnet's transaction journal: group commits, fsync'd appends, a torn tail cut off on read."""

from __future__ import annotations

import asyncio
import stat

import pytest

from ledger.devnet._journal import Journal, read_journal

pytestmark = pytest.mark.unit


def test_journal_group_commit_and_torn_tail(tmp_path):
    path = tmp_path / "tx-journal.jsonl"

    async def write():
        journal = Journal(path)
        await asyncio.gather(*(journal.append({"k": "tx", "seq": journal.next_seq(), "h": f"0x{i:064x}",
                                               "raw": "0x00", "ts": 1.0}) for i in range(50)))
        journal.append_later({"k": "rej", "seq": 3, "err": "nonce too low"})
        await journal.append({"k": "blk", "n": 7, "ts": 100, "bf": "0x7", "txs": ["0x" + "01" * 32]})
        await journal.close()

    asyncio.run(write())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open("ab") as fh:
        fh.write(b'{"k":"tx","seq":51,"h":"0x')  # crash in the middle of an append
    contents = read_journal(path)
    assert [tx.seq for tx in contents.txs] == list(range(1, 51))
    assert contents.rejected == {3}
    assert contents.blocks[7].base_fee == 7 and contents.recorded_to == 7
    assert contents.next_seq == 51
    assert path.read_bytes().endswith(b"\n")  # the torn record was cut off
