"""The FastAPI application: settings → services (:mod:`api.bootstrap`) → routes, one error shape, rate and
body-size limits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from api.bootstrap import Services
from api.core.errors import error_response, install_error_handlers
from api.core.ratelimit import RateLimit, RateLimiter, SignInLimits
from api.core.responses import JsonResponse
from api import web
from api.routes import (admin, audit, auth, consents, directory, docs, emergencies, health, notifications,
                        objections, overdue, records, sharing, subjects, suspensions, tlog, verifications, webhooks)
from ledger.settings import Settings

log = logging.getLogger(__name__)
HOUSEKEEPING_INTERVAL_SECONDS = 60.0


class Housekeeping:
    """Purges what expires: spent sign-in nonces, consent drafts long past their deadline."""

    def __init__(self, purges: list[Callable[[], int]], interval: float = HOUSEKEEPING_INTERVAL_SECONDS):
        self.purges = purges
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="housekeeping", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def run_once(self) -> None:
        for purge in self.purges:
            try:
                purge()
            except Exception:  # a busy or unavailable database: try again next round
                log.warning("housekeeping: %s failed", purge.__qualname__, exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()


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


def create_app(settings: Settings, *, services: Services | None = None, web_root: Path = web.WEB_ROOT) -> FastAPI:
    """The application; ``services`` replaces the real ones (route tests pass fakes), ``web_root`` the built
    web pages."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        running = app.state.services = services or Services(settings)
        running.start()
        housekeeping = Housekeeping([running.auth.purge_expired, running.consents.purge_expired,
                                     running.webhooks.purge_finished])
        housekeeping.start()
        try:
            yield
        finally:
            housekeeping.stop()
            running.stop()

    app = FastAPI(title="Consent Ledger API", version="1.0", default_response_class=JsonResponse,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    install_error_handlers(app)
    docs.install(app)
    for module in (health, auth, admin, directory, records, consents, sharing, suspensions, verifications, objections,
                   emergencies, overdue, audit, tlog, subjects, notifications, webhooks):
        app.include_router(module.router)
    web.install(app, web_root)
    app.state.settings = settings
    app.state.sign_in_limits = SignInLimits(settings)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    # Outermost: a request over its budget is refused before anything else is done for it.
    app.add_middleware(RateLimit, limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst,
                                                      max_keys=settings.rate_limit_max_keys))
    return app
