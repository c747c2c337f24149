"""The domain facts of ``ledger.domain`` against the contracts as the compiler reads them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from eth_utils import keccak

from ledger import compiler
from ledger.domain import (DEFAULT_ADMIN_ROLE, ROLE_BY_HASH, ROLE_NAMES, ROLES, ConsentStatus, Role, SharingClass,
                           SubjectKind, department_code, department_code_text, purpose_hash, resource_key, resource_key_hex, role_name,
                           schema_hash, schema_hash_hex)

pytestmark = pytest.mark.unit

CHECKOUT = Path(__file__).resolve().parents[3]
_FILES = ("interfaces/ICatalog.sol", "interfaces/ISubjects.sol", "libraries/Roles.sol")


@lru_cache(maxsize=1)
def _asts() -> dict[str, dict]:
    """The compiler's AST of the files that declare the enums and the role constants."""
    import solcx

    sources = {f"contracts/src/{name}": {"content": (CHECKOUT / compiler.SOURCE_DIR / name).read_text()}
               for name in _FILES}
    output = solcx.compile_standard(
        {"language": "Solidity", "sources": sources, "settings": {"outputSelection": {"*": {"": ["ast"]}}}},
        solc_binary=str(compiler.solc_binary()), allow_paths=[str(CHECKOUT)],
        base_path=str(CHECKOUT))
    return {name: source["ast"] for name, source in output["sources"].items()}


def _nodes(node, node_type: str):
    if isinstance(node, dict):
        if node.get("nodeType") == node_type:
            yield node
        for value in node.values():
            yield from _nodes(value, node_type)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value, node_type)


def _enum(qualified: str) -> list[str]:
    """Members, in declaration order, of ``Contract.Enum`` as the compiler parsed it."""
    contract, name = qualified.split(".")
    for ast in _asts().values():
        for definition in _nodes(ast, "ContractDefinition"):
            if definition["name"] == contract:
                for enum in _nodes(definition, "EnumDefinition"):
                    if enum["name"] == name:
                        return [member["name"] for member in enum["members"]]
    raise AssertionError(f"no enum {qualified}")


def _abi_param_type(contract: str, function: str, param: str) -> str:
    for item in compiler.artifact(contract).abi:
        if item.get("type") == "function" and item["name"] == function:
            return next(p["internalType"] for p in item["inputs"] if p["name"] == param)
    raise AssertionError(f"no function {contract}.{function}")


def test_sharing_class_follows_the_catalog_enum():
    assert _abi_param_type("Catalog", "registerResource", "sharingClass") == "enum ICatalog.SharingClass"
    assert _abi_param_type("Catalog", "updateResource", "sharingClass") == "enum ICatalog.SharingClass"
    members = _enum("ICatalog.SharingClass")
    assert [c.value for c in SharingClass] == members
    assert [c.index for c in SharingClass] == list(range(len(members)))
    assert [SharingClass.from_index(i) for i in range(len(members))] == list(SharingClass)


def test_subject_kind_follows_the_subjects_enum():
    assert _abi_param_type("Subjects", "register", "kind") == "enum ISubjects.SubjectKind"
    assert [k.name for k in SubjectKind] == _enum("ISubjects.SubjectKind")
    assert [k.value for k in SubjectKind] == list(range(len(SubjectKind)))
    assert SubjectKind.for_id_type("resident_id") is SubjectKind.PERSON
    assert SubjectKind.for_id_type("uscc") is SubjectKind.ENTERPRISE


def test_roles_are_the_contract_constants():
    getters = {item["name"] for item in compiler.artifact("Participants").abi
               if item.get("type") == "function" and item["name"].endswith("_ROLE") and not item["inputs"]}
    assert getters == set(ROLES) == {"DEFAULT_ADMIN_ROLE", *ROLE_NAMES}
    # Roles.sol: DEFAULT_ADMIN = 0x00, every other constant keccak256("<NAME>_ROLE").
    declared = {}
    for var in _nodes(_asts()["contracts/src/libraries/Roles.sol"], "VariableDeclaration"):
        value = var["value"]
        if value["nodeType"] == "Literal":
            declared[var["name"]] = int(value["value"], 16).to_bytes(32, "big")
        else:
            assert value["nodeType"] == "FunctionCall" and value["expression"]["name"] == "keccak256"
            declared[var["name"]] = keccak(text=value["arguments"][0]["value"])
    assert declared == {("DEFAULT_ADMIN" if name == "DEFAULT_ADMIN_ROLE" else name.removesuffix("_ROLE")): value
                        for name, value in ROLES.items()}
    assert ROLES["DEFAULT_ADMIN_ROLE"] == DEFAULT_ADMIN_ROLE
    assert all(ROLE_BY_HASH[value] == name for name, value in ROLES.items())
    assert role_name(DEFAULT_ADMIN_ROLE) == "ADMIN" and role_name(ROLES["DEPARTMENT_ROLE"]) == "DEPARTMENT"
    assert role_name(keccak(text="NOT_A_ROLE")) is None
    assert {role_name(role.hash) for role in Role} == {role.value for role in Role}
    assert {role.constant: role.hash for role in Role} == ROLES


def test_keys_and_hashes():
    assert resource_key("hrss.social_insurance") == keccak(text="hrss.social_insurance")
    assert resource_key_hex("hrss.social_insurance") == "0x" + keccak(text="hrss.social_insurance").hex()
    assert purpose_hash("社保核验") == keccak("社保核验".encode())
    assert schema_hash(["name", "id"]) == keccak(b'["name","id"]')
    assert schema_hash_hex(("name", "id")) == "0x" + keccak(b'["name","id"]').hex()
    assert department_code("dept-hrss") == b"dept-hrss" + b"\0" * 23
    assert [s.value for s in ConsentStatus] == ["ACTIVE", "REVOKED", "ENDED_BY_REGULATOR"]
    assert department_code_text("0x" + department_code("jn.gjj").hex()) == "jn.gjj"
    assert department_code_text("0x" + "ff" * 32) == "0x" + "ff" * 32
