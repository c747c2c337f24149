"""`scripts/bench --scale`: the system at a city's size, each part on a private system of its own.

- ``log``: an API instance over 1M and 10M audit entries (:mod:`bench._scale_log`): RSS, time to
  ready, inclusion proofs from tiles; then, on the 10M log, a regulator's incremental verification
  of 100k new entries beside a full one (:mod:`bench._verify_scale`), release p99 while each runs.
- ``consents``: an API instance over 100k and 10M consents in the projection tables
  (:mod:`bench._scale_consents`): RSS, time to ready, release latency at concurrency 1.
- ``postgres``: the release benchmark on SQLite, then PostgreSQL with one instance and with two
  (:mod:`bench._instances`).
- ``devnet``: 1M consents granted on the devnet, anvil's RSS, a state dump and a replay
  (:mod:`bench._devnet_scale`).
- ``audit``: the audit section of the main benchmark (append throughput with anchoring on).

Results go under ``scale``, ``postgres``, ``devnet`` and ``audit`` of ``results.json``; a full run
keeps the other sections of the file as the last full ``scripts/bench`` wrote them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from bench import _report
from bench._machine import describe
from bench.local_system import CHECKOUT

SCALE_SECTIONS = ("log", "consents", "postgres", "devnet", "audit")


def size_label(n: int) -> str:
    """1_000_000 -> "1m", 100_000 -> "100k": the size part of a results key."""
    for unit, suffix in ((1_000_000, "m"), (1_000, "k")):
        if n >= unit and n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


@dataclass(frozen=True)
class ScalePlan:
    mode: str
    entries: tuple[int, int]
    new_entries: int
    consents: tuple[int, int]
    devnet_consents: int
    release_seconds: float

    @classmethod
    def full(cls) -> "ScalePlan":
        return cls("full", (1_000_000, 10_000_000), 100_000, (100_000, 10_000_000), 1_000_000, 10.0)

    @classmethod
    def quick(cls) -> "ScalePlan":
        return cls("quick", (20_000, 100_000), 10_000, (1_000, 10_000), 10_000, 2.0)


def _growth_pct(small: float | None, large: float | None) -> float | None:
    return round((large / small - 1) * 100, 1) if small and large else None


class ScaleRun:
    def __init__(self, plan: ScalePlan, output: Path, sections: tuple[str, ...], log):
        self.plan = plan
        self.output = output
        self.sections = sections
        self.log = log
        self.work = CHECKOUT / "bench" / "tmp" / f"scale-{os.getpid()}-{int(time.time())}"
        self.results: dict = {}

    def execute(self) -> dict:
        started = time.monotonic()
        existing = self.output / "results.json"
        r = self.results = json.loads(existing.read_text()) if existing.exists() else {}
        r.setdefault("machine", describe())
        # A run of some sections keeps the figures of the others; each section notes its own run.
        scale = r.setdefault("scale", {})
        scale.update(mode=self.plan.mode, machine=describe())
        scale.setdefault("rss_mb", {})
        scale.setdefault("startup_s", {})
        r.setdefault("notes", [])
        try:
            if "log" in self.sections:
                self._log_section(scale)
            if "consents" in self.sections:
                self._consents_section(scale)
            if "postgres" in self.sections:
                self._postgres_section()
            if "devnet" in self.sections:
                self._devnet_section()
            if "audit" in self.sections:
                self._audit_section()
        finally:
            shutil.rmtree(self.work, ignore_errors=True)
        scale["runtime_s"] = round(time.monotonic() - started, 1)
        r["targets"] = _report.evaluate_targets(r)
        return r

    def _log_section(self, scale: dict) -> None:
        from bench import _scale_log, _verify_scale

        small, large = self.plan.entries
        big = _scale_log.BigLog(self.work / "log", self.log)
        try:
            points = {small: big.measure(small)}
            verify = {"full": _verify_scale.measure_full(big, log=self.log)}
            points[large] = big.measure(large)
            verify["incremental"] = _verify_scale.measure_incremental(big, new_entries=self.plan.new_entries,
                                                                      log=self.log)
        finally:
            big.close()
        for n, p in points.items():
            scale["rss_mb"][f"entries_{size_label(n)}"] = p["rss_mb"]
            scale["startup_s"][f"entries_{size_label(n)}"] = p["startup_s"]
        scale["rss_growth_pct_entries"] = _growth_pct(points[small]["rss_mb"], points[large]["rss_mb"])
        scale[f"proof_p50_ms_{size_label(large)}"] = points[large]["proof_p50_ms"]
        scale["log"] = {size_label(n): p for n, p in points.items()}
        full, incremental = verify["full"], verify["incremental"]
        # A full run of the large log would outlast the benchmark: its time at the full run's rate.
        full_large_s = round(large / full["per_s"], 0) if full.get("per_s") else None
        scale["verify"] = {"incremental_s": incremental["seconds"], "full_s": full_large_s,
                           "full_s_estimated_from": f"a full run of {size_label(small)} entries",
                           **verify}

    def _consents_section(self, scale: dict) -> None:
        from bench import _scale_consents

        small, large = self.plan.consents
        points = {n: _scale_consents.measure(self.work / f"consents-{n}", n, self.log) for n in (small, large)}
        for n, p in points.items():
            scale["rss_mb"][f"consents_{size_label(n)}"] = p["rss_mb"]
            scale["startup_s"][f"consents_{size_label(n)}"] = p["startup_s"]
        scale["rss_growth_pct_consents"] = _growth_pct(points[small]["rss_mb"], points[large]["rss_mb"])
        scale[f"release_p50_ms_{size_label(large)}_consents"] = points[large]["release_p50_ms"]
        scale["consents"] = {size_label(n): p for n, p in points.items()}

    def _postgres_section(self) -> None:
        from bench import _instances

        section = _instances.measure(self.work / "instances", duration=self.plan.release_seconds,
                                     warmup=min(2.0, self.plan.release_seconds / 4), log=self.log)
        machine = describe()
        self.results["postgres"] = {**section["postgres"], "sqlite_c16_rps": section["sqlite_c16_rps"],
                                    "sqlite_c16": section["sqlite_c16"],
                                    "run": {"commit": machine.get("commit"), "date": machine.get("date")}}

    def _devnet_section(self) -> None:
        from bench import _devnet_scale

        n = self.plan.devnet_consents
        section = _devnet_scale.measure(n, self.work / "devnet", self.log, release_seconds=self.plan.release_seconds)
        machine = describe()
        section["run"] = {"commit": machine.get("commit"), "date": machine.get("date")}
        self.results.setdefault("devnet", {})[f"consents_{size_label(n)}"] = section

    def _audit_section(self) -> None:
        from bench._runner import Plan, Run

        plan = Plan.full(profile=False) if self.plan.mode == "full" else Plan.quick(profile=False)
        audit = Run(plan, self.output, ("audit",), log=self.log).execute()
        self.results["audit"] = audit["audit"]


def run(plan: ScalePlan, output: Path, *, sections: tuple[str, ...] = SCALE_SECTIONS, log=print) -> dict:
    results = ScaleRun(plan, output, sections, log).execute()
    _report.write_json(results, output / "results.json")
    (output / "RESULTS.md").write_text(_report.render_markdown(results))
    return results
