"""Regulators read and verify the audit trail; subjects read who accessed their data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.deps import AuditServiceDep, PrincipalDep, RegulatorDep, SignerDep
from api.schemas.audit import AnchorsPage, EntriesPage, InclusionProof, ProofBundle, VerificationJob
from api.schemas.common import MAX_DB_INT, MAX_PAGE, SIGNED_IN, errors

router = APIRouter(tags=["audit"])
After = Annotated[int, Query(ge=-1, le=MAX_DB_INT, description="return entries with seq greater than this")]
AfterSize = Annotated[int, Query(ge=-1, le=MAX_DB_INT, description="return anchors of tree sizes greater than this")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Seq = Annotated[int, Path(ge=0, le=MAX_DB_INT, description="the entry's sequence number (leaf index)")]
Full = Annotated[bool, Query(description="verify every entry again, not only those after the last verified "
                                        "tree head")]
JobId = Annotated[str, Path(max_length=64, description="the id POST /v1/audit/verify answered")]


@router.get("/v1/audit/entries", response_model=EntriesPage, responses=errors(*SIGNED_IN))
def list_entries(principal: PrincipalDep, audit: AuditServiceDep, after: After = -1, limit: Limit = 100):
    """All entries for regulators; a subject's signer gets only the entries about that subject."""
    return {"entries": audit.entries(principal, after=after, limit=limit)}


@router.get("/v1/audit/entries/{seq}/proof", response_model=InclusionProof, responses=errors(*SIGNED_IN, 404))
def entry_proof(seq: Seq, principal: PrincipalDep, audit: AuditServiceDep):
    """Inclusion proof against the newest anchored tree head that covers the entry."""
    return audit.proof(principal, seq)


@router.get("/v1/audit/entries/{seq}/bundle", response_model=ProofBundle, responses=errors(*SIGNED_IN, 404))
def entry_bundle(seq: Seq, principal: PrincipalDep, audit: AuditServiceDep):
    """The entry's offline proof bundle, once an anchored tree head covers it: the entry, its C2SP
    tlog-proof and the anchoring transaction. Check it with `consent-ledger audit verify-bundle`,
    against the chain and the log's public key alone."""
    return audit.bundle(principal, seq)


@router.get("/v1/audit/anchors", response_model=AnchorsPage, responses=errors(*SIGNED_IN))
def list_anchors(_: RegulatorDep, audit: AuditServiceDep, after: AfterSize = 0, limit: Limit = 100):
    return {"anchors": audit.anchors(after=after, limit=limit)}


@router.post("/v1/audit/verify", response_model=VerificationJob, status_code=202,
             responses=errors(401, 403, 429, 503))
def verify(_: RegulatorDep, audit: AuditServiceDep, response: Response, full: Full = False):
    """Start a re-verification of the entries added since the last one (the first is a full one):
    integrity against on-chain anchors, policy at each entry's block, times. One job runs at a time:
    while one is queued or running, this answers that job. Poll the Location it names."""
    job = audit.start_verification(full=full)
    response.headers["Location"] = f"/v1/audit/verify/{job.job_id}"
    return job


@router.get("/v1/audit/verify/{job_id}", response_model=VerificationJob, responses=errors(*SIGNED_IN, 404))
def verification(job_id: JobId, _: RegulatorDep, audit: AuditServiceDep):
    """A verification job: its status, progress and, when done, its report."""
    return audit.verification(job_id)


@router.get("/v1/me/access-log", response_model=EntriesPage, responses=errors(*SIGNED_IN))
def access_log(principal: SignerDep, audit: AuditServiceDep, after: After = -1, limit: Limit = 100):
    """Who accessed my data, when, why, the decision, its audit seq and a link to its proof."""
    return {"entries": audit.entries(principal, after=after, limit=limit, mine_only=True)}
