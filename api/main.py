"""The FastAPI application: settings → services → routes, one error shape, body-size limit."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from api.core.responses import JsonResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.core.config import Settings
from api.core.errors import error_response, install_error_handlers
from api.routes import admin, audit, auth, consents, health, records, sharing, subjects

log = logging.getLogger(__name__)


class BodySizeLimit:
    """Refuses bodies over ``limit`` bytes with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            response = error_response(413, "PAYLOAD_TOO_LARGE", f"request body over {self.limit} bytes")
            return await response(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            response = error_response(413, "PAYLOAD_TOO_LARGE", f"request body over {self.limit} bytes")
            await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(settings: Settings | None = None, *, services=None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if services is None:
            from api.services.context import AppServices

            app.state.services = AppServices(settings)
        else:
            app.state.services = services
        app.state.services.start()
        try:
            yield
        finally:
            app.state.services.stop()

    app = FastAPI(title="Consent Ledger API", version="1.0", default_response_class=JsonResponse,
                  lifespan=lifespan)
    install_error_handlers(app)
    for module in (health, auth, admin, records, consents, sharing, audit, subjects):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    return app
