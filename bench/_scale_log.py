"""The API with a big audit log: its RSS and start-up time at 1M and 10M entries, proofs from tiles.

One private system (devnet, deployment, the bench world on SQLite) runs the release mix once, so
its log holds entries the live policy decided; :mod:`bench._biglog` then grows that log to each
size with the API stopped, and the API is started on it again:

- ``startup_s``: from starting ``consent-ledger serve`` again over the grown log, once anchored, to
  ``/readyz`` answering 200 (a restart); ``first_start_s`` is the first start after the log was
  grown, which must first anchor the new entries: at most ``maxTreeSizeStep`` (2^20) per anchor and
  one anchor a block, so about a second per million imported entries;
- ``rss_mb``: the server's resident memory once ready and after a short burst of releases;
- ``proof_p50_ms``: an inclusion proof for a random entry at the full size, built from the tiles
  in the database by :class:`~ledger.audit.log.AuditLog` and checked against the signed root.

:class:`BigLog` keeps the system for other sections that need the grown log (incremental
verification on top of it).
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

import httpx

from bench import _biglog
from bench._loadgen import LoadSpec, run_load
from bench._machine import rss_mb
from bench._release import check_mix, mix_requests, summarize
from bench._stats import rnd
from bench._world import build_world
from bench.local_system import LocalSystem, wait_for
from ledger.audit.entry import encode_leaf
from ledger.audit.hasher import hash_leaf
from ledger.audit.integrate import log_origin
from ledger.audit.log import AuditLog
from ledger.audit.note import NoteSigner
from ledger.audit.verify import verify_inclusion
from ledger.chain.client import Deployment, deployment_path
from ledger.storage.database import make_engine
from ledger.storage.sealing import load_or_create_secret


class BigLog:
    """A running system whose audit log is grown in place; the API is up between ``grow`` calls."""

    def __init__(self, work: Path, log):
        self.log = log
        self.system = LocalSystem.create(work / "biglog")
        self.system.activate()
        self.system.start_devnet()
        self.system.deploy()
        self.system.start_api()
        self.world = build_world(self.system.api_url, citizens=8, unconsented=2)
        check_mix(self.world, self.system.api_url)  # the templates: real decisions of the live policy
        self.database_url = f"sqlite:///{self.system.home / 'ledger.db'}"
        deployment = Deployment.load(deployment_path(self.system.home))
        self.origin = log_origin(deployment.chain_id, deployment.contracts["AuditAnchor"])
        self.signer = NoteSigner.from_seed(
            self.origin, load_or_create_secret(self.system.home / "secrets" / "log-ed25519.key"))

    @property
    def api_pid(self) -> int:
        return self.system.pid("api")

    def _rpc(self, method: str, params: list) -> dict | str:
        reply = httpx.post(self.system.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                      "params": params}, timeout=30)
        return reply.json()["result"]

    def size(self) -> int:
        engine = make_engine(self.database_url)
        try:
            return AuditLog(engine).head()[0]
        finally:
            engine.dispose()

    def grow(self, to_size: int) -> dict:
        """Stop the API, extend the log to ``to_size`` entries, start it again; timings of each step."""
        self.system.stop("api")
        engine = make_engine(self.database_url)
        try:
            templates = _biglog.templates_from(engine)
            head = self._rpc("eth_getBlockByNumber", ["latest", False])
            current = AuditLog(engine).head()[0]
            built = _biglog.extend(engine, to_size - current, templates, block=int(head["number"], 16),
                                   block_time=int(head["timestamp"], 16), signer=self.signer, origin=self.origin,
                                   progress=self._progress())
        finally:
            engine.dispose()
        self.log(f"scale log: {to_size} entries (insert {built.insert_s:.0f} s, tiles {built.integrate_s:.0f} s)")
        first_serving_s, first_ready_s = self._start()
        self.system.stop("api")
        serving_s, startup_s = self._start()
        return {"entries": to_size, "startup_s": rnd(startup_s, 2), "serving_s": rnd(serving_s, 2),
                "first_start_s": rnd(first_ready_s, 2), "first_serving_s": rnd(first_serving_s, 2),
                "insert_s": rnd(built.insert_s, 1), "integrate_s": rnd(built.integrate_s, 1)}

    def _start(self) -> tuple[float, float]:
        """Start the API: seconds to serving (``/healthz``) and to ready (``/readyz``)."""
        started = time.perf_counter()
        self.system.start_api(wait=False)
        wait_for(lambda: httpx.get(self.system.api_url + "/healthz", timeout=5).status_code == 200, "API")
        serving_s = time.perf_counter() - started
        self.wait_ready()
        return serving_s, time.perf_counter() - started

    def _progress(self):
        shown = {"insert": 0, "integrate": 0}

        def report(stage: str, done: int) -> None:
            if done - shown[stage] >= 1_000_000:
                shown[stage] = done
                self.log(f"scale log: {stage} {done}")
        return report

    def measure(self, to_size: int, *, burst_seconds: float = 3.0, proofs: int = 2000) -> dict:
        out = self.grow(to_size)
        out["rss_mb_ready"] = rnd(rss_mb(self.api_pid), 1)
        host, port = "127.0.0.1", int(self.system.api_url.rsplit(":", 1)[1])
        burst = summarize(run_load(LoadSpec(host, port, mix_requests(self.world, host, port), 4, burst_seconds,
                                            0.5)))
        out["rss_mb"] = rnd(rss_mb(self.api_pid), 1)
        out["release_c4"] = {k: burst[k] for k in ("rps", "p50_ms", "p99_ms", "errors")}
        out.update(self._proofs(proofs))
        self.log(f"scale log: {out}")
        return out

    def _proofs(self, count: int) -> dict:
        engine = make_engine(self.database_url)
        try:
            audit = AuditLog(engine)
            size, root = audit.head()
            rng = random.Random(5)
            timings = []
            for _ in range(count):
                index = rng.randrange(size)
                began = time.perf_counter()
                proof = audit.inclusion_proof(index, size)
                timings.append(time.perf_counter() - began)
                leaf = audit.entry(index)
                verify_inclusion(hash_leaf(encode_leaf(leaf)), index, size, proof, root)
        finally:
            engine.dispose()
        return {"proof_p50_ms": rnd(statistics.median(timings) * 1000, 3), "proof_nodes": len(proof),
                "proof_size": size}

    def wait_ready(self, timeout: float = 120) -> None:
        wait_for(lambda: httpx.get(self.system.api_url + "/readyz", timeout=5).status_code == 200, "API",
                 timeout=timeout)

    def close(self) -> None:
        self.world.close()
        self.system.stop_all()


def measure(work: Path, sizes: tuple[int, ...], log) -> tuple[dict, BigLog]:
    """The log sections at each size (ascending); returns them and the system, left at the largest."""
    big = BigLog(work, log)
    points = {}
    try:
        for size in sizes:
            points[size] = big.measure(size)
    except BaseException:
        big.close()
        raise
    return points, big
