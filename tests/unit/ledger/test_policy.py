"""The release policy: every reason code, precedence, consent choice, helpers, properties."""

from __future__ import annotations

import dataclasses
import random

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.exceptions import PolicyInputError
from ledger.policy import (
    Agreement,
    Block,
    Consent,
    ConsentStatus,
    Decision,
    Department,
    Emergency,
    Objection,
    Reason,
    Request,
    Resource,
    SharingClass,
    Suspension,
    evaluate,
    fields_to_mask,
    mask_to_fields,
    purpose_hash,
    resource_key,
    schema_hash,
)

pytestmark = pytest.mark.unit

DEPT_ADDR = "0x1111111111111111111111111111111111111111"
OTHER_DEPT = "0x2222222222222222222222222222222222222222"
PROVIDER = "0x3333333333333333333333333333333333333333"
SUBJECT = bytes.fromhex("aa" * 32)
OTHER_SUBJECT = bytes.fromhex("bb" * 32)
PURPOSE = "social-assistance-eligibility"
FIELDS = ("name", "id_number", "insured_since", "employer", "monthly_base")
NOW = 1_760_000_000
BLOCK = Block(number=500, timestamp=NOW)

DEPT = Department(DEPT_ADDR, "370000-MZ", True)


def make_resource(**overrides) -> Resource:
    values = dict(
        resource_id="hrss.social_insurance",
        resource_key=resource_key("hrss.social_insurance"),
        provider=PROVIDER,
        sharing_class=SharingClass.UNCONDITIONAL,
        sensitive=True,
        active=True,
        fields=FIELDS,
    )
    values.update(overrides)
    return Resource(**values)


RES = make_resource()
KEY = RES.resource_key
ALL = (1 << len(FIELDS)) - 1


def make_agreement(field_mask: int = ALL, valid_until: int = NOW + 100, **overrides) -> Agreement:
    values = dict(field_mask=field_mask, valid_until=valid_until, purpose_hash=purpose_hash(PURPOSE), valid_from=NOW - 100)
    values.update(overrides)
    return Agreement(**values)


def make_consent(n: int = 1, **overrides) -> Consent:
    values = dict(
        consent_id=f"0x{n:064x}",
        subject_id=SUBJECT,
        grantee=DEPT_ADDR,
        resource_masks={KEY: ALL},
        purpose_hash=purpose_hash(PURPOSE),
        valid_from=NOW - 86_400,
        valid_until=NOW + 86_400,
        max_uses=0,
        status=ConsentStatus.ACTIVE,
        uses_so_far=0,
    )
    values.update(overrides)
    return Consent(**values)


def make_request(**overrides) -> Request:
    values = dict(requester=DEPT_ADDR, subject_id=SUBJECT, resource_id=RES.resource_id, fields=("name", "employer"), purpose=PURPOSE)
    values.update(overrides)
    return Request(**values)


def decide(request: Request | None = None, **overrides) -> Decision:
    kwargs = dict(department=DEPT, resource=RES, subject_known=True, agreement=None, consents=[make_consent()], block=BLOCK)
    kwargs.update(overrides)
    return evaluate(request or make_request(), **kwargs)


def reason(request: Request | None = None, **overrides) -> Reason:
    return decide(request, **overrides).reason


# --- codes -------------------------------------------------------------------------------------


def test_reason_codes_are_stable() -> None:
    assert [r.value for r in Reason] == [
        "OK", "NOT_DEPARTMENT", "UNKNOWN_RESOURCE", "RESOURCE_INACTIVE", "UNKNOWN_SUBJECT", "UNKNOWN_FIELD",
        "NOT_SHARED", "NO_AGREEMENT", "NO_CONSENT", "REVOKED", "EXPIRED", "NOT_YET_VALID", "PURPOSE_MISMATCH",
        "FIELD_NOT_GRANTED", "USES_EXHAUSTED", "AGREEMENT_ENDED", "SUSPENDED", "NO_EMERGENCY",
        "OUTSIDE_EMERGENCY_SCOPE", "EMERGENCY_NOT_IN_FORCE", "ENDED_BY_REGULATOR",
    ]
    assert str(Reason.NO_CONSENT) == "NO_CONSENT" and Reason.NO_CONSENT == "NO_CONSENT"


