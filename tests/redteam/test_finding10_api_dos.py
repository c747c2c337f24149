"""Finding 10 (API): big integers, challenge floods and unthrottled principals.

Every integer a client sends is bounded (a 422 ``INVALID_INPUT``, never a 500 or a dropped
connection); a SIWE challenge writes nothing to the database and is rate-limited per client
and per address; every principal has a request budget (429 ``RATE_LIMITED`` with Retry-After).
"""

from __future__ import annotations

import sqlite3
import time

import httpx
import pytest
from eth_account import Account

from ledger.client import ApiClient, ApiClientError

HUGE = 63062812615903954966333620224
NEGATIVE_HUGE = -9101269148034281766912


def _send(client: ApiClient, method: str, path: str, body=None) -> httpx.Response | str:
    try:
        return client.request(method, path, body)
    except httpx.TransportError as exc:
        return f"connection dropped ({type(exc).__name__})"


@pytest.mark.parametrize("who, method, path", [
    ("regulator", "GET", f"/v1/audit/entries?after={HUGE}"),
    ("regulator", "GET", f"/v1/audit/entries?after={NEGATIVE_HUGE}"),
    ("regulator", "GET", f"/v1/audit/entries?limit={HUGE}"),
    ("regulator", "GET", f"/v1/audit/anchors?after={NEGATIVE_HUGE}"),
    ("regulator", "GET", f"/v1/audit/anchors?after={HUGE}"),
    ("regulator", "GET", f"/v1/audit/entries/{HUGE}/proof"),
    ("regulator", "GET", f"/v1/audit/entries/{2**63}/proof"),
    ("regulator", "GET", "/v1/audit/entries/-1/proof"),
    ("citizen-li", "GET", f"/v1/me/access-log?after={HUGE}"),
    ("dept-housing-fund", "POST", f"/v1/sharing-requests/{HUGE}/approve"),
    ("dept-housing-fund", "POST", f"/v1/sharing-requests/{NEGATIVE_HUGE}/deny"),
])
def test_out_of_range_integers_are_422(clients, who, method, path):
    reply = _send(clients(who), method, path, {} if method == "POST" else None)
    assert not isinstance(reply, str), reply
    assert reply.status_code == 422, f"{reply.status_code} {reply.text[:300]}"
    assert reply.json()["error"]["code"] == "INVALID_INPUT"


def test_out_of_range_integers_in_bodies_are_422(clients):
    attester, zhang = clients("attester"), clients("citizen-zhang")
    reply = _send(attester, "POST", "/v1/admin/subjects", {
        "id_type": "resident_id", "id_number": "110101199003074477", "signers": [Account.create().address],
        "threshold": HUGE})
    assert not isinstance(reply, str), reply
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_INPUT"
    reply = _send(zhang, "POST", "/v1/consents/drafts", {
        "id_type": "resident_id", "id_number": "370102198506124536", "grantee": clients("dept-hrss").address,
        "resources": [{"resource_id": "hrss.social_insurance", "fields": ["name"]}], "purpose": "x",
        "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z", "max_uses": NEGATIVE_HUGE})
    assert not isinstance(reply, str), reply
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_INPUT"
    # A record value the sealer cannot encode (orjson holds 64-bit integers).
    reply = _send(clients("dept-hrss"), "PUT", "/v1/resources/hrss.social_insurance/records", {
        "id_type": "resident_id", "id_number": "370102198506124536", "data": {"pension_months": HUGE}})
    assert not isinstance(reply, str), reply
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_INPUT", reply.text
    # A time zone offset that pushes a time past year 9999.
    reply = _send(zhang, "POST", "/v1/consents/drafts", {
        "id_type": "resident_id", "id_number": "370102198506124536", "grantee": clients("dept-hrss").address,
        "resources": [{"resource_id": "hrss.social_insurance", "fields": ["name"]}], "purpose": "x",
        "valid_from": "2026-01-01T00:00:00Z", "valid_until": "9999-12-31T23:59:59-14:00"})
    assert not isinstance(reply, str), reply
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_INPUT", reply.text


def _auth_rows(system) -> int:
    with sqlite3.connect(system.home / "ledger.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'auth%'")]
        return sum(db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables)


