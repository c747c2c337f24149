"""Consent and query steps shared by the end-to-end tests, as a citizen's wallet and a department do them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.client import ApiClient

ZHANG = {"id_type": "resident_id", "id_number": "370102198506124536"}
LI = {"id_type": "resident_id", "id_number": "440304199003072312"}
ENTERPRISE = {"id_type": "uscc", "id_number": "91370100MA5F3K2Y1G"}


def window(start: timedelta = timedelta(minutes=-1), length: timedelta = timedelta(days=30)) -> dict:
    begin = datetime.now(UTC) + start
    return {"valid_from": begin.isoformat(), "valid_until": (begin + length).isoformat()}


def grant(signer: ApiClient, grantee: ApiClient, subject: dict, resource_id: str, fields: list[str], *,
          purpose: str = "pension_eligibility", max_uses: int = 0, **window_args) -> str:
    """Draft, sign and submit a one-signer consent; returns its id."""
    draft = signer.post("/v1/consents/drafts", {
        **subject, "grantee": grantee.address, "resources": [{"resource_id": resource_id, "fields": fields}],
        "purpose": purpose, "max_uses": max_uses, **window(**window_args)})
    result = signer.post("/v1/consents", {"typed_data": draft["typed_data"],
                                          "signatures": [signer.sign_typed_data(draft["typed_data"])]})
    assert result["status"] == "active"
    return draft["consent_id"]


def revoke(signer: ApiClient, consent_id: str) -> dict:
    draft = signer.post(f"/v1/consents/{consent_id}/revocation-drafts")
    return signer.post(f"/v1/consents/{consent_id}/revocations",
                       {"typed_data": draft["typed_data"], "signature": signer.sign_typed_data(draft["typed_data"])})


def query(department: ApiClient, subject: dict, resource_id: str, fields: list[str],
          purpose: str = "pension_eligibility"):
    return department.request("POST", "/v1/records/query", {**subject, "resource_id": resource_id,
                                                            "fields": fields, "purpose": purpose})


def verification(regulator: ApiClient, *, full: bool = False, timeout: float = 120) -> dict:
    """Run a verification job through the API (a full one with ``full``) and return its finished job.

    A job of the other kind that is already running is waited out first: one runs at a time."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = regulator.post(f"/v1/audit/verify?full={str(full).lower()}")
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
            job = regulator.get(f"/v1/audit/verify/{job['job_id']}")
        if job["status"] == "failed" or job["full"] == full:
            return job
    raise AssertionError(f"no verification job finished within {timeout} s")
