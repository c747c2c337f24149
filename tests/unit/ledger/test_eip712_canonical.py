"""The canonical typed-data parser behind finding 8: one spelling per value, refusals in our own words."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ledger.eip712 import Domain, InvalidTypedData, NonCanonicalTypedData, parse_canonical_typed_data

pytestmark = pytest.mark.unit

VECTOR = json.loads((Path(__file__).resolve().parents[3] / "contracts/test/vectors/consent_typed_data.json")
                    .read_text())


# -- canonical typed data ----------------------------------------------------------------------------------
def _domain() -> Domain:
    d = VECTOR["domain"]
    return Domain(d["name"], d["version"], d["chainId"], d["verifyingContract"])


def _typed() -> dict:
    return copy.deepcopy({k: VECTOR[k] for k in ("types", "primaryType", "domain", "message")})


def test_canonical_typed_data_parses_to_itself():
    parsed, canonical = parse_canonical_typed_data(_typed(), _domain())
    assert canonical == _typed() and parsed.nonce == int(VECTOR["message"]["nonce"])


@pytest.mark.parametrize("field, value", [
    ("nonce", hex(int(VECTOR["message"]["nonce"]))),   # the finding: "0x5"
    ("nonce", int(VECTOR["message"]["nonce"])),        # a number where a decimal string belongs
    ("validFrom", str(VECTOR["message"]["validFrom"])),
    ("grantee", VECTOR["message"]["grantee"].lower()),
    ("subject", VECTOR["message"]["subject"].upper().replace("0X", "0x")),
    ("nonce", 2**256 - 1),                             # a JSON number beyond 64 bits
    ("fieldMasks", [2**200]),
])
def test_non_canonical_spellings_are_refused(field, value):
    typed = _typed()
    typed["message"][field] = value
    with pytest.raises(NonCanonicalTypedData, match=f"message.{field}"):
        parse_canonical_typed_data(typed, _domain())


def test_non_canonical_domain_is_refused():
    typed = _typed()
    typed["domain"]["chainId"] = str(typed["domain"]["chainId"])
    with pytest.raises(NonCanonicalTypedData, match="domain"):
        parse_canonical_typed_data(typed, _domain())


@pytest.mark.parametrize("field, value, fragment", [
    ("maxUses", True, "boolean"), ("nonce", "9" * 5000, "unsigned integer"), ("resources", 5, "list"),
    ("purpose", 7, "string"), ("nonce", str(2**256), "uint256"), ("validFrom", 1e999, "unsigned integer"),
])
def test_malformed_values_are_refused_with_our_own_words(field, value, fragment):
    typed = _typed()
    typed["message"][field] = value
    with pytest.raises(InvalidTypedData, match=fragment) as caught:
        parse_canonical_typed_data(typed, _domain())
    assert len(str(caught.value)) < 300
