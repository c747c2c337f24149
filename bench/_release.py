"""Audited releases over HTTP: the real API against the naive baseline, same load generator.

The mix is 80% allowed (consented fields) and 20% denied (a field not granted, another purpose,
no consent) over the bench citizens; both answers are audited decisions. Each concurrency level
runs for a fixed time after a warm-up; only 200 and 403 count, anything else is an error.
"""

from __future__ import annotations

import json
import sys

import httpx

from bench._chain import Operators, deploy_audit_anchor
from bench._loadgen import LoadResult, LoadSpec, render_post, run_load
from bench._stats import percentile, rnd
from bench._world import RESOURCE, RESOURCE_FIELDS, World
from bench.local_system import LocalSystem, free_port, wait_for

PATH = "/v1/records/query"


def mix_requests(world: World, host: str, port: int) -> list[bytes]:
    """40 rendered requests, every fifth one denied (80/20), checked once before any load."""
    allowed, denied = world.release_mix()
    bodies = []
    for i in range(40):
        bodies.append(denied[(i // 5) % len(denied)] if i % 5 == 4 else allowed[i % len(allowed)])
    return [render_post(host, port, PATH, body, world.department.token) for body in bodies]


def check_mix(world: World, base_url: str) -> None:
    """Every allowed query is released and every denied one refused, or the mix is wrong."""
    allowed, denied = world.release_mix()
    headers = {"authorization": f"Bearer {world.department.token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
        for body, expected in [(b, 200) for b in allowed] + [(b, 403) for b in denied]:
            status = http.post(PATH, json=body).status_code
            if status != expected:
                raise RuntimeError(f"{base_url}: {body} answered {status}, expected {expected}")


def summarize(result: LoadResult) -> dict:
    ms = [x * 1000 for x in result.latencies]
    return {"rps": rnd(result.decisions / result.window, 1), "p50_ms": rnd(percentile(ms, 50), 2),
            "p95_ms": rnd(percentile(ms, 95), 2), "p99_ms": rnd(percentile(ms, 99), 2),
            "allowed": result.statuses.get(200, 0), "denied": result.statuses.get(403, 0),
            "errors": result.other, "concurrency": result.concurrency, "seconds": result.window,
            # The generator's own CPU per request: it must stay small next to the server's.
            "client_cpu_us_per_request": rnd(result.client_cpu_s / max(1, len(result.latencies)) * 1e6, 1)}


def measure_levels(requests: list[bytes], host: str, port: int, levels: tuple[int, ...], *, duration: float,
                   warmup: float, log, on_level=None) -> dict:
    out = {}
    for c in levels:
        spec = LoadSpec(host, port, requests, c, duration, warmup)
        if on_level is not None:
            on_level(c, spec)
        out[f"c{c}"] = summarize(run_load(spec))
        log(f"release c{c}: {out[f'c{c}']}")
    return out


def naive_config(world: World, system: LocalSystem, anchor: str, ops: Operators) -> dict:
    """What the naive server holds: each citizen's signed consent, the records in clear, addresses."""
    from ledger.identity import load_or_create_pepper, subject_id

    pepper = load_or_create_pepper(system.home)

    def sid(citizen) -> str:
        return "0x" + subject_id(pepper, "resident_id", citizen.id_number).hex()

    consents = [{"subject_id": sid(c), "grantee": world.department.address, "resource": RESOURCE,
                 "message": c.consent_message} for c in world.citizens]
    records = {RESOURCE: {sid(c): c.record for c in [*world.citizens, *world.unconsented]}}
    return {"rpc_url": system.rpc_url, "consents": ops.chain.contract("Consents").address, "anchor": anchor,
            "resource_fields": {RESOURCE: RESOURCE_FIELDS}, "consents_list": consents, "records": records}


def measure_naive(world: World, system: LocalSystem, ops: Operators, levels: tuple[int, ...], *, duration: float,
                  warmup: float, log) -> dict:
    anchor = deploy_audit_anchor(ops)
    config_path = system.home / "naive.json"
    config_path.write_text(json.dumps(naive_config(world, system, anchor.address, ops)))
    port = free_port()
    proc, logfile = system._spawn("naive", [sys.executable, "-m", "bench.naive", str(config_path), str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(base + "/openapi.json", timeout=5).status_code == 200, "naive server",
                 proc=proc, log=logfile)
        check_mix(world, base)
        requests = mix_requests(world, "127.0.0.1", port)
        return measure_levels(requests, "127.0.0.1", port, levels, duration=duration, warmup=warmup,
                              log=lambda m: log("naive " + m))
    finally:
        system.stop("naive")
