"""Verification that keeps up with a big log: a full run and an incremental one, and the release path
beside each.

On a :class:`bench._scale_log.BigLog` (cloned from decisions the live policy made, tiles and a
signed checkpoint built, anchored by the API), the regulator's verifier runs as a regulator runs
it, ``consent-ledger audit verify --database --state FILE`` in a process of its own:

- ``full`` (:func:`measure_full`, on the smaller log): no state file yet, so every entry is checked
  (integrity against every anchor, policy at each entry's block, times) and the state is written;
  wall time and the process's peak RSS (from ``wait4``);
- ``incremental`` (:func:`measure_incremental`, on the big log): the log grows by M entries
  (anchored by the API), and the run checks only those: the consistency proof from the state's
  head to the new anchored one, then the new entries. The state it starts from is the one a full
  run of the big log would leave, written by :func:`state_of_log` from the log the bench built and
  the chain's newest anchor: a full run at 10M would take the whole benchmark's time (its rate at
  the smaller size says how long), and the incremental run checks that state against the chain
  (its anchor must be on-chain, its edge must hash to that anchor's root) before relying on it.

Release p99 at c16 is measured without any verification, and while each kind runs as the API's
own job (``POST /v1/audit/verify``, its process niced), the load window covering the job; a job
shorter than the window is started again from the same state, so the verifier runs throughout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

from bench._loadgen import LoadSpec, run_load
from bench._release import mix_requests, summarize
from bench._stats import rnd
from bench.local_system import CHECKOUT, CLI
from dataclasses import replace
from ledger import keystore
from ledger.audit.incremental import VerifierState
from ledger.audit.jobs import STATE_FILE
from ledger.client import ApiClient

_CONCURRENCY = 16


def _run_verifier(system, state: Path) -> dict:
    """One ``audit verify --database --state`` run: its report, wall time and peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen([*CLI, "audit", "verify", "--database", "--state", str(state), "--deployment",
                                str(system.home / "deployment.json"), "--json"], env=system.env, cwd=CHECKOUT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    report = json.loads(out)
    if process.returncode != 0 or not report["ok"]:
        raise RuntimeError(f"the verifier found problems or failed ({process.returncode}): "
                           f"{report.get('problems', [])[:5]}")
    return {"seconds": rnd(seconds, 2), "peak_rss_mb": rnd(usage.ru_maxrss / 1024, 1),
            "entries_checked": report["entries_checked"], "from_size": report["from_size"],
            "verified_size": report["state"]["verified_size"], "allows_reevaluated": report["allows_reevaluated"]}


def _release_p99(big, *, duration: float, job: dict | None = None) -> dict:
    """Release latencies at c16; with ``job`` ({"full": bool}), while the API's verification job runs."""
    system = big.system
    host, port = "127.0.0.1", int(system.api_url.rsplit(":", 1)[1])
    spec = LoadSpec(host, port, mix_requests(big.world, host, port), _CONCURRENCY, duration, 1.0)
    if job is None:
        return summarize(run_load(spec))
    regulator = ApiClient(system.api_url, keystore.load_key("regulator")).login()
    state = system.home / STATE_FILE
    saved = system.home / f"{STATE_FILE}.bench"
    if state.exists():
        shutil.copyfile(state, saved)
    stop, runs = threading.Event(), []

    def verify_throughout() -> None:
        while not stop.is_set():
            if saved.exists():
                shutil.copyfile(saved, state)  # the same increment again, not an empty one
            started = time.perf_counter()
            polled = regulator.post(f"/v1/audit/verify?full={str(job['full']).lower()}")
            while polled["status"] in ("queued", "running"):
                time.sleep(0.2)
                polled = regulator.get(f"/v1/audit/verify/{polled['job_id']}")
            if polled["status"] != "done" or not polled["report"]["ok"]:
                raise RuntimeError(f"the API's verification job did not pass: {polled}")
            runs.append({"seconds": rnd(time.perf_counter() - started, 2), "entries": polled["entries_checked"]})

    worker = threading.Thread(target=verify_throughout, daemon=True)
    worker.start()
    try:
        time.sleep(0.5)  # the job's process is up and reading before the window opens
        result = summarize(run_load(spec))
    finally:
        stop.set()
        worker.join()
        regulator.close()
    saved.unlink(missing_ok=True)
    return {**result, "verifications": runs}


def measure_full(big, *, log, load_seconds: float = 10.0) -> dict:
    """A full verification of ``big``'s log, and release p99 at c16 beside the API's full job."""
    size = big.size()
    state = big.system.home / "regulator-state.json"
    state.unlink(missing_ok=True)
    full = _run_verifier(big.system, state)
    log(f"verify scale: full over {size}: {full}")
    (big.system.home / STATE_FILE).unlink(missing_ok=True)
    quiet = _release_p99(big, duration=load_seconds)
    during = _release_p99(big, duration=load_seconds, job={"full": True})
    return {"entries": size, "seconds": full["seconds"], "peak_rss_mb": full["peak_rss_mb"],
            "per_s": rnd(size / full["seconds"], 0), "release_c16_p99_ms_quiet": quiet["p99_ms"],
            "release_c16_p99_ms_during": during["p99_ms"], "run": full,
            "release_c16": {"quiet": quiet, "during": during}}


def state_of_log(big) -> VerifierState:
    """The state a clean full verification of ``big``'s log up to its newest anchor would write."""
    from sqlalchemy import select

    from ledger.audit.entry import decode_leaf
    from ledger.audit.tiles import RightEdge
    from ledger.audit.tilestore import TileReader
    from ledger.audit.trail import millis, read_anchors
    from ledger.chain.client import Chain, Deployment, deployment_path
    from ledger.storage.database import make_engine
    from ledger.storage.models import AuditEntryRow, ConsentUseRow

    chain = Chain(big.system.rpc_url, deployment=Deployment.load(deployment_path(big.system.home)))
    anchor = read_anchors(chain)[-1]
    engine = make_engine(big.database_url)
    try:
        edge = RightEdge.load(anchor.tree_size, TileReader(engine))
        if edge.root() != anchor.root_hash:
            raise RuntimeError("the stored tiles do not hash to the newest anchored root")
        with engine.connect() as connection:
            last = decode_leaf(connection.scalar(select(AuditEntryRow.leaf)
                                                 .where(AuditEntryRow.seq == anchor.tree_size - 1)))
            if connection.scalar(select(AuditEntryRow.seq).order_by(AuditEntryRow.seq.desc()).limit(1)) \
                    != anchor.tree_size - 1:
                raise RuntimeError("the log holds entries the newest anchor does not cover")
            uses = {c: int(n) for c, n in connection.execute(select(ConsentUseRow.consent_id, ConsentUseRow.used))}
    finally:
        engine.dispose()
    return replace(VerifierState.empty(chain), size=anchor.tree_size, root_hash=anchor.root_hash,
                   anchor_index=anchor.index, anchor_hash=anchor.anchor_hash, anchor_block=anchor.block_number,
                   edge=tuple(edge.partials), uses=uses, last_entry=(millis(last), last.seq))


def measure_incremental(big, *, new_entries: int, log, load_seconds: float = 10.0) -> dict:
    """Incremental verification of ``new_entries`` more on ``big``'s log, each beside the release path
    at c16. Leaves ``big`` grown by ``new_entries``."""
    size = big.size()
    home = big.system.home
    state, at_size = home / "regulator-state.json", home / "regulator-state-at-n.json"
    state_of_log(big).save(state)
    shutil.copyfile(state, at_size)
    big.grow(size + new_entries)
    incremental = _run_verifier(big.system, state)
    log(f"verify scale: incremental over {new_entries} on {size}: {incremental}")
    quiet = _release_p99(big, duration=load_seconds)
    shutil.copyfile(at_size, home / STATE_FILE)  # the API's jobs then check the new entries, each time
    during = _release_p99(big, duration=load_seconds, job={"full": False})
    log(f"verify scale: release c16 p99 ms quiet {quiet['p99_ms']}, during {during['p99_ms']}")
    return {"entries": size, "new_entries": new_entries, "seconds": incremental["seconds"],
            "peak_rss_mb": incremental["peak_rss_mb"], "release_c16_p99_ms_quiet": quiet["p99_ms"],
            "release_c16_p99_ms_during": during["p99_ms"], "run": incremental,
            "release_c16": {"quiet": quiet, "during": during}}
