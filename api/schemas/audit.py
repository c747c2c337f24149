"""Audit trail reads: entries, inclusion proofs, anchors, verification jobs and their reports."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.schemas.common import Reply


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


class BundleAnchor(Reply):
    chain_id: int
    audit_anchor: str = Field(description="the AuditAnchor contract the log names (check it against your own "
                                          "deployment)")
    tx_hash: str = Field(description="the transaction that anchored the checkpoint's tree head")
    block_number: int


class ProofBundle(Reply):
    """An offline proof that the entry is in the log, for `consent-ledger audit verify-bundle`."""

    format: str = Field(description="consent-ledger-audit-bundle/1")
    leaf: str = Field(description="the entry's canonical JSON text: its UTF-8 bytes are the hashed leaf")
    proof: str = Field(description="a C2SP tlog-proof (c2sp.org/tlog-proof@v1): index, inclusion path, and the "
                                   "log's signed checkpoint of the anchored tree head")
    anchor: BundleAnchor


class VerificationReport(Reply):
    ok: bool
    entries_checked: int = Field(description="entries checked by this run: those after the last verified size")
    anchors_checked: int
    allows_reevaluated: int
    unanchored_entries: int
    from_size: int = Field(description="the log size verified before this run (0: a full verification)")
    verified_size: int = Field(description="the anchored log size verified so far, the next run's start")
    problems: list[dict[str, Any]] = Field(description="each with kind (a stable code), seq and message")


class VerificationJob(Reply):
    job_id: str
    status: Literal["queued", "running", "done", "failed"]
    full: bool = Field(description="every entry again, not only those after the last verified tree head")
    entries_checked: int = Field(description="progress: entries checked so far, of entries_total")
    entries_total: int
    from_size: int
    created_at: str
    finished_at: str | None
    report: VerificationReport | None = Field(description="when done")
    error: str | None = Field(description="when failed: why the verification could not finish")
