"""Canonical audit entries: encoding, normalization, validation, strict decoding, payload hashes."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit import AuditEntry, decode_leaf, encode_leaf, entry_leaf_hash, payload_hash
from ledger.exceptions import InvalidAuditEntry
from tests.support.merkle import sha

pytestmark = pytest.mark.unit


# --- audit entries -----------------------------------------------------------------------------

REQUESTER = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55 test vector address
SUBJECT = "0x" + "ab" * 32
CONSENT = "0x" + "cd" * 32
PAYLOAD = "0x" + "ef" * 32


def make_entry(**overrides) -> AuditEntry:
    values = dict(
        seq=41,
        time=dt.datetime(2025, 10, 9, 8, 30, 15, 123456, tzinfo=dt.timezone.utc),
        requester=REQUESTER,
        subject_id=SUBJECT,
        resource="hrss.social_insurance",
        purpose="社保资格认证",
        consent_id=CONSENT,
        decision="ALLOW",
        reason="OK",
        fields=("name", "insured_since"),
        block_number=1234,
        payload_hash=PAYLOAD,
    )
    values.update(overrides)
    return AuditEntry(**values)


EXPECTED_LEAF = (
    '{"block_number":1234,"consent_id":"0x' + "cd" * 32 + '","decision":"ALLOW","fields":["insured_since","name"],'
    '"payload_hash":"0x' + "ef" * 32 + '","purpose":"社保资格认证","reason":"OK",'
    '"requester":"0x52908400098527886E0F7030069857D2E4169EE7","resource":"hrss.social_insurance","seq":41,'
    '"subject_id":"0x' + "ab" * 32 + '","time":"2025-10-09T08:30:15.123Z"}'
).encode("utf-8")


def test_entry_canonical_encoding() -> None:
    entry = make_entry()
    assert encode_leaf(entry) == EXPECTED_LEAF
    assert entry.time == dt.datetime(2025, 10, 9, 8, 30, 15, 123000, tzinfo=dt.timezone.utc)
    assert entry.fields == ("insured_since", "name")
    assert entry.allowed
    assert entry_leaf_hash(entry) == sha(b"\x00" + EXPECTED_LEAF)


def test_an_emergency_release_adds_its_key_and_nothing_else_changes() -> None:
    under = make_entry(consent_id=None, emergency_id=3)
    leaf = encode_leaf(under)
    assert leaf == EXPECTED_LEAF.replace(b'"consent_id":"0x' + b"cd" * 32 + b'"', b'"consent_id":null').replace(
        b'"decision":"ALLOW"', b'"decision":"ALLOW","emergency_id":3')  # keys sorted: it falls after decision
    assert decode_leaf(leaf) == under
    assert b"emergency_id" not in encode_leaf(make_entry())  # entries without one keep their encoding


@pytest.mark.parametrize("leaf", [
    EXPECTED_LEAF.replace(b'"decision":"ALLOW"', b'"decision":"ALLOW","emergency_id":null'),  # absent is absent
    EXPECTED_LEAF.replace(b'"decision":"ALLOW"', b'"decision":"ALLOW","emergency_id":0'),
    EXPECTED_LEAF.replace(b'"decision":"ALLOW"', b'"decision":"ALLOW","emergency_id":"3"'),
    EXPECTED_LEAF.replace(b'"decision":"ALLOW"', b'"decision":"ALLOW","emergency":3'),
])
def test_an_emergency_id_has_one_spelling(leaf: bytes) -> None:
    with pytest.raises(InvalidAuditEntry):
        decode_leaf(leaf)


def test_a_disputed_release_adds_its_key_sorted_by_field_then_objection() -> None:
    flagged = make_entry(disputed=[("name", 9), ("insured_since", 2), ("name", 3)])
    assert flagged.disputed == (("insured_since", 2), ("name", 3), ("name", 9))
    leaf = encode_leaf(flagged)
    assert leaf == EXPECTED_LEAF.replace(b'"decision":"ALLOW"', b'"decision":"ALLOW","disputed":[{"field":'
                                         b'"insured_since","objection_id":2},{"field":"name","objection_id":3},'
                                         b'{"field":"name","objection_id":9}]')
    assert decode_leaf(leaf) == flagged
    assert b"disputed" not in encode_leaf(make_entry())  # entries without one keep their encoding


@pytest.mark.parametrize("disputed", [
    [("employer", 1)],  # not a released field
    [("name", 0)],  # objection ids start at 1
    [("name", 1), ("name", 1)],
    [{"field": "name"}],
    "name",
])
def test_disputed_names_released_fields_and_objections(disputed) -> None:
    with pytest.raises(InvalidAuditEntry):
        make_entry(disputed=disputed)


def test_a_denial_disputes_nothing_and_a_leaf_spells_disputed_once() -> None:
    with pytest.raises(InvalidAuditEntry):
        make_entry(decision="DENY", reason="NO_CONSENT", consent_id=None, payload_hash=None, disputed=[("name", 1)])
    for spelled in (b'"disputed":[]', b'"disputed":[{"field":"name","objection_id":3},{"field":"insured_since",'
                                     b'"objection_id":2}]'):
        with pytest.raises(InvalidAuditEntry):
            decode_leaf(EXPECTED_LEAF.replace(b'"decision":"ALLOW"', b'"decision":"ALLOW",' + spelled))


def test_entry_round_trip_and_normalization() -> None:
    entry = make_entry()
    assert decode_leaf(EXPECTED_LEAF) == entry
    shanghai = dt.timezone(dt.timedelta(hours=8))
    same = make_entry(
        time=dt.datetime(2025, 10, 9, 16, 30, 15, 123999, tzinfo=shanghai),
        requester=REQUESTER.lower(),
        subject_id=bytes.fromhex("ab" * 32),
        consent_id=bytes.fromhex("cd" * 32),
        fields=["name", "insured_since"],
    )
    assert encode_leaf(same) == EXPECTED_LEAF
    assert make_entry(time="2025-10-09T08:30:15.123Z") == entry


def test_deny_entry_with_nulls() -> None:
    entry = make_entry(decision="DENY", reason="NO_CONSENT", consent_id=None, payload_hash=None, fields=[])
    leaf = encode_leaf(entry)
    assert b'"consent_id":null' in leaf and b'"payload_hash":null' in leaf and b'"fields":[]' in leaf
    assert decode_leaf(leaf) == entry
    assert not entry.allowed


def test_entry_accepts_str_enums() -> None:
    import enum

    class Code(str, enum.Enum):
        NO_CONSENT = "NO_CONSENT"

    entry = make_entry(decision="DENY", reason=Code.NO_CONSENT, payload_hash=None)
    assert entry.reason == "NO_CONSENT" and type(entry.reason) is str


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"seq": -1}, "seq must be a non-negative integer"),
        ({"seq": True}, "seq must be a non-negative integer"),
        ({"seq": 1.0}, "seq must be a non-negative integer"),
        ({"block_number": "12"}, "block_number"),
        ({"time": dt.datetime(2025, 1, 1)}, "timezone-aware"),
        ({"time": "2025-10-09T08:30:15Z"}, "time must look like"),
        ({"time": "2025-02-30T08:30:15.000Z"}, "not a real instant"),
        ({"requester": "0x1234"}, "requester must be an Ethereum address"),
        ({"requester": REQUESTER[:-1] + "e"}, "requester must be an Ethereum address"),  # bad checksum
        ({"subject_id": "0x" + "AB" * 32}, "subject_id must be 0x"),
        ({"subject_id": b"\x00" * 31}, "subject_id must be 32 bytes"),
        ({"consent_id": "cd" * 32}, "consent_id must be 0x"),
        ({"resource": ""}, "resource must be a non-empty string"),
        ({"purpose": " padded"}, "purpose must be a non-empty string"),
        ({"decision": "MAYBE"}, "decision must be ALLOW or DENY"),
        ({"reason": "no consent"}, "reason must be an upper-case code"),
        ({"fields": "name"}, "fields must be a list"),
        ({"fields": ["a", "a"]}, "must not repeat"),
        ({"fields": ["a", 1]}, "field name"),
        ({"decision": "DENY", "reason": "REVOKED"}, "cannot carry a payload_hash"),
    ],
)
def test_entry_validation(overrides: dict, message: str) -> None:
    with pytest.raises(InvalidAuditEntry, match=message):
        make_entry(**overrides)


def _mutate(obj_edit=None, text_edit=None) -> bytes:
    text = EXPECTED_LEAF.decode()
    if obj_edit:
        obj = json.loads(text)
        obj_edit(obj)
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if text_edit:
        text = text_edit(text)
    return text.encode()


@pytest.mark.parametrize(
    ("leaf", "message"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"[1,2]", "must be a JSON object"),
        (b"{", "not UTF-8 JSON"),
        (_mutate(text_edit=lambda t: t.replace(',"seq":41', ',"seq": 41')), "not in canonical form"),
        (_mutate(text_edit=lambda t: t + "\n"), "not in canonical form"),
        (_mutate(text_edit=lambda t: '{"seq":41,' + t[1:].replace(',"seq":41', "")), "not in canonical form"),
        (_mutate(text_edit=lambda t: t.replace('"insured_since","name"', '"name","insured_since"')), "not in canonical form"),
        (_mutate(text_edit=lambda t: t.replace("社保", "\\u793e\\u4fdd")), "not in canonical form"),
        (_mutate(text_edit=lambda t: t.replace(REQUESTER, REQUESTER.lower())), "not in canonical form"),
        (_mutate(text_edit=lambda t: t.replace('"seq":41', '"seq":41,"seq":42')), "duplicate key"),
        (_mutate(obj_edit=lambda o: o.pop("reason")), "missing \\['reason'\\]"),
        (_mutate(obj_edit=lambda o: o.update(extra=1)), "unexpected \\['extra'\\]"),
        (_mutate(obj_edit=lambda o: o.update(fields="name")), "fields must be a JSON array"),
        (_mutate(obj_edit=lambda o: o.update(seq=41.0)), "seq must be"),
        (_mutate(obj_edit=lambda o: o.update(time="2025-10-09T08:30:15.1234Z")), "time must look like"),
    ],
)
def test_decode_rejects_non_canonical_or_malformed_leaves(leaf: bytes, message: str) -> None:
    with pytest.raises(InvalidAuditEntry, match=message):
        decode_leaf(leaf)


def test_payload_hash() -> None:
    salt = bytes(range(16))
    data = {"name": "张三", "insured_since": "2010-07"}
    expected = sha(salt + '{"insured_since":"2010-07","name":"张三"}'.encode())
    assert payload_hash(salt, data) == "0x" + expected.hex()
    assert payload_hash(salt, b"raw bytes") == "0x" + sha(salt + b"raw bytes").hex()
    assert payload_hash(bytes(16), data) != payload_hash(salt, data)
    with pytest.raises(InvalidAuditEntry, match="at least 16 bytes"):
        payload_hash(b"short", data)


@pytest.mark.parametrize("text", ["", "a\"b\\c", "\x00\x01\x1f\x7f", "张伟", "\u2028\u2029", "😀", "\t\n\r\b\f", "<>&'"])
def test_canonical_json_matches_the_json_module(text):
    import json

    from ledger.audit.entry import canonical_json

    value = {"b": [text, 1, None, 2**63 - 1], "a": text, "seq": 7}
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical_json(value) == expected
    assert canonical_json({"big": 2**70}) == b'{"big":1180591620717411303424}'


_HEX32_SPEC = re.compile(r"0x[0-9a-f]{64}\Z")
_NEAR_HEX = st.text(alphabet="0123456789abcdefABCDEFxX \t\n\u0661é", min_size=60, max_size=68)


@settings(max_examples=2000, deadline=None)
@given(st.one_of(_NEAR_HEX, _NEAR_HEX.map(lambda t: "0x" + t[2:]), st.binary(min_size=32, max_size=32).map(
    lambda b: "0x" + b.hex())))
def test_hex32_check_agrees_with_the_pattern(value):
    accepted = _HEX32_SPEC.match(value) is not None
    try:
        AuditEntry(seq=0, time=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), requester="0x" + "ab" * 20,
                   subject_id=value, resource="r", purpose="p", consent_id=None, decision="DENY",
                   reason="NO_CONSENT", fields=(), block_number=0)
    except InvalidAuditEntry:
        assert not accepted
    else:
        assert accepted
