"""A hand-folded projection for policy tests without a chain: one department holding its role, one
sensitive resource, one registered subject and one consent (events applied as the indexer does)."""

from __future__ import annotations

import datetime as dt

import orjson
from eth_utils import keccak

from ledger import policy
from ledger.projection import Projection

DEPARTMENT = "0x" + "11" * 20
SUBJECT = b"\x05" * 32
SLUG, FIELDS, PURPOSE = "hrss.social_insurance", ["name", "employer"], "pension_eligibility"
CONSENT = "0x" + "cc" * 32
DEPARTMENT_ROLE = keccak(text="DEPARTMENT_ROLE")
T = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


def log(block: int) -> dict:
    return {"blockNumber": hex(block), "logIndex": "0x0", "transactionHash": "0x" + f"{block:064x}"}


def world(max_uses: int = 0) -> Projection:
    p = Projection()
    for name, args in [
        ("DepartmentRegistered", {"account": DEPARTMENT, "code": b"d" * 32, "name": "hrss"}),
        ("RoleGranted", {"role": DEPARTMENT_ROLE, "account": DEPARTMENT}),
        ("ResourceRegistered", {"resourceId": keccak(text=SLUG), "provider": DEPARTMENT, "sharingClass": 0,
                                "sensitive": True, "fieldCount": 2,
                                "schemaHash": keccak(orjson.dumps(FIELDS))}),
        ("SubjectRegistered", {"subjectId": SUBJECT, "kind": 1, "threshold": 1}),
        ("ConsentGranted", {"consentId": bytes.fromhex(CONSENT[2:]), "subject": SUBJECT, "grantee": DEPARTMENT,
                            "resources": [keccak(text=SLUG)], "fieldMasks": [1], "purposeHash": keccak(text=PURPOSE),
                            "validFrom": 0, "validUntil": 2 ** 40, "maxUses": max_uses, "nonce": 1}),
    ]:
        p.apply(name, args, log(10), 1_700_000_000)
    p.block = 10
    return p


def request() -> policy.Request:
    return policy.Request(DEPARTMENT, SUBJECT, SLUG, ("name",), PURPOSE)
