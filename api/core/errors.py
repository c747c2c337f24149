"""One error shape for the whole API, ``{"error": {"code": ..., "message": ...}}``, and the one place
where the library's errors become HTTP answers (:func:`http_error`).

Services raise the library's errors: refusals (:mod:`ledger.domain_errors`, whose kind gives the
status and whose code and message are sent as they are) and failures of the chain, the audit log
or the database (a 503 with a fixed message). The library's own text (RPC URLs, node messages,
revert data) is logged here, never sent.
"""

from __future__ import annotations

import sqlite3

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
import psycopg
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.core.responses import JsonResponse
from ledger import domain_errors as refused
from ledger.audit.log import AuditUnavailable
from ledger.eip712 import InvalidSignature, InvalidTypedData, NonCanonicalTypedData
from ledger.exceptions import ChainUnavailable, InvalidIdentifier, LedgerError, TransactionFailed

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An HTTP answer made by the HTTP layer itself (the rate limits, with their Retry-After);
    everything below the routes raises the library's errors instead."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


_HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED"}

#: Each kind of refusal as its HTTP status.
STATUS_OF_KIND: dict[type[refused.DomainError], int] = {
    refused.NotAuthenticated: 401, refused.Forbidden: 403, refused.NotFound: 404, refused.Conflict: 409,
    refused.InvalidRequest: 422, refused.Unavailable: 503,
}

#: Contract custom errors (by name) as refusals; any other revert is LEDGER_REJECTED.
REVERTS: dict[str, tuple[type[refused.DomainError], str]] = {
    "ConsentsSignatureExpired": (refused.DeadlinePassed, "the signing deadline has passed; make a new draft"),
    "ConsentsNonceAlreadyUsed": (refused.NonceUsed, "this nonce was already used; make a new draft"),
    "ConsentsAlreadyExists": (refused.ConsentExists, "this consent is already on the ledger"),
    "ConsentsNotActive": (refused.ConsentNotActive, "this consent is not active"),
    "ConsentsInvalidResources": (refused.InvalidConsent, "a consent must list 1 to 16 resources in increasing "
                                                         "order, each granting at least one field"),
    "ConsentsInvalidWindow": (refused.InvalidConsent, "a consent's validFrom must be before its validUntil"),
    "ConsentsZeroGrantee": (refused.InvalidConsent, "a consent needs a grantee"),
    "ConsentsLengthMismatch": (refused.InvalidConsent, "a consent needs one field mask per resource"),
    "ConsentsInvalidSignature": (refused.WrongSigner, "the ledger did not accept a signature"),
    "ConsentsNotSubjectSigner": (refused.WrongSigner, "a signer is not bound to the consent's subject"),
    "ConsentsBelowThreshold": (refused.WrongSigner, "fewer valid signatures than the subject's threshold"),
    "ConsentsUnknownSubject": (refused.UnknownSubject, "the consent's subject is not registered"),
    "ConsentsUnknownConsent": (refused.NotFound, "no consent with this id on the ledger"),
    "CatalogVerificationNotOpen": (refused.VerificationNotOpen, "this verification request is not open for this "
                                                                "step"),
    "CatalogEmergencyOver": (refused.EmergencyOver, "this emergency has ended; declare a new one"),
    "CatalogEmergencyNotOver": (refused.EmergencyNotOver, "this emergency is reviewed after its end"),
    "CatalogEmergencyReviewed": (refused.AlreadyAnswered, "this emergency has been reviewed already"),
    "CatalogNoticeAlreadyDue": (refused.NoticeAlreadyDue, "the notice delay has run out; a notice once due is not "
                                                          "hidden again"),
    "CatalogNotSuspended": (refused.NotSuspended, "this department's access to the resource is not suspended"),
    "CatalogUnknownDepartment": (refused.UnknownDepartment, "no department is registered at this address"),
    "ObjectionsSignatureExpired": (refused.DeadlinePassed, "the signing deadline has passed; make a new draft"),
    "ObjectionsNonceAlreadyUsed": (refused.NonceUsed, "this objection was filed already, or its nonce cancelled; "
                                                      "make a new draft"),
    "ObjectionsNotSubjectSigner": (refused.WrongSigner, "the signer is not bound to the objection's subject"),
    "ObjectionsInvalidSignature": (refused.WrongSigner, "the ledger did not accept the signature"),
    "ObjectionsWrongStatus": (refused.ObjectionWrongStep, "this objection is not at the step this asks for"),
    "ObjectionsNotDecider": (refused.NotObjectionDecider, "once forwarded, only the provider it went to decides an "
                                                          "objection"),
    "SubjectsAlreadyRegistered": (refused.AlreadyRegistered, "this subject is already registered"),
    "SubjectsChangeNotPending": (refused.ChangeNotPending, "this signer change is no longer pending"),
    "SubjectsChangeNotDue": (refused.ChangeNotDue, "this signer change's notice period has not ended yet"),
    "SubjectsInvalidChangeNonce": (refused.ChangeNonceUsed, "the subject's signers changed since this change was "
                                                            "written; write it again"),
}


