"""The transaction journal, ``<data>/devnet/tx-journal.jsonl``: one JSON object per line.

Records (``k`` = kind):

* ``{"k":"tx","seq":N,"h":hash,"raw":hex,"ts":unix}`` — a raw transaction the gateway admitted,
  written and fsync'ed *before* it is forwarded to anvil;
* ``{"k":"rej","seq":N,"err":msg}`` — anvil refused transaction N, so a replay skips it;
* ``{"k":"blk","n":number,"ts":timestamp,"bf":baseFee,"txs":[hash,...]}`` — a mined block with
  transactions, so a replay recreates it with the same number, timestamp, base fee and contents;
* ``{"k":"mark","n":number}`` — every block up to ``n`` has been recorded.

Appends use group commit: records queued while an fdatasync runs share the next one, so the
durability cost is paid once per batch instead of once per transaction.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson

log = logging.getLogger("ledger.devnet.journal")


@dataclass(slots=True)
class JournalTx:
    seq: int
    hash: str
    raw: str
    ts: float


@dataclass(slots=True)
class JournalBlock:
    number: int
    timestamp: int
    txs: list[str]
    base_fee: int | None = None


@dataclass(slots=True)
class JournalContents:
    txs: list[JournalTx] = field(default_factory=list)
    rejected: set[int] = field(default_factory=set)
    blocks: dict[int, JournalBlock] = field(default_factory=dict)
    recorded_to: int = 0

    @property
    def next_seq(self) -> int:
        return self.txs[-1].seq + 1 if self.txs else 1

    def tx_by_hash(self) -> dict[str, JournalTx]:
        """Latest journal entry of each hash (a re-submission after a refusal gets a new entry)."""
        return {tx.hash: tx for tx in self.txs}


def read_journal(path: Path) -> JournalContents:
    """Parse the journal; a torn last line (crash mid-append) is cut off the file."""
    contents = JournalContents()
    if not path.exists():
        return contents
    data = path.read_bytes()
    good_end = 0
    position = 0
    while position < len(data):
        newline = data.find(b"\n", position)
        if newline < 0:
            break  # unterminated tail: never acknowledged
        line = data[position:newline]
        try:
            record = orjson.loads(line)
            _apply(contents, record)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("journal %s: skipping an unreadable record at byte %d", path, position)
        position = newline + 1
        good_end = position
    if good_end < len(data):
        log.warning("journal %s: cutting a torn record of %d bytes", path, len(data) - good_end)
        with path.open("r+b") as fh:
            fh.truncate(good_end)
            os.fsync(fh.fileno())
    return contents


def _apply(contents: JournalContents, record: dict) -> None:
    kind = record["k"]
    if kind == "tx":
        contents.txs.append(JournalTx(int(record["seq"]), record["h"], record["raw"], float(record["ts"])))
    elif kind == "rej":
        contents.rejected.add(int(record["seq"]))
    elif kind == "blk":
        number = int(record["n"])
        base_fee = record.get("bf")
        contents.blocks[number] = JournalBlock(number, int(record["ts"]), list(record["txs"]),
                                               int(base_fee, 16) if base_fee else None)
        contents.recorded_to = max(contents.recorded_to, number)
    elif kind == "mark":
        contents.recorded_to = max(contents.recorded_to, int(record["n"]))


class Journal:
    """Appender with group commit; use from one event loop."""

    def __init__(self, path: Path, next_seq: int = 1):
        self.path = path
        self._seq = next_seq
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._queue: list[tuple[bytes, asyncio.Future | None]] = []
        self._flusher: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-fsync")

    def next_seq(self) -> int:
        seq, self._seq = self._seq, self._seq + 1
        return seq

    async def append(self, record: dict) -> None:
        """Append and wait until the record is on disk."""
        future = asyncio.get_running_loop().create_future()
        self._enqueue(orjson.dumps(record) + b"\n", future)
        await future

    def append_later(self, record: dict) -> None:
        """Append without waiting (the record rides along with the next group commit)."""
        self._enqueue(orjson.dumps(record) + b"\n", None)

    def _enqueue(self, line: bytes, future: asyncio.Future | None) -> None:
        self._queue.append((line, future))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    data = memoryview(b"".join(line for line, _ in batch))
                    while data:
                        data = data[os.write(self._fd, data):]
                    await loop.run_in_executor(self._executor, os.fdatasync, self._fd)
                except OSError as exc:
                    log.error("journal write failed: %s", exc)
                    for _, future in batch:
                        if future is not None and not future.done():
                            future.set_exception(exc)
                    continue
                for _, future in batch:
                    if future is not None and not future.done():
                        future.set_result(None)
        finally:
            self._flusher = None

    async def drain(self) -> None:
        while self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def close(self) -> None:
        await self.drain()
        os.close(self._fd)
        self._executor.shutdown(wait=True)
