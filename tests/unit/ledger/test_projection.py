"""Sharing agreements in the projection: keyed by purpose, renewed, ended, and kept across a restart."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from ledger.indexer import _persist
from ledger.projection import Projection, hex32
from ledger.projection_tables import TableProjection
from ledger.storage.database import make_engine, make_sessionmaker, migrate

pytestmark = pytest.mark.unit

DEPT = "0x1111111111111111111111111111111111111111"
PROVIDER = "0x3333333333333333333333333333333333333333"
RESOURCE = keccak(text="gjj.housing_fund")
KEY = hex32(RESOURCE)


def _log(block: int) -> dict:
    return {"blockNumber": hex(block), "transactionHash": "0x" + "ab" * 32}


def _request(p: Projection, request_id: int, purpose: str, mask: int = 0b11) -> set:
    return {p.apply("SharingRequested", {"requestId": request_id, "requester": DEPT, "resourceId": RESOURCE,
                                         "fieldMask": mask, "purpose": keccak(text=purpose), "validUntil": 1_000},
                    _log(1), 10)}


def _approve(p: Projection, request_id: int, at: int) -> set:
    return {p.apply("SharingApproved", {"requestId": request_id, "provider": PROVIDER, "decidedAt": at}, _log(2), at)}


def _end(p: Projection, request_id: int, at: int, reason: bytes = b"\0" * 32) -> set:
    return {p.apply("AgreementEnded", {"requestId": request_id, "endedBy": PROVIDER, "reasonHash": reason,
                                       "endedAt": at}, _log(3), at)}


def test_agreements_for_two_purposes_coexist():
    p = Projection()
    _request(p, 1, "loan_review")
    _request(p, 2, "subsidy", mask=0b100)
    _approve(p, 1, 20)
    _approve(p, 2, 30)
    first, second = p.agreement_for(DEPT, KEY, "loan_review"), p.agreement_for(DEPT, KEY, "subsidy")
    assert (first.request_id, first.field_mask, first.valid_from, first.valid_until) == (1, 0b11, 20, 1_000)
    assert (second.request_id, second.field_mask, second.valid_from) == (2, 0b100, 30)
    assert p.agreement_for(DEPT, KEY, "marketing") is None


def test_end_marks_the_request_and_its_agreement():
    p = Projection()
    _request(p, 1, "loan_review")
    _approve(p, 1, 20)
    assert _end(p, 1, 40) == {("sharing_request", 1)}
    assert p.sharing_requests[1].status == "ENDED"
    agreement = p.agreement_for(DEPT, KEY, "loan_review")
    assert (agreement.ended_at, agreement.ended_by) == (40, PROVIDER)


def test_renewal_replaces_the_agreement_of_the_same_purpose():
    p = Projection()
    _request(p, 1, "loan_review")
    _request(p, 2, "loan_review", mask=0b1)
    _approve(p, 1, 20)
    # The contract emits the old agreement's end, then the new approval.
    _end(p, 1, 50, keccak(text="renewed"))
    _approve(p, 2, 50)
    agreement = p.agreement_for(DEPT, KEY, "loan_review")
    assert (agreement.request_id, agreement.field_mask, agreement.valid_from, agreement.ended_at) == (2, 0b1, 50, None)
    assert p.sharing_requests[1].status == "ENDED" and p.sharing_requests[2].status == "APPROVED"


def test_agreements_are_read_back_from_their_rows(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'projection.db'}")
    migrate(engine)
    sessions = make_sessionmaker(engine)
    p = Projection()
    dirty = _request(p, 1, "loan_review") | _request(p, 2, "subsidy") | _approve(p, 1, 20) | _approve(p, 2, 30)
    dirty |= _end(p, 2, 60)
    with sessions.begin() as session:
        _persist(session, p, list(dirty))
    tables = TableProjection(sessions)
    assert {(d, k, a.purpose_hash): a for d, k, a in tables.agreements(None)} == p.agreements
    assert {r.request_id: r.status for r in tables.sharing_requests(DEPT)} == {1: "APPROVED", 2: "ENDED"}
    assert tables.agreement(tables.sharing_request(2)) == p.agreements[(DEPT, KEY, p.sharing_requests[2].purpose_hash)]
    engine.dispose()
