"""Audit trail reads: entries, inclusion proofs, anchors, the verification report."""

from __future__ import annotations

from typing import Any

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


class VerificationReport(Reply):
    ok: bool
    entries_checked: int
    anchors_checked: int
    problems: list[dict[str, Any]]