# --- allow paths -------------------------------------------------------------------------------


def test_sensitive_release_with_consent() -> None:
    d = decide()
    assert d == Decision(True, Reason.OK, f"0x{1:064x}", 0b01001, ("employer", "name"))


def test_non_sensitive_unconditional_needs_no_consent_nor_registered_subject() -> None:
    d = decide(resource=make_resource(sensitive=False), consents=[], subject_known=False)
    assert d.allowed and d.reason is Reason.OK and d.consent_id is None and d.field_mask == 0b01001


def test_conditional_non_sensitive_with_agreement() -> None:
    res = make_resource(sharing_class="CONDITIONAL", sensitive=False)
    d = decide(resource=res, agreement=make_agreement(0b01011, NOW + 1), consents=[])
    assert d.allowed and d.consent_id is None


def test_conditional_sensitive_needs_both() -> None:
    res = make_resource(sharing_class=SharingClass.CONDITIONAL)
    good = make_agreement()
    assert decide(resource=res, agreement=good).allowed
    assert reason(resource=res, agreement=good, consents=[]) is Reason.NO_CONSENT
    assert reason(resource=res, agreement=None) is Reason.NO_AGREEMENT


def test_requester_address_case_does_not_matter() -> None:
    checksummed = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"
    dept = Department(checksummed, "X", True)
    consent = make_consent(grantee=checksummed.lower())
    assert decide(make_request(requester=checksummed.upper().replace("0X", "0x")), department=dept, consents=[consent]).allowed


def test_fields_are_sorted_and_deduplicated() -> None:
    d = decide(make_request(fields=["name", "employer", "name"]))
    assert d.fields == ("employer", "name") and d.field_mask == 0b01001


def test_subject_and_keys_accept_hex() -> None:
    consent = make_consent(subject_id="0x" + "aa" * 32, resource_masks={"0x" + KEY.hex(): ALL}, purpose_hash=purpose_hash(PURPOSE).hex())
    assert decide(make_request(subject_id="aa" * 32), consents=[consent]).allowed


# --- each deny reason ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "department",
    [None, Department(DEPT_ADDR, "X", False), Department(OTHER_DEPT, "X", True)],
    ids=["unknown", "inactive", "someone-else"],
)
def test_not_department(department) -> None:
    d = decide(department=department)
    assert d == Decision(False, Reason.NOT_DEPARTMENT, None, 0, ("employer", "name"))


def test_unknown_and_inactive_resource() -> None:
    assert reason(resource=None) is Reason.UNKNOWN_RESOURCE
    assert reason(resource=make_resource(resource_id="other.slug")) is Reason.UNKNOWN_RESOURCE
    assert reason(resource=make_resource(active=False)) is Reason.RESOURCE_INACTIVE


@pytest.mark.parametrize("fields", [(), ("salary",), ("name", "salary"), ("Name",)])
def test_unknown_field(fields) -> None:
    d = decide(make_request(fields=fields))
    assert d.reason is Reason.UNKNOWN_FIELD and d.field_mask == 0 and not d.allowed


def test_not_shared_even_with_consent_and_agreement() -> None:
    res = make_resource(sharing_class="NOT_SHARED")
    d = decide(resource=res, agreement=make_agreement(ALL, NOW + 10))
    assert d.reason is Reason.NOT_SHARED and d.field_mask == 0b01001


@pytest.mark.parametrize(
    "agreement",
    [None, make_agreement(0b00001), make_agreement(ALL, NOW), make_agreement(ALL, NOW - 1),
     make_agreement(purpose_hash=purpose_hash("marketing")), make_agreement(valid_from=NOW + 1)],
    ids=["none", "fields-not-covered", "expires-now", "expired", "other-purpose", "not-yet-in-force"],
)
def test_no_agreement(agreement) -> None:
    res = make_resource(sharing_class="CONDITIONAL", sensitive=False)
    assert reason(resource=res, agreement=agreement) is Reason.NO_AGREEMENT


def test_agreement_term_is_valid_from_inclusive_valid_until_exclusive() -> None:
    res = make_resource(sharing_class="CONDITIONAL", sensitive=False)
    assert decide(resource=res, agreement=make_agreement(ALL, NOW + 1)).allowed
    assert not decide(resource=res, agreement=make_agreement(ALL, NOW)).allowed
    assert decide(resource=res, agreement=make_agreement(valid_from=NOW)).allowed
    assert not decide(resource=res, agreement=make_agreement(valid_from=NOW + 1)).allowed


