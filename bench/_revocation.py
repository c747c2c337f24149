"""A revocation wins: how soon the first denial follows the revocation's receipt, under load.

A fresh citizen grants a consent; the load generator (its own process, 16 keep-alive
connections) queries under it continuously; meanwhile the citizen revokes through the API, and
the moment the revocation's response (which carries the receipt) arrives is noted. Every
request records its start and end on the machine's monotonic clock (shared by all processes).
A stale release is a 200 for a request that *started* after that moment; requests to first
denial counts the requests started after it, in start order, up to and including the first 403
(1 = the very next request was denied).
"""

from __future__ import annotations

import time

from bench._loadgen import LoadProcess, LoadSpec, render_post
from bench._stats import rnd
from bench._world import GRANTED, World, grant_consent, register_citizen
from ledger.client import ApiClient


def one_trial(world: World, index: int, *, concurrency: int, before: float, after: float) -> dict:
    citizen = register_citizen(world.attester, world.department, index)
    citizen.consent_id, _ = grant_consent(world.api_url, citizen, world.department.address)
    host, port = world.api_url.removeprefix("http://").rsplit(":", 1)
    request = render_post(host, int(port), "/v1/records/query", world.query(citizen, GRANTED[:2]),
                          world.department.token)
    load = LoadProcess(LoadSpec(host, int(port), [request], concurrency, before + after, warmup=0.0,
                                record_all=True))
    wallet = ApiClient(world.api_url, citizen.account).login()
    try:
        load.wait_started()
        time.sleep(before)
        draft = wallet.post(f"/v1/consents/{citizen.consent_id}/revocation-drafts")
        sent = time.monotonic()
        receipt = wallet.post(f"/v1/consents/{citizen.consent_id}/revocations",
                              {"typed_data": draft["typed_data"],
                               "signature": wallet.sign_typed_data(draft["typed_data"])})
        answered = time.monotonic()
        result = load.result()
    finally:
        wallet.close()
    if receipt.get("status") != "revoked":
        raise RuntimeError(f"revocation failed: {receipt}")
    records = sorted(result.records)
    released_before = sum(1 for start, _, status, _ in records if start < sent and status == 200)
    later = [r for r in records if r[0] > answered]
    stale = sum(1 for r in later if r[2] == 200)
    first_denial = next((k for k, r in enumerate(later, start=1) if r[2] == 403), None)
    denial_ms = None
    if first_denial is not None:
        denial_ms = (later[first_denial - 1][1] - answered) * 1000
    return {"stale_releases": stale, "requests_to_first_denial": first_denial,
            "ms_receipt_to_first_denial": rnd(denial_ms, 2), "requests_after_receipt": len(later),
            "released_before_revocation": released_before,
            "in_flight_at_receipt": sum(1 for r in records if r[0] <= answered < r[1]),
            "revocation_round_trip_ms": rnd((answered - sent) * 1000, 1),
            "other_statuses": sum(1 for r in records if r[2] not in (200, 403))}


def measure(world: World, *, trials: int, first_index: int, concurrency: int = 16, before: float = 1.0,
            after: float = 1.0) -> dict:
    runs = [one_trial(world, first_index + k, concurrency=concurrency, before=before, after=after)
            for k in range(trials)]
    firsts = [r["requests_to_first_denial"] for r in runs]
    return {
        "stale_releases": sum(r["stale_releases"] for r in runs),
        "requests_to_first_denial": None if None in firsts else max(firsts),
        "ms_receipt_to_first_denial": max((r["ms_receipt_to_first_denial"] or 0) for r in runs),
        "trials": trials,
        "concurrency": concurrency,
        "runs": runs,
    }
