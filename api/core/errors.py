"""One error shape for the whole API, ``{"error": {"code": ..., "message": ...}}``, and the one place
where domain errors become HTTP answers.

Services raise :class:`ApiError` or let the library's errors through; each library error gets a
stable code and a message a person understands. The library's own text (RPC URLs, node messages,
revert data) is logged here, never sent.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.core.responses import JsonResponse
from ledger.audit.log import AuditUnavailable
from ledger.eip712 import InvalidSignature, InvalidTypedData, NonCanonicalTypedData
from ledger.exceptions import ChainUnavailable, InvalidIdentifier, LedgerError, TransactionFailed

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with a stable code, an HTTP status and a message a person understands."""

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

#: Contract custom errors (by name) as HTTP answers; any other revert is a 422 LEDGER_REJECTED.
REVERTS: dict[str, tuple[int, str, str]] = {
    "ConsentsSignatureExpired": (409, "DEADLINE_PASSED", "the signing deadline has passed; make a new draft"),
    "ConsentsNonceAlreadyUsed": (409, "NONCE_USED", "this nonce was already used; make a new draft"),
    "ConsentsAlreadyExists": (409, "CONSENT_EXISTS", "this consent is already on the ledger"),
    "ConsentsNotActive": (409, "CONSENT_NOT_ACTIVE", "this consent is not active"),
    "ConsentsInvalidResources": (422, "INVALID_CONSENT", "a consent must list 1 to 16 resources in increasing "
                                                         "order, each granting at least one field"),
    "ConsentsInvalidWindow": (422, "INVALID_CONSENT", "a consent's validFrom must be before its validUntil"),
    "ConsentsZeroGrantee": (422, "INVALID_CONSENT", "a consent needs a grantee"),
    "ConsentsLengthMismatch": (422, "INVALID_CONSENT", "a consent needs one field mask per resource"),
    "ConsentsInvalidSignature": (422, "INVALID_SIGNATURE", "the ledger did not accept a signature"),
    "ConsentsNotSubjectSigner": (422, "INVALID_SIGNATURE", "a signer is not bound to the consent's subject"),
    "ConsentsBelowThreshold": (422, "INVALID_SIGNATURE", "fewer valid signatures than the subject's threshold"),
    "ConsentsUnknownSubject": (404, "UNKNOWN_SUBJECT", "the consent's subject is not registered"),
    "ConsentsUnknownConsent": (404, "NOT_FOUND", "no consent with this id on the ledger"),
    "SubjectsAlreadyRegistered": (409, "ALREADY_REGISTERED", "this subject is already registered"),
    "SubjectsChangeNotPending": (409, "CHANGE_NOT_PENDING", "this signer change is no longer pending"),
    "SubjectsChangeNotDue": (409, "CHANGE_NOT_DUE", "this signer change's notice period has not ended yet"),
    "SubjectsInvalidChangeNonce": (409, "CHANGE_NONCE_USED", "the subject's signers changed since this change was "
                                                             "written; write it again"),
}


def ledger_refusal(exc: TransactionFailed) -> ApiError:
    """The HTTP answer for a transaction the ledger refused."""
    log.warning("transaction refused: %s", exc)
    known = REVERTS.get(exc.error_name or "")
    if known:
        return ApiError(*known)
    if exc.error_name:
        return ApiError(422, "LEDGER_REJECTED", f"the ledger refused the transaction ({exc.error_name})")
    return ApiError(422, "LEDGER_REJECTED", "the ledger refused the transaction; nothing was changed")


def install_error_handlers(app: FastAPI) -> None:
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

    @app.exception_handler(InvalidIdentifier)
    async def _identifier(_: Request, exc: InvalidIdentifier):
        return error_response(422, "INVALID_ID_NUMBER", str(exc))  # our own validation message

    @app.exception_handler(InvalidTypedData)
    async def _typed_data(_: Request, exc: InvalidTypedData):
        code = "NON_CANONICAL_TYPED_DATA" if isinstance(exc, NonCanonicalTypedData) else "INVALID_TYPED_DATA"
        return error_response(422, code, str(exc))  # our own parser's message about the client's input

    @app.exception_handler(InvalidSignature)
    async def _signature(_: Request, exc: InvalidSignature):
        return error_response(422, "INVALID_SIGNATURE", str(exc))

    @app.exception_handler(TransactionFailed)
    async def _refused(_: Request, exc: TransactionFailed):
        error = ledger_refusal(exc)
        return error_response(error.status, error.code, error.message)

    @app.exception_handler(ChainUnavailable)
    async def _chain(_: Request, exc: ChainUnavailable):
        log.error("ledger unavailable: %s", exc)
        return error_response(503, "LEDGER_UNAVAILABLE", "the ledger is unreachable; nothing was changed or released")

    @app.exception_handler(AuditUnavailable)
    async def _audit(_: Request, exc: AuditUnavailable):
        log.error("audit log unavailable: %s", exc)
        return error_response(503, "AUDIT_UNAVAILABLE", "the audit log could not record this decision; "
                                                        "nothing was released")

    @app.exception_handler(LedgerError)
    async def _ledger(_: Request, exc: LedgerError):
        log.error("ledger error (%s): %s", type(exc).__name__, exc)
        return error_response(503, "LEDGER_ERROR", "the ledger could not complete this request; try again later")

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError):
        log.error("database error: %s", exc)
        return error_response(503, "DATABASE_UNAVAILABLE", "the database is unavailable; nothing was changed "
                                                           "or released")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unexpected error")
        return error_response(500, "INTERNAL_ERROR", "an unexpected error occurred; nothing was released")
