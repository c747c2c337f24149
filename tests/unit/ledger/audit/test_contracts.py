"""The verifier's contract check: compiled runtime code with the immutables masked, then the wiring."""

from __future__ import annotations

import os

import pytest

from ledger import compiler
from ledger.audit.contracts import check_contracts

pytestmark = pytest.mark.unit

ADDRESSES = {name: "0x" + f"{i + 1:040x}" for i, name in enumerate(compiler.DEPLOYED_CONTRACTS)}


def deployed(name: str) -> str:
    """The artifact's runtime code with random immutable values, as a constructor would leave them."""
    artifact = compiler.artifact(name)
    code = bytearray.fromhex(artifact.deployed_bytecode[2:])
    for start, length in artifact.immutable_ranges:
        code[start:start + length] = os.urandom(length)
    return "0x" + code.hex()


class _Contract:
    def __init__(self, chain, name):
        self.chain, self.name = chain, name

    def call(self, function):
        if function == "eip712Domain":
            return (b"\x0f", "Consent Ledger", "1", self.chain.chain_id, ADDRESSES[self.name], b"\0" * 32, [])
        trusted = {"subjects": "Subjects", "catalog": "Catalog"}.get(function, "Participants")
        return self.chain.wiring.get((self.name, function), ADDRESSES[trusted])


class _Chain:
    chain_id = 16211

    def __init__(self, codes: dict[str, str], wiring: dict | None = None):
        self.codes, self.wiring = codes, wiring or {}
        self.artifacts = compiler.artifacts()
        self.deployment = type("D", (), {"contracts": ADDRESSES})()
        self.rpc = self

    def batch(self, calls):
        by_address = {a: n for n, a in ADDRESSES.items()}
        return [self.codes[by_address[params[0]]] for _, params in calls]

    def contract(self, name):
        return _Contract(self, name)


def genuine() -> dict[str, str]:
    return {name: deployed(name) for name in compiler.DEPLOYED_CONTRACTS}


def test_genuine_code_with_any_immutables_passes():
    assert check_contracts(_Chain(genuine())) == []


def test_one_changed_byte_outside_the_immutables_is_named():
    codes = genuine()
    code = bytearray.fromhex(codes["Catalog"][2:])
    masked = {i for start, length in compiler.artifact("Catalog").immutable_ranges for i in range(start, start + length)}
    position = next(i for i in range(len(code) // 2, len(code)) if i not in masked)
    code[position] ^= 1
    codes["Catalog"] = "0x" + code.hex()
    assert check_contracts(_Chain(codes)) == [
        ("CONTRACT_CODE_MISMATCH", f"Catalog at {ADDRESSES['Catalog']}: its runtime code is not the compiled "
                                   f"Catalog's")]


def test_another_contracts_code_and_no_code_are_named():
    codes = genuine()
    codes["Consents"], codes["AuditAnchor"] = codes["Subjects"], "0x"
    kinds = [(kind, message.split()[0]) for kind, message in check_contracts(_Chain(codes))]
    assert kinds == [("CONTRACT_CODE_MISMATCH", "Consents"), ("CONTRACT_CODE_MISMATCH", "AuditAnchor")]


def test_genuine_code_wired_elsewhere_is_named():
    chain = _Chain(genuine(), {("Consents", "subjects"): "0x" + "ee" * 20})
    assert [(k, m.split()[0]) for k, m in check_contracts(chain)] == [("CONTRACT_WIRING_MISMATCH", "Consents")]