def test_agreement_binds_its_purpose() -> None:
    res = make_resource(sharing_class="CONDITIONAL", sensitive=False)
    agreement = make_agreement(purpose_hash=purpose_hash("loan_review"))
    assert decide(make_request(purpose="loan_review"), resource=res, agreement=agreement).allowed
    assert reason(make_request(purpose=PURPOSE), resource=res, agreement=agreement) is Reason.NO_AGREEMENT


def test_ended_agreement() -> None:
    res = make_resource(sharing_class="CONDITIONAL")
    assert reason(resource=res, agreement=make_agreement(ended=True)) is Reason.AGREEMENT_ENDED
    # Another purpose's agreement says nothing about this one, ended or not.
    other = make_agreement(ended=True, purpose_hash=purpose_hash("marketing"))
    assert reason(resource=res, agreement=other) is Reason.NO_AGREEMENT


def test_suspension_refuses_whatever_else_would_allow() -> None:
    assert decide().allowed
    assert reason(suspension=Suspension()) is Reason.SUSPENDED  # ended: until lifted
    assert reason(suspension=Suspension(until=NOW + 1)) is Reason.SUSPENDED
    conditional = make_resource(sharing_class="CONDITIONAL", sensitive=False)
    assert reason(resource=conditional, agreement=make_agreement(), suspension=Suspension()) is Reason.SUSPENDED


def test_suspension_is_over_at_its_end() -> None:
    assert decide(suspension=Suspension(until=NOW)).allowed  # until is exclusive
    assert decide(suspension=Suspension(until=NOW - 1)).allowed


def test_suspension_ranks_after_department_and_resource_checks() -> None:
    assert reason(department=None, suspension=Suspension()) is Reason.NOT_DEPARTMENT
    assert reason(resource=make_resource(active=False), suspension=Suspension()) is Reason.RESOURCE_INACTIVE
    assert reason(make_request(fields=("salary",)), suspension=Suspension()) is Reason.SUSPENDED


def _emergency(**overrides) -> Emergency:
    values = dict(departments=frozenset({DEPT_ADDR}), resources=frozenset({RES.resource_key}), subjects=None,
                  declared_at=NOW - 10, until=NOW + 10)
    values.update(overrides)
    return Emergency(**values)


def test_an_emergency_release_needs_no_consent_and_ignores_not_shared() -> None:
    under = make_request(emergency_id=7)
    for resource in (RES, make_resource(sharing_class="NOT_SHARED"), make_resource(sharing_class="CONDITIONAL")):
        d = decide(under, resource=resource, consents=[], subject_known=False, emergency=_emergency())
        assert d.allowed and d.consent_id is None, resource.sharing_class


def test_an_emergency_release_stays_inside_its_scope_and_window() -> None:
    under = make_request(emergency_id=7)
    assert reason(under, emergency=None) is Reason.NO_EMERGENCY
    other = "0x" + "9" * 40
    assert reason(under, emergency=_emergency(departments=frozenset({other}))) is Reason.OUTSIDE_EMERGENCY_SCOPE
    assert reason(under, emergency=_emergency(resources=frozenset({b"\x01" * 32}))) is Reason.OUTSIDE_EMERGENCY_SCOPE
    assert reason(under, emergency=_emergency(subjects=frozenset({b"\x02" * 32}))) is Reason.OUTSIDE_EMERGENCY_SCOPE
    assert decide(under, emergency=_emergency(subjects=frozenset({SUBJECT}))).allowed
    assert reason(under, emergency=_emergency(until=NOW)) is Reason.EMERGENCY_NOT_IN_FORCE  # until is exclusive
    assert reason(under, emergency=_emergency(declared_at=NOW + 1)) is Reason.EMERGENCY_NOT_IN_FORCE
    # Without emergency_id the emergency is not consulted at all.
    assert reason(make_request(), consents=[], emergency=_emergency()) is Reason.NO_CONSENT


