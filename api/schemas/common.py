"""Value types shared by the schemas: checksummed addresses, 0x-hex ids, UTC times, bounded integers.

Every integer a client sends is bounded here: the database stores 64-bit signed integers, and a
Python int beyond that fails deep inside the driver (an OverflowError, once a 500).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from eth_utils import is_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ledger.identity import IdType

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_SLUG = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def _address(value: str) -> str:
    if not is_address(value):
        raise ValueError("must be a 20-byte 0x-hex Ethereum address")
    return to_checksum_address(value)


def _hex32(value: str) -> str:
    if not _HEX32.match(value):
        raise ValueError("must be 0x followed by 64 hex digits")
    return value.lower()


def _slug(value: str) -> str:
    if not _SLUG.match(value) or len(value) > 100:
        raise ValueError("must be a dotted lower-case slug such as hrss.social_insurance")
    return value


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: 9999-12-31T23:59:59Z, the last second a datetime (and ISO 8601 with four-digit years) can show.
LATEST_TIMESTAMP = 253402300799


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone (ISO 8601, e.g. 2026-01-01T00:00:00Z)")
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be a time between 1970 and 9999 (UTC)") from None
    if value < _EPOCH:  # on-chain times are unsigned seconds since 1970
        raise ValueError("must not be before 1970-01-01T00:00:00Z")
    return value


#: Largest value a database integer column holds (BIGINT / SQLite INTEGER).
MAX_DB_INT = 2**63 - 1
MAX_PAGE = 1000

Address = Annotated[str, AfterValidator(_address)]
Hex32 = Annotated[str, AfterValidator(_hex32)]
ResourceSlug = Annotated[str, AfterValidator(_slug)]
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
FieldName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Purpose = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_.\-]*$")]


class Strict(BaseModel):
    """Unknown keys are errors, so a typo never silently drops a constraint."""

    model_config = ConfigDict(extra="forbid")


class Reply(BaseModel):
    """A response body: documents the fields every client may rely on; more may be added."""

    model_config = ConfigDict(extra="allow")


class SubjectRef(Strict):
    id_type: IdType
    id_number: str = Field(min_length=1, max_length=40)


def iso(moment: datetime | int | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, int):
        # Chain times are uint64: clamp what datetime cannot hold rather than fail the whole listing.
        moment = datetime.fromtimestamp(min(max(moment, 0), LATEST_TIMESTAMP), UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- errors ------------------------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str = Field(description="stable, machine-readable: INVALID_INPUT, ROLE_REQUIRED, REVOKED, ...")
    message: str = Field(description="for people; never the library's or the node's own text")


class ErrorResponse(Reply):
    """Every error: ``{"error": {"code", "message"}}``."""

    error: ErrorDetail


_ERRORS = {
    400: "the body could not be parsed (not UTF-8 JSON)",
    401: "not signed in, or the access token (or the ops token) is invalid or expired",
    403: "signed in, but without the role or the binding to the subject this needs",
    404: "no such resource, subject, consent, request, change or entry",
    409: "the request conflicts with the ledger's state (already registered, answered, revoked, used ...)",
    413: "the request body is over the size limit",
    422: "invalid input (INVALID_INPUT names the field) or a request the ledger refuses",
    429: "over the rate limit (RATE_LIMITED); retry after the seconds in Retry-After",
    503: "the ledger or the database is unavailable, or anchoring lags (ANCHOR_LAG); nothing changed or released",
}


def errors(*statuses: int) -> dict[int | str, dict]:
    """``responses=`` entries for these error statuses, all with the one error body."""
    out: dict[int | str, dict] = {}
    for status in statuses:
        out[status] = {"model": ErrorResponse, "description": _ERRORS[status]}
        if status == 429:
            out[status]["headers"] = {"Retry-After": {"description": "seconds until a retry is admitted",
                                                      "schema": {"type": "integer"}}}
    return out


#: The statuses of any request with a JSON body: unparseable (400), too large (413).
BODY = (400, 413)
#: The statuses of a signed-in request with parameters or a body, before any route-specific ones.
SIGNED_IN = (401, 403, 422, 429, 503)


class TransactionRef(Reply):
    tx_hash: str
    block_number: int


class UnsignedTransaction(Reply):
    """A transaction for the caller to sign with its own key and send back as ``signed_transaction``."""

    transaction: dict[str, Any] = Field(description="from, to, data, value, chainId, nonce, gas and fee fields")
