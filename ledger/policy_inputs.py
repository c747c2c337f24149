"""The one adapter between chain state and :func:`ledger.policy.evaluate`.

The API's release decision and the regulator's re-check build the policy's inputs here and
nowhere else, so the two can only disagree if the chain state they start from differs.

:func:`gather` reads a :class:`~ledger.projection.ChainState` (the chain as of one block: the
verifier's in-memory fold, or the API's indexed tables) once, key by key, and copies what the policy needs into immutable values; :meth:`PolicyInputs.evaluate` then
decides at a given time with given use counts, as often as needed, without touching the
projection again (the API decides twice: once to know whether to open the record, once under the
audit log's lock with the exact use counts).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from ledger import policy
from ledger.domain import Role, resource_key_hex, schema_hash_hex
from ledger.projection import ChainState


def is_active_department(state: ChainState, account: str) -> bool:
    """``Participants.isActiveDepartment``: registered and active, and still holding DEPARTMENT_ROLE
    (a revoked or renounced role ends the department's access like deactivation does)."""
    department = state.department(account)
    return department is not None and department.active and state.has_role(account, Role.DEPARTMENT)


@lru_cache(maxsize=1024)
def _resource(resource_id: str, key: str, provider: str, sharing_class: str, sensitive: bool, active: bool,
              fields: tuple[str, ...]) -> policy.Resource:
    """Immutable, so built once per distinct catalog state, not per request."""
    return policy.Resource(resource_id=resource_id, resource_key=key, provider=provider, sharing_class=sharing_class,
                           sensitive=sensitive, active=active, fields=fields)


@dataclass(frozen=True, slots=True)
class PolicyInputs:
    """Everything :func:`ledger.policy.evaluate` needs, as of ``block_number``; consents carry no uses yet."""

    request: policy.Request
    department: policy.Department | None
    resource: policy.Resource | None
    subject_known: bool
    agreement: policy.Agreement | None
    consents: tuple[policy.Consent, ...]
    block_number: int
    suspension: policy.Suspension | None = None
    emergency: policy.Emergency | None = None
    objections: tuple[policy.Objection, ...] = ()

    def evaluate(self, timestamp: int, uses: Callable[[str], int]) -> policy.Decision:
        """Decide at ``timestamp`` (seconds), each consent having been used ``uses(consent_id)`` times."""
        consents = []
        for consent in self.consents:
            used = uses(consent.consent_id)
            consents.append(replace(consent, uses_so_far=used) if used else consent)
        return policy.evaluate(self.request, department=self.department, resource=self.resource,
                               subject_known=self.subject_known, agreement=self.agreement, consents=consents,
                               block=policy.Block(self.block_number, timestamp), suspension=self.suspension,
                               emergency=self.emergency, objections=self.objections)


def gather(state: ChainState, request: policy.Request, resource_fields: Sequence[str] | None, *,
           consent_ids: Collection[str] | None = None) -> PolicyInputs:
    """The policy's inputs for ``request`` from ``state`` (the chain as of ``state.block``).

    ``resource_fields`` is the resource's ordered field list (off-chain; None if unknown), whose
    field masks the chain's consents and agreements refer to. A list whose schema hash is not the
    chain's is not used: masks name fields by position, so a list the chain does not vouch for
    could release other fields (the resource is then unknown to the policy). ``consent_ids`` limits the consents
    that may justify the release (the verifier passes the one an entry cites); None: all of them.
    """
    requester, subject_id = request.requester, "0x" + request.subject_id.hex()
    department = None
    found = state.department(requester)
    if found is not None:
        department = policy.Department(found.address, found.code, is_active_department(state, requester))
    key = resource_key_hex(request.resource_id)
    on_chain = state.resource(key)
    resource = agreement = suspension = None
    consents: tuple[policy.Consent, ...] = ()
    objections: tuple[policy.Objection, ...] = ()
    if on_chain is not None and resource_fields is not None and \
            schema_hash_hex(tuple(resource_fields)) == on_chain.schema_hash:
        resource = _resource(request.resource_id, key, on_chain.provider, on_chain.sharing_class,
                             on_chain.sensitive, on_chain.active, tuple(resource_fields))
        suspended = state.suspension_of(requester, key)
        if suspended is not None and suspended.lifted_at is None:
            suspension = policy.Suspension(suspended.until)
        approved = state.agreement_for(requester, key, request.purpose)
        if approved is not None:
            agreement = policy.Agreement(field_mask=approved.field_mask, valid_until=approved.valid_until,
                                         purpose_hash=approved.purpose_hash, valid_from=approved.valid_from,
                                         ended=approved.ended_at is not None)
        consents = tuple(policy.Consent(
            consent_id=c.consent_id, subject_id=c.subject_id, grantee=c.grantee, resource_masks=c.resource_masks,
            purpose_hash=c.purpose_hash, valid_from=c.valid_from, valid_until=c.valid_until, max_uses=c.max_uses,
            status=c.status) for c in state.consents_for(subject_id, requester, key)
            if consent_ids is None or c.consent_id in consent_ids)
        objections = tuple(policy.Objection(o.objection_id, o.field_mask)
                           for o in state.marked_objections(subject_id, key))
    emergency = None
    if request.emergency_id is not None:
        declared = state.emergency(request.emergency_id)
        if declared is not None:
            emergency = policy.Emergency(frozenset(declared.departments), frozenset(declared.resources),
                                         None if declared.all_subjects else frozenset(declared.subjects),
                                         declared.declared_at, declared.until)
    return PolicyInputs(request, department, resource, state.subject_known(subject_id), agreement, consents,
                        state.block, suspension, emergency, objections)
