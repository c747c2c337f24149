"""The devnet with many consents on chain: grant time, anvil's memory, dump cost and crash recovery.

A detached devnet (the supervisor dumping on its own policy meanwhile) gets ``consents`` consents
granted with ``Consents.grantBatch``, pipelined over the relayer keys (the grants benchmark's
code). Then, on that chain:

* one full state dump, taken exactly as the supervisor takes it (mining paused, ``anvil_dumpState``
  over the IPC socket, then written atomically with fsync), timed, with its size;
* anvil's resident memory;
* a ``kill -9`` of the supervisor and anvil, then a restart timed until the gateway answers:
  anvil loads the supervisor's last dump and the journal since it is replayed. The receipts of
  a sample of the grants are checked afterwards, so a recovery that lost them fails the run;
* optionally, the API's release p99 at c16 (the release benchmark's mix) with the supervisor's
  own dumps, then while anvil dumps without a break, as the supervisor dumps (mining paused) and
  bare (``anvil_dumpState`` with mining going on, as it dumped before): a request's worst case.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

from eth_account import Account

from bench import _grants
from bench._chain import operators
from bench._machine import rss_mb
from bench.local_system import LocalSystem
from ledger.chain.client import Chain
from ledger.devnet._ipc import IpcConnection
from ledger.devnet._journal import read_journal
from ledger.devnet._persistence import paused_dump, write_atomic
from ledger.eip712 import Domain
from ledger.identity import load_or_create_pepper

BATCH = 100
#: Consents signed and granted at a time, so a million never sit in memory at once.
CHUNK = 50_000
RECOVERY_TIMEOUT = 1800.0
#: Consents per subject: few subjects to register, since registering is not what is measured (nonces
#: are an unordered bitmap, so any count works; the chain stores a consent the same way whoever gave it).
PER_SUBJECT = 1000
_RECOVERED = re.compile(r"recovered in ([\d.]+) s: state dump at block (\d+), (\d+) blocks recreated, "
                        r"(\d+) transactions replayed")


async def _dump(ipc: Path, target: Path) -> tuple[float, float]:
    """One dump as the supervisor takes it: (seconds mining is paused, seconds writing the file)."""
    connection = IpcConnection(str(ipc))
    try:
        started = time.perf_counter()
        _, state = await paused_dump(connection, block_time=0)
        paused = time.perf_counter() - started
        if state is None:
            raise RuntimeError("a block was mined into the dump")
        started = time.perf_counter()
        await asyncio.to_thread(write_atomic, target, bytes.fromhex(state[2:]))
        return paused, time.perf_counter() - started
    finally:
        await connection.close()


class _Dumping:
    """Dumps back to back over anvil's IPC socket, in a thread, while the block runs: anvil dumping all
    the time, the worst a request can meet. ``paused``: as the supervisor dumps (mining paused), else
    a bare ``anvil_dumpState`` with mining going on, as the supervisor dumped before."""

    def __init__(self, ipc: Path, *, paused: bool):
        self.ipc, self.paused = ipc, paused
        self.dumps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        connection = IpcConnection(str(self.ipc))
        try:
            while not self._stop.is_set():
                if self.paused:
                    await paused_dump(connection, block_time=0)
                else:
                    await connection.call("anvil_dumpState")
                self.dumps += 1
        finally:
            await connection.close()

    def __enter__(self) -> "_Dumping":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def _release_while_dumping(system: LocalSystem, seconds: float, log) -> dict:
    """Release p99 at c16 (the release benchmark's mix) with the supervisor's own dumps only, then
    while anvil dumps all the time, paused-mining and bare."""
    from bench._loadgen import LoadSpec, run_load
    from bench._release import check_mix, mix_requests, summarize
    from bench._world import build_world

    system.start_api()
    world = build_world(system.api_url, citizens=8, unconsented=2)
    try:
        check_mix(world, system.api_url)
        host, port = "127.0.0.1", int(system.api_url.rsplit(":", 1)[1])
        requests = mix_requests(world, host, port)

        def c16() -> dict:
            return summarize(run_load(LoadSpec(host, port, requests, 16, seconds, 1.0)))

        out = {"policy": c16()}
        for name, paused in (("dumping_paused", True), ("dumping_bare", False)):
            with _Dumping(system.devnet_dir / "anvil.ipc", paused=paused) as dumping:
                out[name] = c16()
            out[name]["dumps"] = dumping.dumps
        for name in ("dumping_paused", "dumping_bare"):
            out[f"p99_ratio_{name}"] = round(out[name]["p99_ms"] / out["policy"]["p99_ms"], 2)
        log(f"devnet-scale: release c16 {out}")
        return out
    finally:
        world.close()
        system.stop("api")


def measure(consents: int, work: Path, log, *, release_seconds: float = 0.0) -> dict:
    """``release_seconds`` > 0: also the release p99 at c16 while anvil dumps, each for that long."""
    system = LocalSystem.create(work / "home")
    try:
        system.start_devnet_detached()
        system.deploy()
        system.activate()
        ops = operators(system.rpc_url)
        domain = Domain.from_eip5267(ops.chain.contract("Consents").call("eip712Domain"))
        grantee = Account.create().address
        pepper = load_or_create_pepper(system.home)
        register_s = presign_s = grant_s = 0.0
        receipts = []
        for first in range(0, consents, CHUNK):
            count = min(CHUNK, consents - first)
            started = time.perf_counter()
            subjects = _grants.register_subjects(ops, pepper, -(-count // PER_SUBJECT),
                                                 _grants.FIRST_SUBJECT + first // PER_SUBJECT)
            register_s += time.perf_counter() - started
            started = time.perf_counter()
            signed = _grants.presign(domain, subjects, grantee, count, per_subject=PER_SUBJECT)
            presign_s += time.perf_counter() - started
            elapsed, chunk_receipts = _grants.grant_batches(ops, signed, BATCH)  # raises on a revert
            grant_s += elapsed
            receipts += [receipt for receipt, _ in chunk_receipts]
            log(f"devnet-scale: {first + count} consents granted ({grant_s:.1f} s granting, {presign_s:.1f} s "
                f"pre-signing, {register_s:.1f} s registering subjects)")

        info = system.devnet_info()
        anvil_rss_mb = rss_mb(info["anvil_pid"])
        dump_file = work / "dump.json.gz"
        dump_s, write_s = asyncio.run(_dump(system.devnet_dir / "anvil.ipc", dump_file))
        journal = system.devnet_dir / "tx-journal.jsonl"
        section = {
            "consents": consents,
            "batch_size": BATCH,
            "transactions": len(receipts),
            "register_s": round(register_s, 2),
            "presign_s": round(presign_s, 2),
            "grant_s": round(grant_s, 2),
            "grants_per_s": round(consents / grant_s, 1),
            "anvil_rss_mb": round(anvil_rss_mb, 1),
            "dump_s": round(dump_s, 3),
            "dump_write_s": round(write_s, 3),
            "dump_mb": round(dump_file.stat().st_size / 2**20, 2),
            "journal_mb": round(journal.stat().st_size / 2**20, 2),
        }
        started = time.perf_counter()
        read_journal(journal)  # all of it, as every start does (nothing is appended now: no one sends)
        section["journal_read_s"] = round(time.perf_counter() - started, 2)
        log(f"devnet-scale: dump {section['dump_s']} s, {section['dump_mb']} MB; anvil RSS "
            f"{section['anvil_rss_mb']} MB; journal {section['journal_mb']} MB")

        head = ops.chain.block_number()
        sample = [receipts[i].tx_hash for i in range(0, len(receipts), max(1, len(receipts) // 20))]
        system.kill_devnet_detached()
        started = time.perf_counter()
        system.start_devnet_detached(timeout=RECOVERY_TIMEOUT)
        section["restart_s"] = round(time.perf_counter() - started, 2)
        recovered = _RECOVERED.findall((system.devnet_dir / "devnet.log").read_text())
        if recovered:
            replay_s, dumped_at, blocks, replayed = recovered[-1]
            section.update(replay_s=float(replay_s), replay_from_block=int(dumped_at),
                           replay_blocks=int(blocks), replay_transactions=int(replayed))
        else:  # the last dump was at the head: nothing to replay
            section.update(replay_s=0.0, replay_from_block=head, replay_blocks=0, replay_transactions=0)
        section["head"] = head
        chain = Chain(system.rpc_url)
        if chain.block_number() != head or any(chain.rpc.call("eth_getTransactionReceipt", [h]) is None
                                               for h in sample):
            raise RuntimeError("recovery after kill -9 lost grants")
        replayed = range(section["replay_from_block"] + 1, head + 1)
        replayed_gas = sum(int(chain.block(n)["gasUsed"], 16) for n in replayed)
        if section["replay_s"]:  # the rate devnet.toml's replay_gas_per_s estimates
            section["replay_gas_per_s"] = round(replayed_gas / section["replay_s"])
        log(f"devnet-scale: kill -9, restart {section['restart_s']} s (replay {section['replay_s']} s of "
            f"{section['replay_blocks']} blocks from block {section['replay_from_block']} to {head})")
        if release_seconds:
            section["release_c16"] = _release_while_dumping(system, release_seconds, log)
        return section
    finally:
        system.stop_devnet_detached()


if __name__ == "__main__":  # python -m bench._devnet_scale CONSENTS [WORK_DIR [RELEASE_SECONDS]]
    import json
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="devnet-scale-") as scratch:
        work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(scratch)
        release = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
        print(json.dumps(measure(int(sys.argv[1]), work, lambda message: print(message, flush=True),
                                 release_seconds=release)))