def test_an_emergency_does_not_lift_a_suspension_or_the_department_checks() -> None:
    under = make_request(emergency_id=7)
    assert reason(under, suspension=Suspension(), emergency=_emergency()) is Reason.SUSPENDED
    assert reason(under, department=None, emergency=_emergency()) is Reason.NOT_DEPARTMENT


def test_agreement_rejects_malformed_purpose_hash() -> None:
    with pytest.raises(PolicyInputError):
        make_agreement(purpose_hash=b"short")


def test_schema_hash_is_keccak_of_compact_json() -> None:
    assert schema_hash(["a", "b"]) == keccak(b'["a","b"]')
    assert schema_hash(("a", "b")) == schema_hash(["a", "b"]) != schema_hash(["b", "a"])


def test_unknown_subject_only_matters_for_sensitive_resources() -> None:
    assert reason(subject_known=False) is Reason.UNKNOWN_SUBJECT
    assert decide(resource=make_resource(sensitive=False), subject_known=False).allowed


def test_no_consent_and_foreign_consents_are_ignored() -> None:
    assert reason(consents=[]) is Reason.NO_CONSENT
    foreign = [
        make_consent(2, subject_id=OTHER_SUBJECT),
        make_consent(3, grantee=OTHER_DEPT),
        make_consent(4, resource_masks={resource_key("other.resource"): ALL}),
        make_consent(5, granted_at_block=BLOCK.number + 1),  # granted after the evaluated block
    ]
    assert reason(consents=foreign) is Reason.NO_CONSENT
    assert reason(consents=foreign + [make_consent(9)]) is Reason.OK


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"status": ConsentStatus.REVOKED}, Reason.REVOKED),
        ({"status": "REVOKED", "revoked_at_block": BLOCK.number}, Reason.REVOKED),
        ({"status": "ACTIVE", "revoked_at_block": BLOCK.number - 1}, Reason.REVOKED),
        ({"status": ConsentStatus.ENDED_BY_REGULATOR}, Reason.ENDED_BY_REGULATOR),
        ({"status": "ENDED_BY_REGULATOR", "revoked_at_block": BLOCK.number}, Reason.ENDED_BY_REGULATOR),
        ({"valid_until": NOW}, Reason.EXPIRED),
        ({"valid_from": NOW - 10, "valid_until": NOW - 5}, Reason.EXPIRED),
        ({"valid_from": NOW + 1}, Reason.NOT_YET_VALID),
        ({"purpose_hash": purpose_hash("marketing")}, Reason.PURPOSE_MISMATCH),
        ({"resource_masks": {KEY: 0b00001}}, Reason.FIELD_NOT_GRANTED),
        ({"resource_masks": {KEY: 0}}, Reason.FIELD_NOT_GRANTED),
        ({"max_uses": 3, "uses_so_far": 3}, Reason.USES_EXHAUSTED),
        ({"max_uses": 1, "uses_so_far": 7}, Reason.USES_EXHAUSTED),
    ],
)
def test_single_consent_deny_reasons(overrides: dict, expected: Reason) -> None:
    d = decide(consents=[make_consent(**overrides)])
    assert d == Decision(False, expected, None, 0b01001, ("employer", "name"))


@pytest.mark.parametrize(
    "overrides",
    [
        {"valid_from": NOW},  # window start is inclusive
        {"valid_until": NOW + 1},
        {"max_uses": 3, "uses_so_far": 2},
        {"max_uses": 0, "uses_so_far": 10_000},  # 0 = unlimited
        {"resource_masks": {KEY: 0b01001}},  # exactly the requested fields
        {"status": "REVOKED", "revoked_at_block": BLOCK.number + 1},  # revoked after this block
        {"granted_at_block": BLOCK.number},
    ],
)
def test_single_consent_boundaries_that_allow(overrides: dict) -> None:
    assert decide(consents=[make_consent(**overrides)]).allowed


# --- precedence among several consents -------------------------------------------------------------

FAILING = {
    Reason.PURPOSE_MISMATCH: {"purpose_hash": purpose_hash("other")},
    Reason.REVOKED: {"status": "REVOKED"},
    Reason.EXPIRED: {"valid_until": NOW - 1, "valid_from": NOW - 100},
    Reason.NOT_YET_VALID: {"valid_from": NOW + 100, "valid_until": NOW + 200},
    Reason.FIELD_NOT_GRANTED: {"resource_masks": {KEY: 1}},
    Reason.USES_EXHAUSTED: {"max_uses": 1, "uses_so_far": 1},
}
ORDER = list(FAILING)


