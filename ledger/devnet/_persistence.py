"""Keeping the chain durable while it runs: block records in the journal and state dumps.

* :class:`BlockRecorder` follows new heads (``eth_subscribe newHeads`` over IPC) and appends a
  ``blk`` record for every block with transactions, so recovery can recreate blocks exactly.
* :class:`StateDumper` takes ``anvil_dumpState`` (gzip'ed JSON) after new blocks, at most every
  ``min_interval`` seconds (stretched to 10x the last dump's duration on large chains), and
  writes it atomically (temp file, fsync, rename). Anvil's own ``--state-interval`` rewrites
  its file in place, which a crash mid-write leaves truncated and unloadable.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import os
import time
from pathlib import Path

from ledger.devnet._ipc import IpcConnection, UpstreamUnavailable
from ledger.devnet._journal import Journal

log = logging.getLogger("ledger.devnet")

_FETCH_CHUNK = 64
_MARK_INTERVAL = 30.0


class BlockRecorder:
    def __init__(self, ipc_path: str, journal: Journal, last_recorded: int, on_progress=None):
        self.journal = journal
        self.last = last_recorded
        self.on_progress = on_progress
        self._wake = asyncio.Event()
        self._conn = IpcConnection(ipc_path, on_notification=lambda _message: self._wake.set())

    async def run(self) -> None:
        await self._conn.connect()
        await self._conn.call("eth_subscribe", ["newHeads"])
        self._wake.set()  # catch up with blocks mined before the subscription
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.catch_up()

    async def catch_up(self) -> None:
        head = int(await self._conn.call("eth_blockNumber"), 16)
        while self.last < head:
            numbers = range(self.last + 1, min(head, self.last + _FETCH_CHUNK) + 1)
            blocks = await asyncio.gather(*(self._conn.call("eth_getBlockByNumber", [hex(n), False])
                                            for n in numbers))
            writes = [self.journal.append({"k": "blk", "n": int(b["number"], 16), "ts": int(b["timestamp"], 16),
                                           "bf": b.get("baseFeePerGas"), "txs": b["transactions"]})
                      for b in blocks if b and b["transactions"]]
            if writes:
                await asyncio.gather(*writes)
            self.last = numbers[-1]
        if self.on_progress is not None:
            self.on_progress(self.last)

    async def close(self) -> None:
        await self._conn.close()


class StateDumper:
    def __init__(self, ipc_path: str, path: Path, journal: Journal, recorder: BlockRecorder, min_interval: float = 1.0):
        self.path = path
        self.journal = journal
        self.recorder = recorder
        self.min_interval = min_interval
        self._conn = IpcConnection(ipc_path)
        self._dirty = asyncio.Event()
        self._not_before = 0.0
        self._last_mark = (0.0, -1)
        self.dumps = 0
        self.last_duration = 0.0
        self._current: asyncio.Future | None = None

    def notify(self, _head: int | None = None) -> None:
        self._dirty.set()

    async def run(self) -> None:
        while True:
            await self._dirty.wait()
            delay = self._not_before - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._dirty.clear()
            # Shielded: cancelling run() at shutdown must not abandon a dump half-way (its file
            # write would go on in a thread and could land after the final dump).
            self._current = asyncio.ensure_future(self.dump())
            try:
                await asyncio.shield(self._current)
            except (UpstreamUnavailable, OSError) as exc:
                log.error("state dump failed: %s", exc)
                self._not_before = time.monotonic() + max(self.min_interval, 1.0)

    async def drain(self) -> None:
        """Wait for a dump in progress to finish."""
        if self._current is not None and not self._current.done():
            await asyncio.wait([self._current])

    async def dump(self) -> None:
        started = time.monotonic()
        recorded = self.recorder.last  # every block up to here is in the journal already
        state_hex = await self._conn.call("anvil_dumpState")
        await asyncio.to_thread(_write_atomic, self.path, bytes.fromhex(state_hex[2:]))
        self.dumps += 1
        self.last_duration = time.monotonic() - started
        self._not_before = time.monotonic() + max(self.min_interval, 10 * self.last_duration)
        last_time, last_n = self._last_mark
        if recorded > last_n and time.monotonic() - last_time >= _MARK_INTERVAL:
            self.journal.append_later({"k": "mark", "n": recorded})
            self._last_mark = (time.monotonic(), recorded)

    async def close(self) -> None:
        await self._conn.close()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def prepare_state_file(state: Path, target: Path) -> Path | None:
    """Unpack the last dump into ``target`` for ``anvil --load-state``; None if there is none usable."""
    if not state.exists():
        return None
    try:
        data = gzip.decompress(state.read_bytes())
    except (OSError, EOFError) as exc:
        quarantine(state, f"unreadable ({exc})")
        return None
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return target


def quarantine(state: Path, why: str) -> None:
    bad = state.with_name(f"{state.name}.bad-{int(time.time())}")
    log.error("state dump %s is %s: moved to %s; the chain is rebuilt from genesis and the journal", state, why, bad)
    state.replace(bad)