def _wait_out(reply: httpx.Response) -> None:
    time.sleep(float(reply.headers.get("retry-after", 1)) + 0.5)


def test_challenge_flood_writes_nothing_and_is_throttled(system):
    rows_before = _auth_rows(system)
    statuses: dict[int, int] = {}
    limited = None
    with httpx.Client(base_url=system.api_url, timeout=10) as http:
        for _ in range(2000):
            reply = http.post("/v1/auth/challenge", json={"address": Account.create().address})
            statuses[reply.status_code] = statuses.get(reply.status_code, 0) + 1
            if reply.status_code == 429:
                limited = reply
    # Not one row more (the purge of expired login nonces may remove some meanwhile).
    assert _auth_rows(system) <= rows_before, f"challenges wrote {_auth_rows(system) - rows_before} rows"
    assert set(statuses) <= {200, 429}, statuses
    assert limited is not None, f"2,000 challenges from one client, none refused: {statuses}"
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1
    # Once the client waits as told, sign-in works again (and the flood left no backlog behind).
    for _ in range(60):
        try:
            ApiClient(system.api_url, Account.create()).login().close()
            break
        except ApiClientError as exc:
            assert exc.status == 429 and exc.code == "RATE_LIMITED", exc
            time.sleep(1)
    else:
        raise AssertionError("sign-in stayed refused a minute after the flood")


def test_challenges_for_one_address_are_throttled(system):
    address = Account.create().address
    with httpx.Client(base_url=system.api_url, timeout=10) as http:
        replies = [http.post("/v1/auth/challenge", json={"address": address}) for _ in range(40)]
        refused = [r for r in replies if r.status_code == 429]
        assert refused, "40 challenges for one address, none refused"
        assert refused[0].json()["error"]["code"] == "RATE_LIMITED" and "retry-after" in refused[0].headers
        other = http.post("/v1/auth/challenge", json={"address": Account.create().address})
        if other.status_code == 429:  # the per-client budget, not the per-address one: wait it out
            _wait_out(other)
            other = http.post("/v1/auth/challenge", json={"address": Account.create().address})
        assert other.status_code == 200, other.text


def test_each_principal_has_a_request_budget(fresh_system):
    running = fresh_system(demo=False, extra_env={"CONSENT_LEDGER_RATE_LIMIT": "20",
                                                  "CONSENT_LEDGER_RATE_BURST": "20"})
    greedy = ApiClient(running.api_url, Account.create()).login()
    polite = ApiClient(running.api_url, Account.create()).login()
    try:
        replies = [greedy.request("GET", "/v1/consents") for _ in range(60)]
        refused = [r for r in replies if r.status_code == 429]
        assert refused, f"60 requests at once under a 20/s budget, none refused: {[r.status_code for r in replies]}"
        assert refused[0].json()["error"]["code"] == "RATE_LIMITED"
        assert int(refused[0].headers["retry-after"]) >= 1
        assert polite.request("GET", "/v1/consents").status_code == 200  # budgets are per principal
        # Unauthenticated requests are counted per client address.
        with httpx.Client(base_url=running.api_url) as anonymous:
            codes = [anonymous.get("/v1/consents").status_code for _ in range(60)]
        assert 429 in codes and set(codes) <= {401, 429}, codes
    finally:
        greedy.close()
        polite.close()


def test_crafted_sign_in_message_is_refused_at_once(system):
    """4 KB of zeros as a SIWE message (found by fuzzing): the EIP-4361 ABNF parser took over 10 s
    of CPU on it, so a handful of unauthenticated requests could stall the API."""
    with httpx.Client(base_url=system.api_url, timeout=30) as http:
        for _ in range(10):
            started = time.monotonic()
            reply = http.post("/v1/auth/login", json={"message": "0" * 4096, "signature": "0x" + "00" * 65})
            elapsed = time.monotonic() - started
            if reply.status_code != 429:  # an earlier test may have spent this client's sign-in budget
                break
            _wait_out(reply)
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "INVALID_SIWE_MESSAGE", reply.text
    assert elapsed < 2.0, f"a crafted sign-in message took {elapsed:.1f} s"