def test_precedence_reports_the_consent_closest_to_usable() -> None:
    rng = random.Random(3)
    for r in range(1, len(ORDER) + 1):
        for _ in range(20):
            chosen = rng.sample(ORDER, r)
            consents = [make_consent(i + 1, **FAILING[c]) for i, c in enumerate(chosen)]
            expected = max(chosen, key=ORDER.index)
            assert reason(consents=consents) is expected, chosen
            assert reason(consents=consents + [make_consent(99)]) is Reason.OK


def test_ended_by_regulator_is_reported_apart_from_revoked() -> None:
    ended, revoked = make_consent(1, status="ENDED_BY_REGULATOR"), make_consent(2, status="REVOKED")
    assert reason(consents=[ended]) is Reason.ENDED_BY_REGULATOR
    assert reason(consents=[ended, revoked]) is Reason.REVOKED  # the revoked one ranks closer to usable
    assert decide(consents=[ended, make_consent(3)]).consent_id == make_consent(3).consent_id
    # ended after the block: still in force at it
    assert decide(consents=[make_consent(1, status="ENDED_BY_REGULATOR", revoked_at_block=BLOCK.number + 1)]).allowed


def test_revoked_only_when_every_matching_consent_is_revoked() -> None:
    assert reason(consents=[make_consent(1, status="REVOKED"), make_consent(2, status="REVOKED")]) is Reason.REVOKED
    assert reason(consents=[make_consent(1, status="REVOKED"), make_consent(2, valid_until=NOW)]) is Reason.EXPIRED


def test_a_revocation_wins_over_an_otherwise_valid_consent() -> None:
    consent = make_consent()
    assert decide(consents=[consent]).allowed
    revoked = dataclasses.replace(consent, status=ConsentStatus.REVOKED)
    assert reason(consents=[revoked]) is Reason.REVOKED


# --- choosing among valid consents -------------------------------------------------------------------


def test_best_consent_expires_first_then_fewest_uses_left_then_smallest_id() -> None:
    later = make_consent(1, valid_until=NOW + 1000)
    sooner = make_consent(2, valid_until=NOW + 10)
    assert decide(consents=[later, sooner]).consent_id == sooner.consent_id
    many = make_consent(3, max_uses=10, uses_so_far=1)
    few = make_consent(4, max_uses=10, uses_so_far=8)
    unlimited = make_consent(5)
    assert decide(consents=[unlimited, many, few]).consent_id == few.consent_id
    assert decide(consents=[make_consent(7), make_consent(6)]).consent_id == make_consent(6).consent_id


def test_decision_does_not_depend_on_consent_order() -> None:
    pool = [make_consent(i, **FAILING[ORDER[i % 6]]) for i in range(12)] + [
        make_consent(50, valid_until=NOW + 500),
        make_consent(51, valid_until=NOW + 50, max_uses=5, uses_so_far=1),
        make_consent(52, valid_until=NOW + 50, max_uses=5, uses_so_far=2),
    ]
    rng = random.Random(11)
    results = set()
    for _ in range(30):
        rng.shuffle(pool)
        results.add(decide(consents=list(pool)))
    assert len(results) == 1
    assert results.pop().consent_id == f"0x{52:064x}"


def test_consents_may_be_any_iterable() -> None:
    assert decide(consents=iter([make_consent()])).allowed
    assert decide(consents=(c for c in [make_consent()])).allowed


# --- helpers -----------------------------------------------------------------------------------------


def test_masks_round_trip() -> None:
    assert fields_to_mask(RES, ["name"]) == 1
    assert fields_to_mask(RES, ["monthly_base", "name"]) == 0b10001
    assert fields_to_mask(RES, []) == 0
    assert mask_to_fields(RES, 0b10110) == ("id_number", "insured_since", "monthly_base")
    for mask in range(ALL + 1):
        assert fields_to_mask(RES, mask_to_fields(RES, mask)) == mask
    with pytest.raises(PolicyInputError, match="no field 'salary'"):
        fields_to_mask(RES, ["salary"])
    with pytest.raises(PolicyInputError, match="bits beyond the 5 fields"):
        mask_to_fields(RES, 1 << 5)
    with pytest.raises(PolicyInputError):
        mask_to_fields(RES, -1)