def ledger_refusal(exc: TransactionFailed) -> refused.DomainError:
    """The refusal a transaction the ledger refused stands for."""
    known = REVERTS.get(exc.error_name or "")
    if known:
        kind, message = known
        return kind(message)
    if exc.error_name:
        return refused.LedgerRejected(f"the ledger refused the transaction ({exc.error_name})")
    return refused.LedgerRejected("the ledger refused the transaction; nothing was changed")


def status_of(kind: type[refused.DomainError]) -> int:
    return next(STATUS_OF_KIND[k] for k in kind.__mro__ if k in STATUS_OF_KIND)


def http_error(exc: LedgerError) -> tuple[int, str, str]:
    """Status, code and message for any library error."""
    if isinstance(exc, TransactionFailed):
        log.warning("transaction refused: %s", exc)
        exc = ledger_refusal(exc)
    if isinstance(exc, refused.DomainError):
        return status_of(type(exc)), exc.code, exc.message
    # The library's validation of client input: its messages are our own, about that input.
    if isinstance(exc, InvalidIdentifier):
        return 422, "INVALID_ID_NUMBER", str(exc)
    if isinstance(exc, InvalidTypedData):
        return 422, "NON_CANONICAL_TYPED_DATA" if isinstance(exc, NonCanonicalTypedData) else "INVALID_TYPED_DATA", \
            str(exc)
    if isinstance(exc, InvalidSignature):
        return 422, "INVALID_SIGNATURE", str(exc)
    if isinstance(exc, ChainUnavailable):
        log.error("ledger unavailable: %s", exc)
        return 503, "LEDGER_UNAVAILABLE", "the ledger is unreachable; nothing was changed or released"
    if isinstance(exc, AuditUnavailable):
        log.error("audit log unavailable: %s", exc)
        return 503, "AUDIT_UNAVAILABLE", "the audit log could not record this decision; nothing was released"
    log.error("ledger error (%s): %s", type(exc).__name__, exc)
    return 503, "LEDGER_ERROR", "the ledger could not complete this request; try again later"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def _ledger(_: Request, exc: LedgerError):
        return error_response(*http_error(exc))

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return error_response(422, "INVALID_INPUT", "; ".join(problems) or "invalid input")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    async def _database(_: Request, exc: Exception):
        log.error("database error: %s", exc)
        return error_response(503, "DATABASE_UNAVAILABLE", "the database is unavailable; nothing was changed "
                                                           "or released")

    # The hot reads run on raw DBAPI connections, whose drivers raise their own errors.
    for database_error in (DBAPIError, sqlite3.Error, psycopg.Error):
        app.add_exception_handler(database_error, _database)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unexpected error")
        return error_response(500, "INTERNAL_ERROR", "an unexpected error occurred; nothing was released")
