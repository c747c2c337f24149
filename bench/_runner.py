"""Runs the benchmark sections in order on one private system and writes the results."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import _audit, _grants, _release, _report, _revocation, _scaling, _verify
from bench._machine import describe
from bench._profile import Samplers, py_spy
from bench.local_system import CHECKOUT, LocalSystem

SECTIONS = ("release", "revocation", "grants", "audit", "verify", "scaling")


@dataclass(frozen=True)
class Plan:
    """How much of everything to do: ``full`` for the committed results, ``quick`` to prove it works."""

    mode: str
    release_seconds: float
    release_warmup: float
    levels: tuple[int, ...]
    naive_levels: tuple[int, ...]
    revocation_trials: int
    grants_batch: int
    grants_single: int
    grants_baseline: int
    batch_size: int
    audit_seconds: float
    verify_entries: int
    verify_consents: int
    verify_anchor_every: int
    scale_entries: tuple[int, ...]
    scale_consents: tuple[int, ...]
    scale_append_seconds: float
    api_after_grants: bool
    profile: bool

    @classmethod
    def full(cls, profile: bool = True) -> "Plan":
        return cls("full", 10.0, 2.0, (1, 16, 64), (1, 16), 3, 5000, 1000, 100, 100, 10.0, 100_000, 300, 10_000,
                   (10_000, 100_000, 1_000_000), (1_000, 100_000), 3.0, True, profile)

    @classmethod
    def quick(cls, profile: bool = False) -> "Plan":
        return cls("quick", 2.0, 0.5, (1, 16, 64), (1, 16), 1, 500, 100, 10, 100, 2.0, 10_000, 100, 2_000,
                   (10_000, 100_000), (1_000, 100_000), 1.0, False, profile)


@dataclass
class Run:
    plan: Plan
    output: Path
    sections: tuple[str, ...] = SECTIONS
    keep: bool = False
    log: callable = print
    results: dict = field(default_factory=dict)

    def execute(self) -> dict:
        started = time.monotonic()
        plan = self.plan
        work = CHECKOUT / "bench" / "tmp" / f"run-{os.getpid()}-{int(time.time())}"
        system = LocalSystem.create(work / "home")
        system.activate()
        r = self.results
        r["mode"] = plan.mode
        r["machine"] = describe()
        r["profiles"], r["notes"] = {}, []
        try:
            self.log(f"bench: {plan.mode} run, data dir {system.home}")
            system.start_devnet()
            system.deploy()
            system.start_api()
            from bench._world import build_world

            world = build_world(system.api_url, citizens=8, unconsented=2)
            self.log(f"bench: system up and world seeded in {time.monotonic() - started:.1f} s")
            from bench._chain import operators

            ops = operators(system.rpc_url)
            host, port = "127.0.0.1", int(system.api_url.rsplit(":", 1)[1])
            # The API stays up until the chain-side sections are done, as in production: its indexer
            # follows the naive baseline's and the grants' blocks while they are measured.
            if "release" in self.sections:
                self._release(system, world, ops, host, port, work)
            if "revocation" in self.sections:
                r["revocation"] = _revocation.measure(world, trials=plan.revocation_trials, first_index=500)
                self.log(f"revocation: {({k: v for k, v in r['revocation'].items() if k != 'runs'})}")
            if "release" in self.sections:
                self._naive(system, world, ops)
            signed = None
            if "grants" in self.sections or "verify" in self.sections:
                signed = self._grants(system, ops)
            if "scaling" in self.sections and "release" in self.sections and plan.api_after_grants:
                self._api_after_grants(system, world, host, port)
            system.stop("api")
            if "audit" in self.sections:
                self._audit(ops, work)
            if "verify" in self.sections:
                self._verify(ops, signed, world, work)
            if "scaling" in self.sections:
                self._scaling(ops, work)
            world.close()
        finally:
            system.stop_all()
            r["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
            if not self.keep:
                shutil.rmtree(work, ignore_errors=True)
        r["runtime_s"] = round(time.monotonic() - started, 1)
        r["targets"] = _report.evaluate_targets(r)
        return r

    # -- sections ------------------------------------------------------------------------------
    def _release(self, system: LocalSystem, world, ops, host: str, port: int, work: Path) -> None:
        plan = self.plan
        _release.check_mix(world, system.api_url)
        requests = _release.mix_requests(world, host, port)
        levels = _release.measure_levels(requests, host, port, plan.levels, duration=plan.release_seconds,
                                         warmup=plan.release_warmup, log=self.log)
        best = max(levels, key=lambda k: levels[k]["rps"] or 0)
        self.results["release"] = {**levels, "peak_rps": levels[best]["rps"], "peak_level": best,
                                   "citizens": len(world.citizens) + len(world.unconsented),
                                   "seconds": plan.release_seconds, "warmup": plan.release_warmup}
        if plan.profile and py_spy():
            from bench._loadgen import LoadSpec, run_load

            sampler = Samplers(system.pid("api"), work / "profile-release.raw").start()
            run_load(LoadSpec(host, port, requests, 16, 6.0, 0.5))
            self.results["profiles"][_report.PROFILE_FOR["release"]] = sampler.stop()

    def _naive(self, system: LocalSystem, world, ops) -> None:
        plan = self.plan
        naive = _release.measure_naive(world, system, ops, plan.naive_levels, duration=plan.release_seconds,
                                       warmup=plan.release_warmup, log=self.log)
        rel = self.results["release"]
        rel["naive"] = naive
        rel["naive_rps"] = naive.get("c16", {}).get("rps")
        ours = rel.get("c16", {}).get("rps")
        rel["ratio_vs_naive"] = round(ours / rel["naive_rps"], 1) if ours and rel["naive_rps"] else None
        rel["peak_ratio_vs_naive"] = round(rel["peak_rps"] / rel["naive_rps"], 1) if rel["naive_rps"] else None

    def _grants(self, system: LocalSystem, ops):
        from ledger import keystore
        from ledger.identity import load_or_create_pepper

        plan = self.plan
        quiet = "grants" not in self.sections  # only feeding the verify section
        section, signed = _grants.measure(
            ops, system.rpc_url, load_or_create_pepper(system.home), keystore.address_of("dept-hrss"),
            batch_count=plan.grants_batch if not quiet else max(plan.verify_consents, 100),
            single_count=plan.grants_single if not quiet else 10,
            baseline_count=plan.grants_baseline if not quiet else 2, batch=plan.batch_size, log=self.log)
        if not quiet:
            self.results["grants"] = section
            self.log(f"grants: {section}")
        return signed

    def _api_after_grants(self, system: LocalSystem, world, host: str, port: int) -> None:
        """The release path again, once the API's indexer has folded the grants benchmark's consents."""
        import httpx

        from bench._loadgen import LoadSpec, run_load

        plan = self.plan
        scaling = self.results.setdefault("scaling", {})
        points = scaling.setdefault("api_release_c1", [])
        earlier = len(world.citizens) + plan.revocation_trials  # the world's consents and the revoked ones
        before = self.results.get("release", {}).get("c1")
        if before:
            points.append({"consents": earlier, **{k: before[k] for k in ("p50_ms", "p99_ms")}})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # readiness includes the indexer's lag behind the head
            if httpx.get(system.api_url + "/readyz", timeout=10).status_code == 200:
                break
            time.sleep(0.5)
        else:
            self.results["notes"].append("The API's indexer did not catch up with the grants within 60 s.")
        requests = _release.mix_requests(world, host, port)
        result = _release.summarize(run_load(LoadSpec(host, port, requests, 1, plan.release_seconds,
                                                      plan.release_warmup)))
        consents = earlier + plan.grants_batch + plan.grants_single + plan.grants_baseline
        points.append({"consents": consents, "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"],
                       "errors": result["errors"]})
        self.log(f"scaling: API c1 with ~{consents} consents: {result}")

    def _audit(self, ops, work: Path) -> None:
        plan = self.plan
        section = _audit.measure_append(ops, work, duration=plan.audit_seconds)
        # The same log driven other ways: fewer appenders in flight (the release benchmark's 64), and
        # blocking threads (``append``), which other callers use.
        others = {}
        for driver, n in (("async", 64), ("threads", 32)):
            other = _audit.measure_append(ops, work, duration=max(1.0, plan.audit_seconds / 3), driver=driver,
                                          concurrency=n)
            others[f"{driver}_{n}"] = {k: other[k] for k in ("append_per_s", "anchor_lag_p99_s", "appenders")}
        section["other_appenders"] = others
        proofs = _audit.measure_proofs(1_000_000)
        section.update({"proof_bytes_1m": proofs["proof_bytes"], "proof_nodes_1m": proofs["proof_nodes"],
                        "proof_build_us_1m": proofs["proof_build_us"],
                        "proof_verify_us_1m": proofs["proof_verify_us"]})
        self.results["audit"] = section
        self.log(f"audit: {section}")
        if plan.profile and py_spy():
            extra = _audit.measure_append(ops, work, duration=3.0,
                                          sampler=Samplers(os.getpid(), work / "profile-audit.raw"))
            self.results["profiles"][_report.PROFILE_FOR["audit"]] = extra.get("profile")

    def _verify(self, ops, signed, world, work: Path) -> None:
        plan = self.plan
        grantee = world.department.address
        section = _verify.measure(ops, signed, grantee, entries=plan.verify_entries, consents=plan.verify_consents,
                                  anchor_every=plan.verify_anchor_every, log=self.log)
        self.results["verify"] = section
        self.log(f"verify: {section}")
        if plan.profile and py_spy():
            extra = _verify.measure(ops, signed, grantee, entries=plan.verify_entries,
                                    consents=plan.verify_consents, anchor_every=plan.verify_anchor_every,
                                    log=lambda _m: None,
                                    sampler=Samplers(os.getpid(), work / "profile-verify.raw"))
            self.results["profiles"][_report.PROFILE_FOR["verify"]] = extra.get("profile")

    def _scaling(self, ops, work: Path) -> None:
        plan = self.plan
        requester = ops.chain.sender.addresses[0]
        scaling = self.results.setdefault("scaling", {})
        scaling["audit"] = [_scaling.audit_at(n, work, requester, append_seconds=plan.scale_append_seconds,
                                              log=self.log) for n in plan.scale_entries]
        scaling["consents"] = [_scaling.decision_at(n, requester) for n in plan.scale_consents]
        self.log(f"scaling consents: {scaling['consents']}")
        audit, consents = scaling["audit"], scaling["consents"]
        scaling["growth"] = {
            "audit append": _scaling.growth(audit, "entries", "append_us"),
            "integrity check": _scaling.growth(audit, "entries", "integrity_us"),
            "inclusion proof verify": _scaling.growth(audit, "entries", "proof_verify_us"),
            "release decision": _scaling.growth(consents, "consents", "decision_us"),
        }
        api = scaling.get("api_release_c1") or []
        if len(api) == 2:
            scaling["growth"]["API release p50 (c1)"] = _scaling.growth(api, "consents", "p50_ms")

    # -- notes -----------------------------------------------------------------------------------


#: Keys a run writes whatever its sections; every other key of its results belongs to one section
#: (its name), or to ``bench --scale``.
_RUN_KEYS = ("mode", "machine", "profiles", "notes", "runtime_s", "targets", "partial_runs")


def merge(previous: dict, new: dict, sections: tuple[str, ...]) -> dict:
    """results.json after a run of ``sections``: the figures nobody measured again are kept (those of
    ``bench --scale`` always; those of the sections left out by a partial run), and a partial run is
    listed under ``partial_runs`` so the report can say which figures came from it."""
    if set(sections) >= set(SECTIONS):
        merged = {**{k: v for k, v in previous.items() if k not in _RUN_KEYS and k not in SECTIONS}, **new}
        merged["targets"] = _report.evaluate_targets(merged)
        return merged
    merged = {**previous, **{k: new[k] for k in sections if k in new}}
    for section, profile in _report.PROFILE_FOR.items():
        if section in sections and profile in new.get("profiles", {}):
            merged.setdefault("profiles", {})[profile] = new["profiles"][profile]
    merged["partial_runs"] = [*previous.get("partial_runs", []),
                              {"sections": list(sections), "commit": new["machine"].get("commit"),
                               "date": new["machine"].get("date"), "runtime_s": new.get("runtime_s"),
                               "notes": new.get("notes", [])}]
    merged.setdefault("machine", new["machine"])
    merged["targets"] = _report.evaluate_targets(merged)
    return merged


def run(plan: Plan, output: Path, *, sections: tuple[str, ...] = SECTIONS, keep: bool = False, log=print) -> dict:
    results = Run(plan, output, sections, keep, log).execute()
    existing = output / "results.json"
    if existing.exists():
        results = merge(json.loads(existing.read_text()), results, sections)
    _report.write_json(results, existing)
    (output / "RESULTS.md").write_text(_report.render_markdown(results))
    return results
