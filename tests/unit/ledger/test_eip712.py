"""EIP-712 typed data: the digest the contract computes, strict parsing, signature recovery."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from ledger.eip712 import (ConsentMessage, Domain, InvalidSignature, InvalidTypedData, RevokeMessage,
                           consent_typed_data, hash_typed_data, parse_typed_data, recover_signer,
                           revoke_typed_data, sign_typed_data)

pytestmark = pytest.mark.unit


# The vector Foundry's tests check the Consents contract against (contracts/test/vectors).
VECTOR = json.loads((Path(__file__).resolve().parents[3] / "contracts/test/vectors/consent_typed_data.json")
                    .read_text())
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _domain() -> Domain:
    d = VECTOR["domain"]
    return Domain(d["name"], d["version"], d["chainId"], d["verifyingContract"])


def _typed(vector: dict) -> dict:
    return {k: vector[k] for k in ("types", "primaryType", "domain", "message")}


def test_hash_typed_data_matches_the_contract_vector():
    assert "0x" + hash_typed_data(_typed(VECTOR)).hex() == VECTOR["digest"]
    assert "0x" + hash_typed_data(_typed(VECTOR["revoke"])).hex() == VECTOR["revoke"]["digest"]


def test_builders_reproduce_the_vector_json():
    message = ConsentMessage.from_json(VECTOR["message"])
    assert consent_typed_data(_domain(), message) == _typed(VECTOR)
    revoke = RevokeMessage.from_json(VECTOR["revoke"]["message"])
    assert revoke_typed_data(_domain(), revoke) == _typed(VECTOR["revoke"])


def test_sign_typed_data_reproduces_the_vector_signature():
    assert VECTOR["signer"]["privateKey"] == 'keccak256("alice")'
    signature = sign_typed_data(keccak(text="alice"), _typed(VECTOR))
    assert signature == VECTOR["signature"]["bytes"]
    assert recover_signer(bytes.fromhex(VECTOR["digest"][2:]), signature) == VECTOR["signer"]["address"]


def test_parse_typed_data_accepts_our_consent_and_revoke():
    assert isinstance(parse_typed_data(_typed(VECTOR), _domain()), ConsentMessage)
    assert isinstance(parse_typed_data(_typed(VECTOR["revoke"]), _domain()), RevokeMessage)


@pytest.mark.parametrize("mutate, fragment", [
    (lambda t: t["domain"].__setitem__("chainId", 1), "domain"),
    (lambda t: t["domain"].__setitem__("verifyingContract", "0x" + "11" * 20), "domain"),
    (lambda t: t["domain"].__setitem__("salt", "0x" + "00" * 32), "domain"),
    (lambda t: t["types"]["Consent"].reverse(), "types"),
    (lambda t: t.__setitem__("primaryType", "Permit"), "primaryType"),
    (lambda t: t["message"].__setitem__("extra", 1), "fields"),
    (lambda t: t["message"].pop("deadline"), "fields"),
    (lambda t: t["message"].__setitem__("maxUses", 2**32), "uint32"),
    (lambda t: t["message"].__setitem__("subject", "0x1234"), "32-byte"),
    (lambda t: t["message"].__setitem__("validFrom", True), "boolean"),
])
def test_parse_typed_data_refuses_anything_else(mutate, fragment):
    typed = copy.deepcopy(_typed(VECTOR))
    mutate(typed)
    with pytest.raises(InvalidTypedData, match=fragment):
        parse_typed_data(typed, _domain())


def test_recover_signer_refuses_high_s_and_malformed_signatures():
    digest = bytes.fromhex(VECTOR["digest"][2:])
    raw = bytes.fromhex(VECTOR["signature"]["bytes"][2:])
    r, s, v = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
    malleable = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # same signer, other s
    with pytest.raises(InvalidSignature, match="high s"):
        recover_signer(digest, malleable)
    with pytest.raises(InvalidSignature, match="65 bytes"):
        recover_signer(digest, raw[:64])
    with pytest.raises(InvalidSignature, match="hex"):
        recover_signer(digest, "0xzz")


def test_recover_signer_of_another_key_is_another_address():
    other = Account.create()
    signature = sign_typed_data(other.key, _typed(VECTOR))
    assert recover_signer(bytes.fromhex(VECTOR["digest"][2:]), signature) == other.address
    assert other.address != VECTOR["signer"]["address"]


def test_domain_from_eip5267_requires_the_four_standard_fields():
    values = (b"\x0f", "ConsentLedger", "1", 16211, "0x" + "22" * 20, b"\0" * 32, [])
    assert Domain.from_eip5267(values).chain_id == 16211
    with pytest.raises(InvalidTypedData):
        Domain.from_eip5267((b"\x1f",) + values[1:])
