"""One error shape for the whole API: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from api.core.responses import JsonResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.audit.log import AuditUnavailable
from ledger.exceptions import ChainUnavailable, InvalidIdentifier, LedgerError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with a stable code, an HTTP status and a message a person understands."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


_HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message)

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
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(InvalidIdentifier)
    async def _identifier(_: Request, exc: InvalidIdentifier):
        return error_response(422, "INVALID_ID_NUMBER", str(exc))

    @app.exception_handler(ChainUnavailable)
    async def _chain(_: Request, exc: ChainUnavailable):
        return error_response(503, "LEDGER_UNAVAILABLE", "the ledger is unreachable; nothing was changed or released")

    @app.exception_handler(AuditUnavailable)
    async def _audit(_: Request, exc: AuditUnavailable):
        return error_response(503, "AUDIT_UNAVAILABLE", "the audit log could not record this decision; "
                                                        "nothing was released")

    @app.exception_handler(LedgerError)
    async def _ledger(_: Request, exc: LedgerError):
        return error_response(503, "LEDGER_ERROR", str(exc))

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError):
        log.error("database error: %s", exc)
        return error_response(503, "DATABASE_UNAVAILABLE", "the database is unavailable; nothing was changed "
                                                           "or released")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unexpected error")
        return error_response(500, "INTERNAL_ERROR", "an unexpected error occurred; nothing was released")
