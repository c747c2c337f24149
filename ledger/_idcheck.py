"""Check-character arithmetic and structural rules for Chinese identifiers.

Internal to :mod:`ledger.identity`. Every ``check_*`` function takes an already normalized
string (upper case, no whitespace) and raises :class:`~ledger.exceptions.InvalidIdentifier`
naming the rule that failed.

Sources: GB 11643-1999 (citizen identity number, ISO 7064 MOD 11-2 check digit),
GB 32100-2015 (unified social credit code, MOD 31 check character) and GB 11714-1997
(organization code, MOD 11 check character).
"""

from __future__ import annotations

import datetime as _dt

from ledger.exceptions import InvalidIdentifier

# --- GB 11643-1999 resident identity number ------------------------------------------------

#: Weight of position i (0-based, left to right) is 2**(17 - i) mod 11 (ISO 7064 MOD 11-2).
RESIDENT_WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
#: Check character for each value of (sum of weighted digits) mod 11.
_RESIDENT_CHECK = "10X98765432"

#: Province-level codes of GB/T 2260 that lead a region code (71 Taiwan, 81 Hong Kong,
#: 82 Macao, 83 residence permits of Hong Kong, Macao and Taiwan residents).
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
#: Earliest accepted birth date.
MIN_BIRTH_DATE = _dt.date(1900, 1, 1)


def resident_check_char(first17: str) -> str:
    """The GB 11643 check character ('0'-'9' or 'X') for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11]


def check_resident_id(value: str, today: _dt.date) -> None:
    """Validate an 18-character resident identity number; raise on the first broken rule."""
    if len(value) == 15 and value.isdigit():
        raise InvalidIdentifier(
            "resident ID: 15-digit first-generation numbers are not accepted; use the 18-character number"
        )
    if len(value) != 18:
        raise InvalidIdentifier(f"resident ID: must be 18 characters, got {len(value)}")
    body, check = value[:17], value[17]
    if not (body.isascii() and body.isdigit()):
        bad = next(c for c in body if not ("0" <= c <= "9"))
        raise InvalidIdentifier(f"resident ID: the first 17 characters must be digits, found {bad!r}")
    if not (check == "X" or "0" <= check <= "9"):
        raise InvalidIdentifier(f"resident ID: the last character must be a digit or X, found {check!r}")
    # A leading 9 is the 2023 foreign permanent resident ID card, which shares this layout.
    if body[:2] not in _PROVINCES and body[0] != "9":
        raise InvalidIdentifier(f"resident ID: region code {body[:6]} has no valid province prefix")
    try:
        born = _dt.date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        raise InvalidIdentifier(f"resident ID: birth date {body[6:14]} is not a real date") from None
    if born < MIN_BIRTH_DATE:
        raise InvalidIdentifier(f"resident ID: birth date {born.isoformat()} is before 1900-01-01")
    if born > today:
        raise InvalidIdentifier(f"resident ID: birth date {born.isoformat()} is in the future")
    expected = resident_check_char(body)
    if check != expected:
        raise InvalidIdentifier(f"resident ID: check digit mismatch, expected {expected} got {check}")


# --- GB 32100-2015 unified social credit code ----------------------------------------------

#: The 31 characters of the code, in value order (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS: tuple[int, ...] = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: Registration-authority codes (position 1) assigned under GB 32100-2015 and its
#: later assignments: 1 institutional staffing, 2 foreign affairs, 3 justice, 4 culture,
#: 5 civil affairs, 6 tourism, 7 religion, 8 trade unions, 9 market regulation,
#: A military staffing, N agriculture, Y other.
USCC_AUTHORITIES = frozenset("123456789ANY")

#: GB 11714 organization code: body weights and character values (all 26 letters count).
ORG_CODE_WEIGHTS: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character ('0'-'9' or 'X') for an 8-character organization code body."""
    total = sum(int(c, 36) * w for c, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    value = (11 - total % 11) % 11
    return "X" if value == 10 else str(value)


def check_uscc(value: str) -> None:
    """Validate an 18-character unified social credit code; raise on the first broken rule."""
    if len(value) != 18:
        raise InvalidIdentifier(f"USCC: must be 18 characters, got {len(value)}")
    for pos, c in enumerate(value, start=1):
        if c not in _USCC_VALUE:
            raise InvalidIdentifier(
                f"USCC: character {c!r} at position {pos} is not allowed "
                "(only 0-9 and upper-case letters except I, O, S, V, Z)"
            )
    if value[0] not in USCC_AUTHORITIES:
        raise InvalidIdentifier(f"USCC: registration authority code {value[0]!r} is not assigned")
    if not "1" <= value[1] <= "9":
        raise InvalidIdentifier(f"USCC: institution category {value[1]!r} must be a digit 1-9")
    if not value[2:8].isdigit():
        raise InvalidIdentifier(f"USCC: region code {value[2:8]} must be 6 digits")
    org_body, org_check = value[8:16], value[16]
    expected_org = org_code_check_char(org_body)
    if org_check != expected_org:
        raise InvalidIdentifier(
            f"USCC: organization code {value[8:17]} check character mismatch, expected {expected_org} got {org_check}"
        )
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        raise InvalidIdentifier(f"USCC: check character mismatch, expected {expected} got {value[17]}")
