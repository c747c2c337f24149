"""A lean JSON-RPC client: one keep-alive HTTP/1.1 connection per thread, orjson bodies.

web3.py adds an ``eth_chainId`` round trip and validation middleware to many calls, and even a
general HTTP client costs hundreds of microseconds per request in Python; the hot paths
(reading the chain head, sending raw transactions, polling receipts, reading logs) speak
JSON-RPC directly over ``http.client`` here.
"""

from __future__ import annotations

import http.client
import itertools
import threading
from typing import Any
from urllib.parse import urlsplit

import orjson

from ledger.exceptions import ChainUnavailable, LedgerError

#: Requests per JSON-RPC batch; nodes cap batches (geth and our gateway at 1000).
MAX_BATCH = 500


class RpcError(LedgerError):
    """The node answered a JSON-RPC request with an error object."""

    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code
        self.rpc_message = message
        self.data = data


class RpcClient:
    """Thread-safe JSON-RPC over HTTP: each thread keeps its own persistent connection."""

    def __init__(self, url: str, *, timeout: float = 10.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) JSON-RPC URL: {url}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = parts.path or "/"
        self._timeout = timeout
        self._local = threading.local()
        self._ids = itertools.count(1)  # next() on itertools.count is atomic in CPython
        self._connections: list[http.client.HTTPConnection] = []
        self._connections_lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            factory = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = factory(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def call(self, method: str, params: list | None = None) -> Any:
        reply = self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []})
        if not isinstance(reply, dict):
            raise ChainUnavailable(f"unexpected JSON-RPC reply to {method}")
        return _result(reply)

    def batch(self, calls: list[tuple[str, list]]) -> list[Any]:
        """Several calls in as few HTTP requests as the node allows; results in order, errors raised
        as RpcError."""
        results: list[Any] = []
        for start in range(0, len(calls), MAX_BATCH):
            results += self._batch(calls[start:start + MAX_BATCH])
        return results

    def _batch(self, calls: list[tuple[str, list]]) -> list[Any]:
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        replies = self._post([{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                              for i, (m, p) in zip(ids, calls)])
        if not isinstance(replies, list):
            return [_result(replies)]  # a node may answer a refused batch with one error
        by_id = {r.get("id"): r for r in replies}
        missing = {"error": {"code": -32603, "message": "missing reply"}}
        return [_result(by_id.get(i, missing)) for i in ids]

    def _post(self, payload: Any) -> Any:
        body = orjson.dumps(payload)
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", self._path, body, headers)
                response = conn.getresponse()
                status, content = response.status, response.read()
                break
            except (OSError, http.client.HTTPException) as exc:
                conn.close()  # a kept-alive connection the server closed: retry once on a new one
                self._local.conn = None
                if attempt == 2:
                    raise ChainUnavailable(f"chain RPC {self.url} unreachable: {exc}") from exc
        if status >= 500 or status in (413, 429):
            raise ChainUnavailable(f"chain RPC {self.url} answered HTTP {status}")
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise ChainUnavailable(f"chain RPC {self.url} sent invalid JSON (HTTP {status})") from exc

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()


def _result(reply: dict) -> Any:
    error = reply.get("error")
    if error:
        raise RpcError(error.get("code", -32603), error.get("message", ""), error.get("data"))
    return reply.get("result")
