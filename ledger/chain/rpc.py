"""A lean JSON-RPC client over one keep-alive HTTP connection pool.

web3.py adds an ``eth_chainId`` round trip and validation middleware to many calls; the hot
paths (sending raw transactions, polling receipts, reading logs) speak JSON-RPC directly here.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import httpx
import orjson

from ledger.exceptions import ChainUnavailable, LedgerError


class RpcError(LedgerError):
    """The node answered a JSON-RPC request with an error object."""

    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code
        self.rpc_message = message
        self.data = data


class RpcClient:
    """Thread-safe JSON-RPC over HTTP with connection reuse."""

    def __init__(self, url: str, *, timeout: float = 10.0):
        self.url = url
        self._http = httpx.Client(
            timeout=timeout,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            headers={"content-type": "application/json"},
        )
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()

    def _next_id(self) -> int:
        with self._id_lock:
            return next(self._ids)

    def call(self, method: str, params: list | None = None) -> Any:
        request = {"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": params or []}
        reply = self._post(request)
        if not isinstance(reply, dict):
            raise ChainUnavailable(f"unexpected JSON-RPC reply to {method}")
        return _result(reply)

    def batch(self, calls: list[tuple[str, list]]) -> list[Any]:
        """Several calls in one HTTP request; results in order, errors raised as RpcError."""
        if not calls:
            return []
        first = self._next_id()
        requests = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]
        with self._id_lock:  # reserve the id range used above
            for _ in range(len(calls) - 1):
                next(self._ids)
        replies = self._post(requests)
        if not isinstance(replies, list):
            return [_result(replies)]  # a node may answer a refused batch with one error
        by_id = {r.get("id"): r for r in replies}
        return [_result(by_id.get(first + i, {"error": {"code": -32603, "message": "missing reply"}}))
                for i in range(len(calls))]

    def _post(self, payload: Any) -> Any:
        try:
            response = self._http.post(self.url, content=orjson.dumps(payload))
        except httpx.HTTPError as exc:
            raise ChainUnavailable(f"chain RPC {self.url} unreachable: {exc}") from exc
        if response.status_code >= 500 or response.status_code in (413, 429):
            raise ChainUnavailable(f"chain RPC {self.url} answered HTTP {response.status_code}")
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise ChainUnavailable(f"chain RPC {self.url} sent invalid JSON") from exc

    def close(self) -> None:
        self._http.close()


def _result(reply: dict) -> Any:
    error = reply.get("error")
    if error:
        raise RpcError(error.get("code", -32603), error.get("message", ""), error.get("data"))
    return reply.get("result")
