"""The release path at concurrency 16 on SQLite with one instance, and on PostgreSQL with one and then
two instances (the load split evenly across both), each on a system of its own, in one run.

On a machine of few cores the two-instance figure says whether the second instance gets in the
way (lock waits on the sequence row, two indexers, two integration loops where one leads), not
how far instances scale: both API processes, PostgreSQL, the devnet and the load generator share
the same cores, so the sum of two instances is bounded by the CPU one of them already uses.
"""

from __future__ import annotations

from pathlib import Path

from bench._loadgen import LoadProcess, LoadResult, LoadSpec
from bench._release import check_mix, mix_requests, summarize
from bench._world import build_world
from bench.local_system import LocalSystem
from bench.postgres import LocalPostgres

CONCURRENCY = 16


def _split_load(world, urls: list[str], *, duration: float, warmup: float) -> LoadResult:
    """``CONCURRENCY`` connections split evenly across ``urls``, run at once; one merged result."""
    runs = []
    for k, url in enumerate(urls):
        host, port = "127.0.0.1", int(url.rsplit(":", 1)[1])
        share = CONCURRENCY // len(urls) + (1 if k < CONCURRENCY % len(urls) else 0)
        runs.append(LoadProcess(LoadSpec(host, port, mix_requests(world, host, port), share, duration, warmup)))
    results = [run.result() for run in runs]
    merged = LoadResult(CONCURRENCY, max(r.window for r in results))
    for r in results:
        merged.latencies += r.latencies
        merged.errors += r.errors
        merged.client_cpu_s += r.client_cpu_s
        for status, n in r.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + n
    return merged


def _system(home: Path, database_url: str | None) -> tuple[LocalSystem, object]:
    system = LocalSystem.create(home, database_url=database_url)
    system.activate()
    system.start_devnet()
    system.deploy()
    system.start_api()
    world = build_world(system.api_url, citizens=8, unconsented=2)
    check_mix(world, system.api_url)
    return system, world


def measure(work: Path, *, duration: float, warmup: float, log=print) -> dict:
    """``{"sqlite_c16_rps", "sqlite_c16", "postgres": {...}}``: rps, p50 and p99 of each set-up."""
    out: dict = {}
    system, world = _system(work / "sqlite", None)
    try:
        sqlite = summarize(_split_load(world, [system.api_url], duration=duration, warmup=warmup))
    finally:
        world.close()
        system.stop_all()
    out["sqlite_c16_rps"], out["sqlite_c16"] = sqlite["rps"], sqlite
    log(f"instances: SQLite, one instance, c{CONCURRENCY}: {sqlite}")

    cluster = LocalPostgres(work / "postgres")
    cluster.start()
    try:
        system, world = _system(work / "pg-home", cluster.url)
        try:
            one = summarize(_split_load(world, [system.api_url], duration=duration, warmup=warmup))
            log(f"instances: PostgreSQL, one instance, c{CONCURRENCY}: {one}")
            second = system.start_api("api2")
            check_mix(world, second)
            two = summarize(_split_load(world, [system.api_url, second], duration=duration, warmup=warmup))
            log(f"instances: PostgreSQL, two instances, c{CONCURRENCY} split: {two}")
        finally:
            world.close()
            system.stop_all()
    finally:
        cluster.stop()

    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    out["postgres"] = {
        "release_c16_rps": one["rps"], "release_c16_p50_ms": one["p50_ms"], "release_c16_p99_ms": one["p99_ms"],
        "ratio_vs_sqlite": ratio(one["rps"], sqlite["rps"]),
        "two_instances_rps": two["rps"], "two_instances_p50_ms": two["p50_ms"], "two_instances_p99_ms": two["p99_ms"],
        "two_instances_ratio": ratio(two["rps"], one["rps"]),
        "one_instance": one, "two_instances": two,
    }
    return out
