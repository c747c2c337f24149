"""Request budgets: token buckets per principal (per client address when not signed in), and
tighter ones for sign-in, per client address and per wallet address.

Over budget is a 429 ``RATE_LIMITED`` with ``Retry-After``. Each table holds at most
``max_keys`` buckets and evicts the least recently seen one beyond that, so a flood of fresh
keys (addresses are free to make) costs bounded memory; an evicted key comes back with a full
bucket, which only ever errs on the side of admitting a client that had gone quiet.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Receive, Scope, Send

from api.core.errors import ApiError, error_response
from ledger.domain_errors import NotAuthenticated
from ledger.settings import Settings


class RateLimiter:
    """``rate`` requests per second per key, bursts up to ``burst``; ``rate`` 0 admits everything."""

    def __init__(self, rate: float, burst: float, *, max_keys: int = 100_000):
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, updated)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """0 when the request is admitted, else the seconds until it would be."""
        if not self.rate:
            return 0.0
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                tokens = self.burst
                if len(self._buckets) >= self.max_keys:
                    self._buckets.popitem(last=False)
            else:
                tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
                self._buckets.move_to_end(key)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


def _retry_after(wait: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(wait)))}


def too_many(wait: float, what: str) -> ApiError:
    return ApiError(429, "RATE_LIMITED", f"too many {what}; retry after the time in Retry-After",
                    headers=_retry_after(wait))


class SignInLimits:
    """Budgets for the unauthenticated sign-in endpoints."""

    def __init__(self, settings: Settings):
        self.per_client = RateLimiter(settings.auth_rate_per_second, settings.auth_burst,
                                      max_keys=settings.rate_limit_max_keys)
        self.per_address = RateLimiter(settings.challenge_rate_per_second, settings.challenge_burst,
                                       max_keys=settings.rate_limit_max_keys)

    def client(self, host: str) -> None:
        wait = self.per_client.take(host)
        if wait:
            raise too_many(wait, "sign-in requests from this client")

    def challenge(self, host: str, address: str) -> None:
        self.client(host)
        wait = self.per_address.take(address.lower())
        if wait:
            raise too_many(wait, "sign-in challenges for this address")


#: Liveness must answer even to a client over its budget (load balancers, orchestrators).
_UNLIMITED_PATHS = frozenset({"/healthz"})


class RateLimit:
    """ASGI middleware: one budget per signed-in principal, else per client address.

    The principal is the token's verified address (verification is cached by the
    authenticator), so logging in again for a fresh token does not buy a fresh budget."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter):
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.rate or scope["path"] in _UNLIMITED_PATHS:
            return await self.app(scope, receive, send)
        wait = self.limiter.take(self._key(scope))
        if wait:
            response = error_response(429, "RATE_LIMITED", "too many requests; retry after the time in Retry-After",
                                      headers=_retry_after(wait))
            return await response(scope, receive, send)
        await self.app(scope, receive, send)

    @staticmethod
    def _key(scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                services = getattr(scope["app"].state, "services", None)
                if scheme.lower() == "bearer" and token.strip() and services is not None:
                    try:
                        return "principal:" + services.auth.verify_token(token.strip())
                    except NotAuthenticated:
                        pass  # not a valid token: the route answers 401; count it against the client
                break
        return "client:" + client_host(scope)


def client_host(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"