def test_hashes_are_keccak() -> None:
    assert purpose_hash("").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert resource_key("hrss.social_insurance") == purpose_hash("hrss.social_insurance")
    assert len(resource_key("a")) == 32


def test_input_validation() -> None:
    with pytest.raises(PolicyInputError, match="repeats a field"):
        make_resource(fields=("a", "a"))
    with pytest.raises(PolicyInputError, match="1..256 fields"):
        make_resource(fields=())
    with pytest.raises(PolicyInputError, match="1..256 fields"):
        make_resource(fields=tuple(f"f{i}" for i in range(257)))
    make_resource(fields=tuple(f"f{i}" for i in range(256)))
    with pytest.raises(PolicyInputError, match="unknown sharing class"):
        make_resource(sharing_class="SOMETIMES")
    with pytest.raises(PolicyInputError, match="resource_key must be 32 bytes"):
        make_resource(resource_key=b"short")
    with pytest.raises(PolicyInputError, match="unknown consent status"):
        make_consent(status="PAUSED")
    with pytest.raises(PolicyInputError, match="subject_id must be 32 bytes or 0x hex"):
        make_request(subject_id="0xzz")
    with pytest.raises(PolicyInputError):
        Consent("0x1", SUBJECT, DEPT_ADDR, {b"x": 1}, purpose_hash(PURPOSE), 0, 1, 0, "ACTIVE")
    assert isinstance(PolicyInputError("x"), ValueError)


def test_inputs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RES.active = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_request().fields = ()  # type: ignore[misc]


# --- properties --------------------------------------------------------------------------------------

GRANTEES = [DEPT_ADDR, OTHER_DEPT]
PURPOSES = ["p1", "p2"]


@st.composite
def scenarios(draw):
    nfields = draw(st.integers(1, 6))
    fields = tuple(f"f{i}" for i in range(nfields))
    res = Resource(
        resource_id="r",
        resource_key=resource_key("r"),
        provider=PROVIDER,
        sharing_class=draw(st.sampled_from(list(SharingClass))),
        sensitive=draw(st.booleans()),
        active=draw(st.booleans()) or draw(st.booleans()),
        fields=fields,
    )
    maybe_res = draw(st.sampled_from([res, res, res, None]))
    dept = draw(st.sampled_from([DEPT, DEPT, DEPT, Department(DEPT_ADDR, "x", False), None]))
    agreement = draw(st.none() | st.builds(
        Agreement, st.integers(0, (1 << nfields) - 1), st.integers(NOW - 5, NOW + 5),
        st.sampled_from(PURPOSES).map(purpose_hash), st.integers(NOW - 10, NOW + 2), st.booleans()))
    t = draw(st.integers(NOW - 20, NOW + 20))
    block = Block(number=draw(st.integers(0, 20)), timestamp=t)
    consents = []
    for i in range(draw(st.integers(0, 5))):
        start = draw(st.integers(NOW - 30, NOW + 30))
        max_uses = draw(st.integers(0, 3))
        consents.append(
            Consent(
                consent_id=f"0x{i:064x}",
                subject_id=draw(st.sampled_from([SUBJECT, SUBJECT, OTHER_SUBJECT])),
                grantee=draw(st.sampled_from(GRANTEES)),
                resource_masks=draw(
                    st.sampled_from([{res.resource_key: draw(st.integers(0, (1 << nfields) - 1))}, {resource_key("x"): 1}])
                ),
                purpose_hash=purpose_hash(draw(st.sampled_from(PURPOSES))),
                valid_from=start,
                valid_until=start + draw(st.integers(1, 40)),
                max_uses=max_uses,
                status=draw(st.sampled_from(list(ConsentStatus))),
                uses_so_far=draw(st.integers(0, 4)),
                granted_at_block=draw(st.none() | st.integers(0, 20)),
                revoked_at_block=draw(st.none() | st.integers(0, 20)),
            )
        )
    req_fields = draw(st.lists(st.sampled_from(fields + ("zz",)), max_size=4))
    request = Request(DEPT_ADDR, SUBJECT, "r", tuple(req_fields), draw(st.sampled_from(PURPOSES)))
    return request, dict(
        department=dept, resource=maybe_res, subject_known=draw(st.booleans()), agreement=agreement, consents=consents, block=block
    )


