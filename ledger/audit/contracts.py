"""Are the contracts at the trusted addresses the ledger's own, wired to each other?

Runtime code (``eth_getCode``) is compared with the compiled artifacts byte for byte, except the
immutables: their values are written by the constructor, so their positions (the compiler's
``immutableReferences``) are masked. Those values are then checked through the contracts' own
getters, which the matching code guarantees return them: every ``participants()`` is the trusted
Participants, ``Consents.subjects()`` and ``Objections.subjects()`` the trusted Subjects,
``Objections.catalog()`` the trusted Catalog, and the EIP-712 domains of Consents and Objections name
this chain and their address (a genuine Consents wired to a registry of the operator's own would
accept keys the operator bound).
"""

from __future__ import annotations

from ledger import compiler
from ledger.chain.client import Chain
from ledger.exceptions import LedgerError

_GUARDED = ("Subjects", "Catalog", "Consents", "Objections", "AuditAnchor")  # ParticipantsGuarded: participants()


def masked(code: bytes, ranges: tuple[tuple[int, int], ...]) -> bytes:
    """``code`` with the immutables' bytes zeroed, as the compiler leaves them in the artifact."""
    out = bytearray(code)
    for start, length in ranges:
        out[start:start + length] = bytes(min(length, max(0, len(out) - start)))
    return bytes(out)


def check_contracts(chain: Chain) -> list[tuple[str, str]]:
    """``(kind, message)`` of each failing contract: ``CONTRACT_CODE_MISMATCH`` or ``CONTRACT_WIRING_MISMATCH``."""
    problems = []
    contracts = chain.deployment.contracts
    names = compiler.DEPLOYED_CONTRACTS
    codes = chain.rpc.batch([("eth_getCode", [contracts[name], "latest"]) for name in names])
    genuine = set()
    for name, code in zip(names, codes):
        artifact = chain.artifacts[name]
        expected = bytes.fromhex(artifact.deployed_bytecode[2:])
        found = bytes.fromhex((code or "0x")[2:])
        if len(found) == len(expected) and masked(found, artifact.immutable_ranges) == expected:
            genuine.add(name)
        else:
            problems.append(("CONTRACT_CODE_MISMATCH", f"{name} at {contracts[name]}: its runtime "
                                                                     f"code is not the compiled {name}'s"))
    wiring = [(name, "participants", contracts["Participants"]) for name in _GUARDED]
    wiring += [("Consents", "subjects", contracts["Subjects"]), ("Objections", "subjects", contracts["Subjects"]),
               ("Objections", "catalog", contracts["Catalog"])]
    for name, getter, want in wiring:
        if name in genuine and not _same(_call(chain, name, getter), want):
            problems.append(("CONTRACT_WIRING_MISMATCH", f"{name} at {contracts[name]}: {getter}() "
                                                                       f"is not the trusted {want}"))
    for name in ("Consents", "Objections"):  # they take subjects' signatures
        if name not in genuine:
            continue
        domain = _call(chain, name, "eip712Domain")
        if not isinstance(domain, tuple) or domain[3] != chain.chain_id or not _same(domain[4], contracts[name]):
            problems.append(("CONTRACT_WIRING_MISMATCH", f"{name} at {contracts[name]}: its EIP-712 domain is not "
                                                         f"this chain's and address's"))
    return problems


def _call(chain: Chain, name: str, function: str):
    try:
        return chain.contract(name).call(function)
    except LedgerError as exc:
        return exc


def _same(address, want: str) -> bool:
    return isinstance(address, str) and address.lower() == want.lower()
