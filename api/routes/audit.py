"""Regulators read and verify the audit trail; subjects read who accessed their data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import AuditServiceDep, PrincipalDep, RegulatorDep, SignerDep
from api.schemas.audit import AnchorsPage, EntriesPage, InclusionProof, VerificationReport
from api.schemas.common import MAX_DB_INT, MAX_PAGE, SIGNED_IN, errors

router = APIRouter(tags=["audit"])
After = Annotated[int, Query(ge=-1, le=MAX_DB_INT, description="return entries with seq greater than this")]
AfterSize = Annotated[int, Query(ge=-1, le=MAX_DB_INT, description="return anchors of tree sizes greater than this")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Seq = Annotated[int, Path(ge=0, le=MAX_DB_INT, description="the entry's sequence number (leaf index)")]


@router.get("/v1/audit/entries", response_model=EntriesPage, responses=errors(*SIGNED_IN))
def list_entries(principal: PrincipalDep, audit: AuditServiceDep, after: After = -1, limit: Limit = 100):
    """All entries for regulators; a subject's signer gets only the entries about that subject."""
    return {"entries": audit.entries(principal, after=after, limit=limit)}


@router.get("/v1/audit/entries/{seq}/proof", response_model=InclusionProof, responses=errors(*SIGNED_IN, 404))
def entry_proof(seq: Seq, principal: PrincipalDep, audit: AuditServiceDep):
    """Inclusion proof against the newest anchored tree head that covers the entry."""
    return audit.proof(principal, seq)


@router.get("/v1/audit/anchors", response_model=AnchorsPage, responses=errors(*SIGNED_IN))
def list_anchors(_: RegulatorDep, audit: AuditServiceDep, after: AfterSize = 0, limit: Limit = 100):
    return {"anchors": audit.anchors(after=after, limit=limit)}


@router.post("/v1/audit/verify", response_model=VerificationReport, responses=errors(401, 403, 429, 503))
def verify(_: RegulatorDep, audit: AuditServiceDep):
    """Full re-verification: integrity against on-chain anchors and policy at each entry's block."""
    return audit.verify()


@router.get("/v1/me/access-log", response_model=EntriesPage, responses=errors(*SIGNED_IN))
def access_log(principal: SignerDep, audit: AuditServiceDep, after: After = -1, limit: Limit = 100):
    """Who accessed my data, when, why, the decision, its audit seq and a link to its proof."""
    return {"entries": audit.entries(principal, after=after, limit=limit, mine_only=True)}
