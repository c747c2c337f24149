"""A lean JSON-RPC client: one keep-alive HTTP/1.1 connection per thread, orjson bodies.

web3.py adds an ``eth_chainId`` round trip and validation middleware to many calls, and even a
general HTTP client costs hundreds of microseconds per request in Python; the hot paths
(reading the chain head, sending raw transactions, polling receipts, reading logs) speak
JSON-RPC directly over ``http.client`` here.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import threading
from typing import Any
from urllib.parse import urlsplit

import orjson

from ledger.exceptions import ChainUnavailable, RpcError

#: Requests per JSON-RPC batch; nodes cap batches (geth and our gateway at 1000).
MAX_BATCH = 500


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


class AsyncRpcClient:
    """JSON-RPC for an event loop over one keep-alive connection, one request at a time.

    For the calls a request handler must make without blocking the loop (reading the chain
    head); a small HTTP/1.1 client on asyncio streams, since nothing heavier is needed.
    """

    def __init__(self, url: str, *, timeout: float = 10.0):
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"not an http JSON-RPC URL: {url}")
        self.url = url
        self._host = parts.hostname
        self._port = parts.port or 80
        self._path = parts.path or "/"
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._lock: asyncio.Lock | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def call(self, method: str, params: list | None = None) -> Any:
        body = orjson.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []})
        request = (f"POST {self._path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            for attempt in (1, 2):
                try:
                    status, content = await asyncio.wait_for(self._exchange(request), self._timeout)
                    break
                except (OSError, EOFError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
                    self._close()  # a reply may still arrive on this connection: never reuse it
                    if attempt == 2 or isinstance(exc, TimeoutError):
                        raise ChainUnavailable(f"chain RPC {self.url} unreachable: {exc!r}") from exc
        if status >= 500 or status in (413, 429):
            raise ChainUnavailable(f"chain RPC {self.url} answered HTTP {status}")
        try:
            reply = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise ChainUnavailable(f"chain RPC {self.url} sent invalid JSON (HTTP {status})") from exc
        if not isinstance(reply, dict):
            raise ChainUnavailable(f"unexpected JSON-RPC reply to {method}")
        return _result(reply)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        self._writer.write(request)
        status_line = await self._reader.readline()
        if not status_line:
            raise EOFError("connection closed")
        status = int(status_line.split(b" ", 2)[1])
        length = None
        while (line := await self._reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            raise ValueError("reply without Content-Length")
        return status, await self._reader.readexactly(length)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def close(self) -> None:
        self._close()


def _result(reply: dict) -> Any:
    error = reply.get("error")
    if error:
        raise RpcError(error.get("code", -32603), error.get("message", ""), error.get("data"))
    return reply.get("result")