def _in_force(c: Consent, block: Block) -> bool:
    revoked = c.revoked_at_block <= block.number if c.revoked_at_block is not None else c.status is not ConsentStatus.ACTIVE
    return not revoked and (c.granted_at_block is None or c.granted_at_block <= block.number)


@settings(max_examples=600, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_property_allowed_implies_every_rule(scenario, rnd) -> None:
    request, kw = scenario
    d = evaluate(request, **kw)
    assert d.allowed == (d.reason is Reason.OK)
    assert d.fields == tuple(sorted(set(request.fields)))
    if not d.allowed:
        assert d.consent_id is None
    else:
        res, block = kw["resource"], kw["block"]
        assert kw["department"] is not None and kw["department"].active
        assert res is not None and res.active and res.sharing_class is not SharingClass.NOT_SHARED
        assert d.fields and set(d.fields) <= set(res.fields)
        assert d.field_mask == fields_to_mask(res, d.fields)
        if res.sharing_class is SharingClass.CONDITIONAL:
            ag = kw["agreement"]
            assert ag is not None and ag.field_mask & d.field_mask == d.field_mask
            assert ag.valid_from <= block.timestamp < ag.valid_until and not ag.ended
            assert ag.purpose_hash == purpose_hash(request.purpose)
        if res.sensitive:
            assert kw["subject_known"]
            (c,) = [c for c in kw["consents"] if c.consent_id == d.consent_id]
            assert c.subject_id == request.subject_id and c.grantee.lower() == request.requester.lower()
            assert _in_force(c, block)
            assert c.valid_from <= block.timestamp < c.valid_until
            assert c.purpose_hash == purpose_hash(request.purpose)
            granted = c.resource_masks[res.resource_key]
            assert granted & d.field_mask == d.field_mask
            assert set(d.fields) <= set(mask_to_fields(res, granted))
            assert c.max_uses == 0 or c.uses_so_far < c.max_uses
        else:
            assert d.consent_id is None
    # Order of the candidate consents never matters.
    shuffled = list(kw["consents"])
    rnd.shuffle(shuffled)
    assert evaluate(request, **{**kw, "consents": shuffled}) == d


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_revoking_the_chosen_consent_never_releases_under_it(scenario) -> None:
    request, kw = scenario
    d = evaluate(request, **kw)
    if not d.consent_id:
        return
    consents = [
        dataclasses.replace(c, status=ConsentStatus.REVOKED, revoked_at_block=kw["block"].number) if c.consent_id == d.consent_id else c
        for c in kw["consents"]
    ]
    after = evaluate(request, **{**kw, "consents": consents})
    assert after.consent_id != d.consent_id
    # Adding consents can only turn a deny into an allow, never the reverse.
    assert evaluate(request, **{**kw, "consents": consents + kw["consents"]}).allowed


# --- objections (异议标注) --------------------------------------------------------------------------


def test_a_marked_objection_flags_the_released_fields_it_names_and_refuses_nothing() -> None:
    employer = 1 << FIELDS.index("employer")
    d = decide(objections=[Objection(4, employer | 1 << FIELDS.index("monthly_base")), Objection(2, employer)])
    assert d.allowed and d.disputed == (("employer", 2), ("employer", 4))  # by field, then id
    assert decide(objections=[Objection(4, 1 << FIELDS.index("monthly_base"))]).disputed == ()  # not released
    assert decide().disputed == ()


def test_a_denial_flags_nothing_and_an_emergency_release_is_flagged_too() -> None:
    objection = Objection(1, ALL)
    assert decide(consents=[], objections=[objection]).disputed == ()
    under = decide(make_request(emergency_id=7), emergency=_emergency(), objections=[objection])
    assert under.allowed and under.disputed == (("employer", 1), ("name", 1))
    unconditional = decide(resource=make_resource(sensitive=False), consents=[], objections=[objection])
    assert unconditional.allowed and [f for f, _ in unconditional.disputed] == ["employer", "name"]
