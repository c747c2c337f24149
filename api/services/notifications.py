"""A subject's inbox (``GET /v1/me/notifications``): every access to its data, allowed or denied, as the
audit log records it, and every change to its consents and signers, as the chain records it; newest
first, written the way a citizen reads them (the department's registered name and code, the
resource's name, the purpose, the fields, the decision and why).

Pages are cut with a cursor that holds one position per source (the audit seq, and the chain event's
block and place), so an item arriving between two pages never shifts or repeats the next one: audit
entries' times never decrease along seq, and block times never decrease along blocks, so each source
is already in time order and the page is their merge.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import NamedTuple

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.core.security import Principal
from api.schemas.common import iso
from api.schemas.notifications import (AccessNotice, ConsentNotice, DepartmentRef, Notification, NotificationPage,
                                       ObjectionNotice, SignerChangeNotice)
from api.services.catalog import ResourceFields
from api.services.release import REASON_MESSAGES
from api.services.statements import Statements
from ledger import domain_errors as refused
from ledger.audit.entry import AuditEntry, decode_leaf
from ledger.chain.client import Chain
from ledger.domain import ConsentStatus, department_code_text
from ledger.projection_tables import TableProjection
from ledger.storage.models import AuditEntryRow

_BLOCK_TIMES = 4096


class _Item(NamedTuple):
    time_ms: int
    key: tuple  # ("access", seq) or ("chain", block, place, id): the source's own order
    notification: Notification


class NotificationService:
    def __init__(self, *, chain: Chain, sessions: sessionmaker[Session], projection: TableProjection,
                 resources: ResourceFields, statements: Statements):
        self._rpc = chain.rpc
        self._sessions = sessions
        self._projection = projection
        self._resources = resources
        self._statements = statements
        self._block_times: OrderedDict[int, int] = OrderedDict()

    def inbox(self, principal: Principal, before: str | None, limit: int) -> NotificationPage:
        subjects = self._projection.subjects_of_signer(principal.address)
        if not subjects:
            raise refused.RoleRequired("the inbox is for a registered subject's signers")
        access_bound, chain_bound = _decode_cursor(before)
        items = self._accesses(subjects, access_bound, limit)
        chain = sorted((i for i in self._chain_items(subjects, principal.address)
                        if chain_bound is None or i.key[1:] < chain_bound), key=lambda i: i.key, reverse=True)
        items += chain[:limit]
        items.sort(key=lambda i: (i.time_ms, i.key[0] == "chain", i.key[1:]), reverse=True)
        page = items[:limit]
        if len(page) < limit:
            return NotificationPage(notifications=[i.notification for i in page], next=None)
        seqs = [i.key[1] for i in page if i.key[0] == "access"]
        chained = [i.key[1:] for i in page if i.key[0] == "chain"]
        cursor = (min(seqs) if seqs else access_bound, min(chained) if chained else chain_bound)
        return NotificationPage(notifications=[i.notification for i in page], next=_encode_cursor(*cursor))

    # -- accesses, from the audit log ----------------------------------------------------------------
    def _accesses(self, subjects: set[str], below_seq: int | None, limit: int) -> list[_Item]:
        """The newest ``limit`` accesses shown to the subject below ``below_seq`` (fewer only when there are no
        more): rows are read in batches, as some may be held back by a delayed notice."""
        items: list[_Item] = []
        while len(items) < limit:
            query = select(AuditEntryRow.leaf).where(AuditEntryRow.subject_id.in_(subjects))
            if below_seq is not None:
                query = query.where(AuditEntryRow.seq < below_seq)
            with self._sessions() as session:
                leaves = session.scalars(query.order_by(AuditEntryRow.seq.desc()).limit(limit)).all()
            entries = [decode_leaf(leaf) for leaf in leaves]
            items += [self._access(e) for e in entries if not self._notice_delayed(e)]
            if len(leaves) < limit:
                break
            below_seq = entries[-1].seq
        return items[:limit]

    def _notice_delayed(self, e: AuditEntry) -> bool:
        """An access under an emergency whose notice to subjects is delayed (with a reason and a date, both
        on-chain) is shown from that date on."""
        if e.emergency_id is None:
            return False
        emergency = self._projection.emergency_record(e.emergency_id)
        return emergency is not None and emergency.notice_by is not None and emergency.notice_by > time.time()

    def _access(self, e: AuditEntry) -> _Item:
        department = self._department(e.requester)
        meta = self._resources.by_slug.get(e.resource)
        resource_name = meta.name if meta else None
        allowed = e.decision == "ALLOW"
        reason_text = None if allowed else REASON_MESSAGES.get(e.reason, e.reason)
        who = f"{department.name or e.requester}" + (f" ({department.code})" if department.code else "")
        what = f"{', '.join(e.fields)} of {resource_name or e.resource}"
        if e.emergency_id is not None:
            what += f" under emergency {e.emergency_id}, without consent"
        summary = (f"{who} received {what} for {e.purpose}" if allowed else
                   f"{who} asked for {what} for {e.purpose} and was refused: {reason_text}")
        notice = AccessNotice(seq=e.seq, department=department, resource_id=e.resource, resource_name=resource_name,
                              purpose=e.purpose, fields=list(e.fields), decision=e.decision, reason=e.reason,
                              reason_text=reason_text, consent_id=e.consent_id, emergency_id=e.emergency_id,
                              proof=f"/v1/audit/entries/{e.seq}/proof", bundle=f"/v1/audit/entries/{e.seq}/bundle")
        time_ms = int(e.time.timestamp() * 1000)
        return _Item(time_ms, ("access", e.seq), Notification(
            id=f"access:{e.seq}", kind="ACCESS", time=iso(e.time), subject_id=e.subject_id, summary=summary,
            access=notice))

    # -- consents and signer changes, from the chain ---------------------------------------------------
    def _chain_items(self, subjects: set[str], caller: str) -> list[_Item]:
        consents = [c for c in self._projection.consents_visible(subjects, caller) if c.subject_id in subjects]
        reasons = self._statements.texts({c.end_reason_hash for c in consents})
        items = []
        for c in consents:
            grantee = self._department(c.grantee)
            names = [self._resource_name(k) for k in c.resource_masks]
            items.append(self._chain_item(c.granted_block, 0, c.consent_id, c.subject_id, "CONSENT",
                                          f"You consented to {grantee.name or c.grantee} using {', '.join(names)}",
                                          consent=ConsentNotice(consent_id=c.consent_id, grantee=grantee,
                                                                resources=names, status="granted", by=None,
                                                                reason=None, block_number=c.granted_block)))
            if c.ended_block is not None:
                by_regulator = c.status == ConsentStatus.ENDED_BY_REGULATOR
                reason = reasons.get(c.end_reason_hash)
                summary = (f"A regulator ended your consent to {grantee.name or c.grantee}" + (f": {reason}" if reason
                                                                                             else "")
                           if by_regulator else f"Your consent to {grantee.name or c.grantee} was revoked")
                items.append(self._chain_item(c.ended_block, 1, c.consent_id, c.subject_id, "CONSENT", summary,
                                              consent=ConsentNotice(
                                                  consent_id=c.consent_id, grantee=grantee, resources=names,
                                                  status="ended_by_regulator" if by_regulator else "revoked",
                                                  by=c.ended_by, reason=reason, block_number=c.ended_block)))
        for change in self._projection.signer_changes_of(subjects):
            notice = dict(change_id=change.change_id, add=list(change.add), remove=list(change.remove),
                          threshold=change.threshold, effective_at=iso(change.effective_at))
            items.append(self._chain_item(
                change.proposed_block, 2, change.change_id, change.subject_id, "SIGNER_CHANGE",
                f"A change of your signers was proposed; unless cancelled it applies at {iso(change.effective_at)}",
                signer_change=SignerChangeNotice(**notice, status="PROPOSED", by=change.proposed_by,
                                                 block_number=change.proposed_block)))
            if change.ended_block is not None:
                items.append(self._chain_item(
                    change.ended_block, 3, change.change_id, change.subject_id, "SIGNER_CHANGE",
                    f"A change of your signers was {change.status.lower()}",
                    signer_change=SignerChangeNotice(**notice, status=change.status, by=change.ended_by,
                                                     block_number=change.ended_block)))
        items += self._objection_items(subjects)
        return items

    def _objection_items(self, subjects: set[str]) -> list[_Item]:
        """Each step of the subject's objections (第三十四条: "市政务数据主管部门应及时将处理结果告知异议提出人")."""
        objections = self._projection.objections(subjects=sorted(subjects))
        notes = self._statements.texts({o.note_hash for o in objections})
        items = []
        for o in objections:
            meta = self._resources.by_key.get(o.resource_key)
            name = meta.name if meta else o.resource_key
            fields = meta.fields_in(o.field_mask) if meta else []
            steps = [(o.filed_block, 4, "FILED", o.filed_by, f"Your objection to {', '.join(fields)} of {name} was "
                                                              f"filed with the data authority"),
                     (o.marked_block, 5, "MARKED", None, f"The data authority marked your objection to {name}: "
                                                         f"releases of {', '.join(fields)} now say they are disputed"),
                     (o.forwarded_block, 6, "FORWARDED", o.provider, f"The data authority forwarded your objection to "
                                                                     f"{self._department(o.provider).name or o.provider}"
                                                                     if o.provider else ""),
                     (o.decided_block, 7, "DECIDED", o.decided_by,
                      f"Your objection to {name} was decided: " + ("corrected" if o.corrected else "not corrected") +
                      (f" ({notes[o.note_hash]})" if o.note_hash in notes else ""))]
            for block, place, step, by, summary in steps:
                if block is None:
                    continue
                decided = step == "DECIDED"
                items.append(self._chain_item(block, place, str(o.objection_id), o.subject_id, "OBJECTION", summary,
                                              objection=ObjectionNotice(
                                                  objection_id=o.objection_id, resource_id=meta.resource_id if meta
                                                  else o.resource_key, resource_name=meta.name if meta else None,
                                                  fields=fields, step=step, by=by,
                                                  corrected=o.corrected if decided else None,
                                                  note=notes.get(o.note_hash) if decided else None,
                                                  block_number=block)))
        return items

    def _chain_item(self, block: int, place: int, ident: str, subject_id: str, kind: str, summary: str,
                    **notice) -> _Item:
        seconds = self._block_time(block)
        return _Item(seconds * 1000, ("chain", block, place, ident), Notification(
            id=f"{kind.lower()}:{ident}:{place}", kind=kind, time=iso(seconds), subject_id=subject_id,
            summary=summary, **notice))

    # -- helpers -------------------------------------------------------------------------------------
    def _department(self, address: str) -> DepartmentRef:
        found = self._projection.department(address)
        return DepartmentRef(address=address, code=department_code_text(found.code) if found else None,
                             name=found.name if found else None)

    def _resource_name(self, resource_key: str) -> str:
        meta = self._resources.by_key.get(resource_key)
        return meta.name if meta else resource_key

    def _block_time(self, number: int) -> int:
        """A block's timestamp, from the chain once (blocks never change once folded), kept in a bounded LRU."""
        found = self._block_times.get(number)
        if found is None:
            block = self._rpc.call("eth_getBlockByNumber", [hex(number), False])
            found = int(block["timestamp"], 16)
            self._block_times[number] = found
            if len(self._block_times) > _BLOCK_TIMES:
                self._block_times.popitem(last=False)
        else:
            self._block_times.move_to_end(number)
        return found


def _encode_cursor(access_bound: int | None, chain_bound: tuple | None) -> str:
    raw = orjson.dumps([access_bound, list(chain_bound) if chain_bound is not None else None])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[int | None, tuple | None]:
    if cursor is None:
        return None, None
    try:
        access, chain = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if access is not None and (type(access) is not int or access < 0):
            raise ValueError
        if chain is not None:
            block, place, ident = chain
            if type(block) is not int or type(place) is not int or not isinstance(ident, str) or block < 0:
                raise ValueError
            chain = (block, place, ident)
        return access, chain
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise refused.InvalidRequest("before: not a cursor this inbox gave out (use the 'next' of a page)") from None
