"""Resident ID / USCC validation, subject ids and the pepper."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import multiprocessing
import os
import stat

import pytest

from ledger.exceptions import ConfigurationError, InvalidIdentifier, LedgerError
from ledger.identity import IdType, load_or_create_pepper, normalize_id, subject_id
from ledger.settings import Settings

pytestmark = pytest.mark.unit

TODAY = dt.date(2025, 11, 1)


# --- independent check-character reasoning ---------------------------------------------
# Written from the standards' definitions, deliberately not the way ledger/_idcheck.py does it.


def iso7064_mod11_2(digits: str) -> str:
    """ISO 7064 MOD 11-2 in its recursive (pure system) form."""
    p = 0
    for d in digits:
        p = ((p + int(d)) * 2) % 11
    value = (12 - p) % 11
    return "X" if value == 10 else str(value)


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb32100_check(first17: str) -> str:
    # Weights are the powers of 3 modulo 31 (GB 32100-2015, 5.2).
    total = sum(USCC_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return USCC_CHARS[-total % 31]


def gb11714_check(body8: str) -> str:
    # Weights 3 7 9 10 5 8 4 2 are 2**(8-i) mod 11; letters count A=10 .. Z=35.
    total = sum((ord(c) - 55 if c.isalpha() else int(c)) * pow(2, 8 - i, 11) for i, c in enumerate(body8))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def make_resident(region: str, birth: str, seq: str) -> str:
    body = region + birth + seq
    return body + iso7064_mod11_2(body)


def make_uscc(head: str, region: str, org_body: str) -> str:
    first17 = head + region + org_body + gb11714_check(org_body)
    return first17 + gb32100_check(first17)


def resident(value: str) -> str:
    return normalize_id(IdType.RESIDENT_ID, value, today=TODAY)


def uscc(value: str) -> str:
    return normalize_id("uscc", value)


# --- resident ID ---------------------------------------------------------------------------


def test_independent_reasoning_matches_gb11643_published_example() -> None:
    # The worked example of GB 11643-1999: 11010519491231002X.
    assert iso7064_mod11_2("11010519491231002") == "X"


def test_gb11643_standard_example_is_valid() -> None:
    assert resident("11010519491231002X") == "11010519491231002X"


@pytest.mark.parametrize(
    "spelling",
    ["11010519491231002x", "  11010519491231002X\n", "110105 19491231 002X", "１１０１０５１９４９１２３１００２ｘ", "110105\u300019491231002X"],
)
def test_resident_id_is_normalized(spelling: str) -> None:
    assert resident(spelling) == "11010519491231002X"


@pytest.mark.parametrize(
    ("region", "birth", "seq"),
    [
        ("370102", "19850615", "123"),  # Jinan, Lixia district
        ("370112", "20000229", "001"),  # leap day
        ("440305", "19000101", "987"),  # earliest accepted date
        ("650102", "20251101", "456"),  # born today
        ("810000", "19970701", "010"),  # Hong Kong
        ("830000", "19900101", "555"),  # residence permit, Taiwan residents
        ("921156", "19800101", "123"),  # 2023 foreign permanent resident card layout
    ],
)
def test_constructed_resident_ids_are_valid(region: str, birth: str, seq: str) -> None:
    value = make_resident(region, birth, seq)
    assert resident(value) == value


def test_many_constructed_resident_ids_are_valid() -> None:
    start = dt.date(1950, 1, 1)
    for i in range(0, 27_000, 97):
        born = start + dt.timedelta(days=i)
        value = make_resident("370102", born.strftime("%Y%m%d"), f"{i % 1000:03d}")
        assert resident(value.lower()) == value


def test_every_wrong_check_digit_is_rejected_with_expected_and_got() -> None:
    body = "37010219850615123"
    good = iso7064_mod11_2(body)
    for wrong in "0123456789X":
        if wrong == good:
            continue
        with pytest.raises(InvalidIdentifier, match=f"check digit mismatch, expected {good} got {wrong}"):
            resident(body + wrong)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1101051949123100", "must be 18 characters, got 16"),
        ("11010519491231002X1", "must be 18 characters, got 19"),
        ("110105491231002", "15-digit first-generation"),
        ("1101051949123100AX", "must be digits, found 'A'"),
        ("11010519491231002Y", "digit or X, found 'Y'"),
        ("X10105194912310020", "must be digits, found 'X'"),
    ],
)
def test_resident_id_shape_errors(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        resident(value)


@pytest.mark.parametrize("region", ["000000", "100101", "240101", "660101", "700101", "840000"])
def test_resident_id_unknown_province(region: str) -> None:
    with pytest.raises(InvalidIdentifier, match="no valid province prefix"):
        resident(make_resident(region, "19850615", "123"))


@pytest.mark.parametrize(
    ("birth", "message"),
    [
        ("19000229", "not a real date"),  # 1900 is not a leap year
        ("20230230", "not a real date"),
        ("19851301", "not a real date"),
        ("19850600", "not a real date"),
        ("00000000", "not a real date"),
        ("18991231", "before 1900-01-01"),
        ("20251102", "in the future"),
        ("20991231", "in the future"),
    ],
)
def test_resident_id_birth_date_errors(birth: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        resident(make_resident("370102", birth, "123"))


def test_future_bound_defaults_to_today_in_china() -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(InvalidIdentifier, match="in the future"):
        normalize_id("resident_id", make_resident("370102", tomorrow.strftime("%Y%m%d"), "123"))


def test_invalid_identifier_is_a_ledger_error() -> None:
    assert issubclass(InvalidIdentifier, LedgerError)


@pytest.mark.parametrize("bad_type", ["passport", "", "RESIDENT_ID"])
def test_unknown_id_type(bad_type: str) -> None:
    with pytest.raises(InvalidIdentifier, match="unknown id_type"):
        normalize_id(bad_type, "11010519491231002X")


def test_non_string_id_number() -> None:
    with pytest.raises(InvalidIdentifier, match="must be a string"):
        normalize_id(IdType.RESIDENT_ID, 11010519491231002)  # type: ignore[arg-type]


# --- USCC ----------------------------------------------------------------------------------

# Codes published on the National Enterprise Credit Information Publicity System; each one
# also passes the independent check computation below.
PUBLISHED_USCC = [
    "91350100M000100Y43",  # the worked example widely quoted with GB 32100-2015
    "914403001922038216",  # Huawei Technologies Co., Ltd.
    "9144030071526726XG",  # Shenzhen Tencent Computer Systems Co., Ltd.
    "91330100799655058B",  # Alibaba (China) Co., Ltd.
]


@pytest.mark.parametrize("code", PUBLISHED_USCC)
def test_published_uscc_are_valid(code: str) -> None:
    assert gb11714_check(code[8:16]) == code[16]
    assert gb32100_check(code[:17]) == code[17]
    assert uscc(code) == code


def test_uscc_is_normalized() -> None:
    assert uscc(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert uscc("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("head", "region", "org_body"),
    [
        ("91", "370100", "MA3C1234"),  # enterprise, Jinan
        ("92", "370102", "L1234567"),  # individual business
        ("93", "370105", "MA3D0000"),  # farmers' cooperative
        ("11", "100000", "00001234"),  # central government organ
        ("12", "370000", "49554321"),  # public institution
        ("51", "370000", "50123456"),  # social organization
        ("52", "370102", "MJD12345"),  # private non-enterprise unit
        ("53", "100000", "50000000"),  # foundation
        ("N2", "370112", "A1234567"),  # village collective economic organization
        ("Y1", "370100", "12345678"),
    ],
)
def test_constructed_uscc_are_valid(head: str, region: str, org_body: str) -> None:
    code = make_uscc(head, region, org_body)
    assert uscc(code.lower()) == code


def test_every_wrong_uscc_check_character_is_rejected() -> None:
    code = make_uscc("91", "370100", "MA3C1234")
    for wrong in USCC_CHARS:
        if wrong == code[17]:
            continue
        with pytest.raises(InvalidIdentifier, match=f"check character mismatch, expected {code[17]} got {wrong}"):
            uscc(code[:17] + wrong)


def test_wrong_organization_code_check_is_rejected_even_if_final_check_fits() -> None:
    code = make_uscc("91", "370100", "MA3C1234")
    for wrong in "0123456789X":
        if wrong == code[16]:
            continue
        first17 = code[:16] + wrong
        forged = first17 + gb32100_check(first17)  # final check recomputed: only GB 11714 is broken
        with pytest.raises(InvalidIdentifier, match=f"organization code .* expected {code[16]} got {wrong}"):
            uscc(forged)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("91350100M000100Y4", "must be 18 characters, got 17"),
        ("91350100M000100Y433", "must be 18 characters, got 19"),
        ("91350100I000100Y43", "'I' at position 9 is not allowed"),
        ("91350100O000100Y43", "'O' at position 9 is not allowed"),
        ("91350100M000100Z43", "'Z' at position 16 is not allowed"),
        ("9135010SM000100Y43", "'S' at position 8 is not allowed"),
        ("9V350100M000100Y43", "'V' at position 2 is not allowed"),
        ("91350100M000-00Y43", "'-' at position 13 is not allowed"),
        ("B1350100M000100Y43", "registration authority code 'B'"),
        ("01350100M000100Y43", "registration authority code '0'"),
        ("90350100M000100Y43", "institution category '0'"),
        ("9A350100M000100Y43", "institution category 'A'"),
        ("913501A0M000100Y43", "region code 3501A0"),
    ],
)
def test_uscc_errors(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        uscc(value)


# --- subject ids ---------------------------------------------------------------------------

PEPPER = bytes(range(32))


def test_subject_id_is_hmac_of_type_and_normalized_id() -> None:
    expected = hmac.new(PEPPER, b"resident_id:11010519491231002X", hashlib.sha256).digest()
    assert subject_id(PEPPER, IdType.RESIDENT_ID, "11010519491231002x") == expected
    assert subject_id(PEPPER, "resident_id", " 110105 19491231 002X ") == expected
    assert len(expected) == 32


def test_subject_id_for_uscc() -> None:
    expected = hmac.new(PEPPER, b"uscc:91350100M000100Y43", hashlib.sha256).digest()
    assert subject_id(PEPPER, IdType.USCC, "91350100m000100y43") == expected


def test_subject_id_depends_on_pepper() -> None:
    other = bytes(32)
    assert subject_id(PEPPER, "uscc", PUBLISHED_USCC[1]) != subject_id(other, "uscc", PUBLISHED_USCC[1])


def test_subject_id_rejects_invalid_ids_and_short_peppers() -> None:
    with pytest.raises(InvalidIdentifier):
        subject_id(PEPPER, "resident_id", "110105194912310021")
    with pytest.raises(ConfigurationError):
        subject_id(b"short", "uscc", PUBLISHED_USCC[0])


# --- pepper --------------------------------------------------------------------------------


@pytest.fixture
def no_env_pepper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENT_LEDGER_PEPPER", raising=False)


def test_pepper_created_once_with_private_modes(tmp_path, no_env_pepper) -> None:
    first = load_or_create_pepper(tmp_path)
    assert len(first) == 32
    path = tmp_path / "secrets" / "pepper"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_pepper(tmp_path) == first
    assert load_or_create_pepper(str(tmp_path)) == first
    assert [p.name for p in path.parent.iterdir()] == ["pepper"]  # no temp files left behind


def test_pepper_defaults_to_the_data_dir(tmp_path, monkeypatch, no_env_pepper) -> None:
    monkeypatch.setenv("CONSENT_LEDGER_HOME", str(tmp_path / "home"))
    value = load_or_create_pepper()
    assert (tmp_path / "home" / "secrets" / "pepper").read_bytes() == value


def test_env_pepper_overrides_the_file(tmp_path, monkeypatch, no_env_pepper) -> None:
    load_or_create_pepper(tmp_path)
    monkeypatch.setenv("CONSENT_LEDGER_HOME", str(tmp_path))
    monkeypatch.setenv("CONSENT_LEDGER_PEPPER", "ab" * 32)
    assert load_or_create_pepper(tmp_path, explicit=Settings.from_env().pepper) == bytes([0xAB]) * 32
    assert load_or_create_pepper() == bytes([0xAB]) * 32
    monkeypatch.setenv("CONSENT_LEDGER_PEPPER", "0x" + "CD" * 32)
    assert load_or_create_pepper(tmp_path, explicit=Settings.from_env().pepper) == bytes([0xCD]) * 32


@pytest.mark.parametrize(("value", "message"), [("zz" * 32, "CONSENT_LEDGER_PEPPER must be hex"),
                                                ("ab" * 16, "CONSENT_LEDGER_PEPPER must be 32 bytes")])
def test_bad_env_pepper(tmp_path, monkeypatch, value: str, message: str) -> None:
    monkeypatch.setenv("CONSENT_LEDGER_HOME", str(tmp_path))
    monkeypatch.setenv("CONSENT_LEDGER_PEPPER", value)
    with pytest.raises(ConfigurationError, match=message):
        load_or_create_pepper()


def test_pepper_file_with_wrong_size_or_open_mode_is_refused(tmp_path, no_env_pepper) -> None:
    load_or_create_pepper(tmp_path)
    path = tmp_path / "secrets" / "pepper"
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_pepper(tmp_path)
    os.chmod(path, 0o600)
    path.write_bytes(b"x" * 31)
    with pytest.raises(ConfigurationError, match="holds 31 bytes"):
        load_or_create_pepper(tmp_path)


def _pepper_in_child(path: str, queue) -> None:  # pragma: no cover - runs in a child process
    os.environ.pop("CONSENT_LEDGER_PEPPER", None)
    queue.put(load_or_create_pepper(path))


def test_concurrent_first_use_agrees_on_one_pepper(tmp_path, no_env_pepper) -> None:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_pepper_in_child, args=(str(tmp_path), queue)) for _ in range(6)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert len(set(results)) == 1
    assert results[0] == (tmp_path / "secrets" / "pepper").read_bytes()
