"""Regulators read and verify the audit trail; subjects read who accessed their data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import PrincipalDep, RegulatorDep, ServicesDep, SignerDep
from api.schemas.common import MAX_DB_INT, MAX_PAGE, Reply

router = APIRouter(tags=["audit"])
After = Annotated[int, Query(ge=-1, le=MAX_DB_INT, description="return entries with seq greater than this")]
AfterSize = Annotated[int, Query(ge=-1, le=MAX_DB_INT, description="return anchors of tree sizes greater than this")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Seq = Annotated[int, Path(ge=0, le=MAX_DB_INT, description="the entry's sequence number (leaf index)")]


class EntriesPage(Reply):
    entries: list[dict[str, Any]]


class AnchorsPage(Reply):
    anchors: list[dict[str, Any]]


class InclusionProof(Reply):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    leaf: str
    audit_path: list[str]
    root_hash: str
    anchor: dict[str, Any] | None


class VerificationReport(Reply):
    ok: bool
    entries_checked: int
    anchors_checked: int
    problems: list[dict[str, Any]]


@router.get("/v1/audit/entries", response_model=EntriesPage)
def list_entries(principal: PrincipalDep, services: ServicesDep, after: After = -1, limit: Limit = 100):
    """All entries for regulators; a subject's signer gets only the entries about that subject."""
    return {"entries": services.audit_reads.entries(principal, after=after, limit=limit)}


@router.get("/v1/audit/entries/{seq}/proof", response_model=InclusionProof)
def entry_proof(seq: Seq, principal: PrincipalDep, services: ServicesDep):
    """Inclusion proof against the newest anchored tree head that covers the entry."""
    return services.audit_reads.proof(principal, seq)


@router.get("/v1/audit/anchors", response_model=AnchorsPage)
def list_anchors(_: RegulatorDep, services: ServicesDep, after: AfterSize = 0, limit: Limit = 100):
    return {"anchors": services.audit_reads.anchors(after=after, limit=limit)}


@router.post("/v1/audit/verify", response_model=VerificationReport)
def verify(_: RegulatorDep, services: ServicesDep):
    """Full re-verification: integrity against on-chain anchors and policy at each entry's block."""
    return services.audit_reads.verify()


@router.get("/v1/me/access-log", response_model=EntriesPage)
def access_log(principal: SignerDep, services: ServicesDep, after: After = -1, limit: Limit = 100):
    """Who accessed my data, when, why, the decision, its audit seq and a link to its proof."""
    return {"entries": services.audit_reads.entries(principal, after=after, limit=limit, mine_only=True)}
