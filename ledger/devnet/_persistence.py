"""Keeping the chain durable while it runs: block records in the journal and state dumps.

* :class:`BlockRecorder` follows new heads (``eth_subscribe newHeads`` over IPC) and appends a
  ``blk`` record for every block with transactions, so recovery can recreate blocks exactly.
* :class:`StateDumper` takes ``anvil_dumpState`` (gzip'ed JSON) after new blocks, when
  :class:`DumpPolicy` says one is due, with mining paused (:func:`paused_dump`), and writes it
  atomically (temp file, fsync, rename). Anvil's own ``--state-interval`` rewrites its file in
  place, which a crash mid-write leaves truncated and unloadable.

A dump serialises anvil's whole state, every block and transaction included, and no block is
mined meanwhile, so its cost grows with the chain. Between dumps the journal holds every admitted transaction and recovery
replays it, so dumps can grow rarer as they grow dearer: the policy spaces them so dumping
takes at most a fraction of wall time (within a floor and a ceiling), and brings one forward
once the work journaled since the last one would take too long to replay (never so far that
dumping takes more than a quarter of the time).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ledger.devnet._ipc import IpcConnection, UpstreamUnavailable
from ledger.devnet._journal import Journal

log = logging.getLogger("ledger.devnet")

_FETCH_CHUNK = 64
_MARK_INTERVAL = 30.0
_DUMP_TRIES = 5
_FORCED_SPACING = 3.0  # a forced dump waits this many times the last one's duration
_RESUME_BLOCKS = 100  # blocks mined at most for what arrived during a dump (the next arrival takes the rest)


@dataclass(frozen=True, slots=True)
class DumpPolicy:
    """When the next state dump is due (the ``[persistence]`` settings of ``devnet.toml``)."""

    #: Seconds between dumps at least (unless the replay budget asks for one), and at most.
    min_interval: float = 1.0
    max_interval: float = 3600.0
    #: Share of wall time spent dumping, which sets the interval from the last dump's duration.
    time_fraction: float = 0.05
    #: Seconds a replay of the journal since the last dump may take, estimated from its gas.
    replay_budget: float = 10.0
    replay_gas_per_s: float = 50_000_000.0

    def interval(self, last_duration: float) -> float:
        """Seconds from the end of a dump that took ``last_duration`` to the start of the next
        (the floor wins over the ceiling)."""
        return max(self.min_interval, min(self.max_interval, last_duration / self.time_fraction))

    def replay_due(self, gas_since_dump: int) -> bool:
        """Whether the blocks mined since the last dump would take the whole replay budget."""
        return gas_since_dump >= self.replay_budget * self.replay_gas_per_s

    def forced_interval(self, last_duration: float) -> float:
        """Seconds before a dump the replay budget asks for, floor or not: three times as long as the
        last one took, so dumping takes at most a quarter of the time, however heavy the load."""
        return _FORCED_SPACING * last_duration


class BlockRecorder:
    def __init__(self, ipc_path: str, journal: Journal, last_recorded: int, on_progress=None):
        self.journal = journal
        self.last = last_recorded
        #: Gas of the blocks followed since start-up: the replay work a crash would leave.
        self.gas = 0
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
            self.gas += sum(int(b["gasUsed"], 16) for b in blocks if b)
            self.last = numbers[-1]
        if self.on_progress is not None:
            self.on_progress(self.last)

    async def close(self) -> None:
        await self._conn.close()


class StateDumper:
    """Takes the dumps :class:`DumpPolicy` asks for, with mining paused.

    ``anvil_dumpState`` reads the block list before the accounts, and anvil commits a block's
    accounts before it lists the block, so a block mined during a dump can land in its accounts
    and not in its blocks: a chain whose replay refuses that block (its nonces are used) and
    loses its receipts. So mining pauses for the dump (transactions are still accepted and wait
    in anvil's pool), and a dump that a block still slipped into is thrown away.
    """

    def __init__(self, ipc_path: str, path: Path, journal: Journal, recorder: BlockRecorder,
                 policy: DumpPolicy = DumpPolicy(), block_time: int = 0):
        self.path = path
        self.journal = journal
        self.recorder = recorder
        self.policy = policy
        self.block_time = block_time
        self._conn = IpcConnection(ipc_path)
        self._dirty = asyncio.Event()
        self._replay_due = asyncio.Event()
        self._not_before = 0.0  # when the next dump is due
        self._earliest = 0.0  # when the replay budget may ask for one
        self._gas_dumped = 0  # recorder.gas when the last dump started
        self._last_mark = (0.0, -1)
        self.dumps = 0
        self.torn = 0
        self.last_duration = 0.0
        self._current: asyncio.Future | None = None

    def notify(self, _head: int | None = None) -> None:
        self._dirty.set()
        if self.policy.replay_due(self.recorder.gas - self._gas_dumped):
            self._replay_due.set()

    async def run(self) -> None:
        while True:
            await self._dirty.wait()
            delay = self._not_before - time.monotonic()
            if delay > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._replay_due.wait(), delay)
                await asyncio.sleep(max(0.0, self._earliest - time.monotonic()))
            self._dirty.clear()
            self._replay_due.clear()
            # Shielded: cancelling run() at shutdown must not abandon a dump half-way (its file
            # write would go on in a thread and could land after the final dump).
            self._current = asyncio.ensure_future(self.dump())
            try:
                taken = await asyncio.shield(self._current)
            except (UpstreamUnavailable, OSError) as exc:
                log.error("state dump failed: %s", exc)
                taken = False
            if not taken:  # a retry must not spin, however overdue the replay budget says it is
                self._dirty.set()
                await asyncio.sleep(max(self.policy.min_interval, 1.0))

    async def drain(self) -> None:
        """Wait for a dump in progress to finish."""
        if self._current is not None and not self._current.done():
            await asyncio.wait([self._current])

    async def dump(self) -> bool:
        """Take a dump; False if a block came into it after all (then the file is left as it was)."""
        started = time.monotonic()
        recorded = self.recorder.last  # every block up to here is in the journal already
        gas = self.recorder.gas
        head, state = await paused_dump(self._conn, self.block_time)
        self.last_duration = time.monotonic() - started
        interval = self.policy.interval(self.last_duration)
        self._not_before = time.monotonic() + interval
        self._earliest = time.monotonic() + self.policy.forced_interval(self.last_duration)
        if state is None:
            self.torn += 1
            log.warning("state dump at block %d thrown away: a block was mined during it", head)
            return False
        await asyncio.to_thread(write_atomic, self.path, bytes.fromhex(state[2:]))
        self._gas_dumped = gas
        self.dumps += 1
        log.debug("state dump %d at block %d: %.3f s, %d hex chars; the next one %.1f s later at the soonest",
                  self.dumps, head, self.last_duration, len(state), interval)
        last_time, last_n = self._last_mark
        if recorded > last_n and time.monotonic() - last_time >= _MARK_INTERVAL:
            self.journal.append_later({"k": "mark", "n": recorded})
            self._last_mark = (time.monotonic(), recorded)
        return True

    async def close(self) -> None:
        await self._conn.close()


async def paused_dump(conn: IpcConnection, block_time: int) -> tuple[int, str | None]:
    """``anvil_dumpState`` with mining paused: (head, hex of the gzip'ed state), or (head, None) when a
    block was still mined into it. ``block_time``: the mining mode to resume (0: instant)."""
    await conn.call("evm_setIntervalMining", [0])  # no new batch of transactions is taken up
    try:
        # The batch anvil was mining when the pause began still lands, a block after another:
        # wait until the head rests, and try again if a block came in anyway.
        for _ in range(_DUMP_TRIES):
            head = await _resting_head(conn)
            state = await conn.call("anvil_dumpState")
            if int(await conn.call("eth_blockNumber"), 16) == head:
                return head, state
        return head, None
    finally:
        await _resume_mining(conn, block_time)


async def _resting_head(conn: IpcConnection, every: float = 0.05, timeout: float = 120.0) -> int:
    """The head once it has rested for twice the longest gap between the blocks still landing (at
    least three polls), or after ``timeout``: anvil mines a batch it took up block after block."""
    deadline = time.monotonic() + timeout
    head = int(await conn.call("eth_blockNumber"), 16)
    moved = time.monotonic()
    longest_gap = 0.0
    while time.monotonic() < deadline:
        await asyncio.sleep(every)
        now, at = int(await conn.call("eth_blockNumber"), 16), time.monotonic()
        if now != head:
            head, longest_gap, moved = now, max(longest_gap, at - moved), at
        elif at - moved >= max(3 * every, 2 * longest_gap):
            break
    return head


async def _resume_mining(conn: IpcConnection, block_time: int) -> None:
    if block_time:
        await conn.call("evm_setIntervalMining", [block_time])
        return
    await conn.call("evm_setAutomine", [True])
    # Instant mining starts on a transaction's arrival: mine what arrived during the pause (a
    # block takes what fits its gas limit), and stop at the first empty block (the instant miner
    # took them first), so no run of empty blocks is left for recovery to recreate.
    for _ in range(_RESUME_BLOCKS):
        if not int((await conn.call("txpool_status")).get("pending", "0x0"), 16):
            break
        await conn.call("evm_mine")
        if not (await conn.call("eth_getBlockByNumber", ["latest", False]))["transactions"]:
            break


def write_atomic(path: Path, data: bytes) -> None:
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
