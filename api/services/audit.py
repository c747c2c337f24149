"""Audit log reads: entries, inclusion proofs against anchored heads, anchors, full verification."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from api.core.errors import ApiError
from api.core.security import Principal
from api.schemas.common import iso
from ledger.audit.entry import decode_leaf
from ledger.audit.trail import verify_trail
from ledger.domain import Role
from ledger.storage.models import AnchorRow, AuditEntryRow, ResourceRow

if TYPE_CHECKING:
    from api.services.context import AppServices


class AuditService:
    def __init__(self, services: "AppServices"):
        self.s = services

    def _own_subjects(self, principal: Principal) -> set[str]:
        return set(self.s.projection.signer_subjects.get(principal.address, ()))

    def entries(self, principal: Principal, *, after: int, limit: int, mine_only: bool = False) -> list[dict]:
        query = select(AuditEntryRow.leaf).where(AuditEntryRow.seq > after).order_by(AuditEntryRow.seq).limit(limit)
        if mine_only or not principal.has(Role.REGULATOR):
            subjects = self._own_subjects(principal)
            if not subjects:
                raise ApiError(403, "ROLE_REQUIRED", "audit entries are for regulators and for the subjects they are about")
            query = query.where(AuditEntryRow.subject_id.in_(subjects))
        with self.s.sessions() as session:
            leaves = session.scalars(query).all()
        departments = self.s.projection.departments
        out = []
        for leaf in leaves:
            entry = decode_leaf(leaf).as_dict()
            entry["requester_name"] = getattr(departments.get(entry["requester"]), "name", None)
            entry["proof"] = f"/v1/audit/entries/{entry['seq']}/proof"
            out.append(entry)
        return out

    def proof(self, principal: Principal, seq: int) -> dict:
        with self.s.sessions() as session:
            row = session.get(AuditEntryRow, seq)
            anchor = session.scalar(select(AnchorRow).where(AnchorRow.tree_size > seq)
                                    .order_by(AnchorRow.tree_size.desc()).limit(1))
        if row is None or seq >= self.s.audit.size:
            raise ApiError(404, "NOT_FOUND", "no committed audit entry with this seq")
        if not principal.has(Role.REGULATOR) and row.subject_id not in self._own_subjects(principal):
            raise ApiError(403, "FORBIDDEN", "this entry is not about a subject you sign for")
        size = anchor.tree_size if anchor else self.s.audit.size
        path = self.s.audit.inclusion_proof(seq, size)
        return {"leaf_index": seq, "tree_size": size, "leaf_hash": "0x" + row.leaf_hash.hex(),
                "leaf": row.leaf.decode(), "audit_path": ["0x" + h.hex() for h in path],
                "root_hash": "0x" + self.s.audit.root(size).hex(),
                "anchor": {"tx_hash": anchor.tx_hash, "block_number": anchor.block_number,
                           "contract": self.s.chain.contract("AuditAnchor").address} if anchor else None}

    def anchors(self, *, after: int, limit: int) -> list[dict]:
        with self.s.sessions() as session:
            rows = session.scalars(select(AnchorRow).where(AnchorRow.tree_size > after)
                                   .order_by(AnchorRow.tree_size).limit(limit)).all()
        return [{"tree_size": r.tree_size, "root_hash": r.root_hash, "tx_hash": r.tx_hash,
                 "block_number": r.block_number, "anchored_at": iso(r.anchored_at)} for r in rows]

    def verify(self) -> dict:
        with self.s.sessions() as session:
            leaves = session.scalars(select(AuditEntryRow.leaf).order_by(AuditEntryRow.seq)).all()
            fields = {r.resource_id: list(r.fields) for r in session.scalars(select(ResourceRow))}
        with self.s.audit.tree_lock:
            reference = [self.s.audit.tree.leaf_hash(i) for i in range(self.s.audit.tree.size)]
        return verify_trail(self.s.chain, list(leaves), fields, reference_hashes=reference,
                            max_anchor_lag=self.s.settings.max_anchor_lag_seconds).as_dict()
