"""A minimal HTTP/1.1 server for JSON-RPC POSTs: asyncio protocol + httptools (llhttp) parser.

The gateway sits on the API's hot path; a general web framework costs ~100 us per request here,
this costs a fraction of that. It does only what JSON-RPC over HTTP needs: POST bodies up to a
limit (HTTP 413 as soon as the limit is known to be exceeded), keep-alive, pipelining (answers
in request order, at most ``MAX_PIPELINE`` in flight per connection), ``Expect: 100-continue``,
idle and slow-request timeouts, HTTP 405 for other methods. Handlers that were started finish
even if the client goes away: an admitted transaction is always forwarded.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Awaitable, Callable

import httptools

log = logging.getLogger("ledger.devnet.gateway")

Handler = Callable[[bytes, str], Awaitable[tuple[int, bytes | None]]]

MAX_PIPELINE = 64
MAX_HEADER_BYTES = 64 * 1024
IDLE_TIMEOUT = 75.0
REQUEST_TIMEOUT = 30.0

_REASONS = {200: b"OK", 204: b"No Content", 400: b"Bad Request", 405: b"Method Not Allowed",
            408: b"Request Timeout", 413: b"Content Too Large", 429: b"Too Many Requests",
            431: b"Request Header Fields Too Large", 500: b"Internal Server Error"}


def _response(status: int, body: bytes | None, keep_alive: bool, extra: bytes = b"") -> bytes:
    head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown"))
    if status != 204:
        body = body or b""
        head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    if not keep_alive:
        head += b"Connection: close\r\n"
    return head + extra + b"\r\n" + (body if status != 204 else b"")


class _Slot:
    __slots__ = ("data", "keep_alive")

    def __init__(self, keep_alive: bool):
        self.data: bytes | None = None
        self.keep_alive = keep_alive


class _Connection(asyncio.Protocol):
    def __init__(self, server: "HttpServer"):
        self.server = server
        self.loop = server.loop
        self.transport: asyncio.Transport | None = None
        self.remote = "?"
        self.parser = httptools.HttpRequestParser(self)
        self.pipeline: collections.deque[_Slot] = collections.deque()
        self.body: list[bytes] = []
        self.size = 0
        self.header_bytes = 0
        self.rejected: int | None = None
        self.closing = False
        self.paused = False
        self.expect_continue = False
        self.timer: asyncio.TimerHandle | None = None

    # -- connection ------------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.remote = peer[0] if peer else "?"
        self.server.connections.add(self)
        self._arm(IDLE_TIMEOUT)

    def connection_lost(self, exc) -> None:
        self.server.connections.discard(self)
        self.closing = True
        if self.timer is not None:
            self.timer.cancel()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400)
        except httptools.HttpParserError:
            if self.rejected is None:
                self._fail(400)

    def _arm(self, seconds: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_later(seconds, self._timeout)

    def _timeout(self) -> None:
        if self.pipeline:  # answers still being computed: wait for them
            self._arm(IDLE_TIMEOUT)
            return
        if self.transport is not None and not self.closing:
            self.closing = True
            self.transport.close()

    def close_if_idle(self) -> None:
        if not self.pipeline and self.transport is not None:
            self.closing = True
            self.transport.close()

    # -- parser callbacks ------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.body = []
        self.size = 0
        self.header_bytes = 0
        self.rejected = None
        self._arm(REQUEST_TIMEOUT)

    def on_url(self, url: bytes) -> None:
        self.header_bytes += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > MAX_HEADER_BYTES:
            self._fail(431)
            raise httptools.HttpParserError("headers too large")
        lowered = name.lower()
        if lowered == b"content-length":
            try:
                if int(value) > self.server.max_body:
                    self._reject(413)
            except ValueError:
                self._fail(400)
                raise httptools.HttpParserError("bad content-length") from None
        elif lowered == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True

    def on_headers_complete(self) -> None:
        if self.parser.get_method() != b"POST":
            self.rejected = self.rejected or 405
        if self.expect_continue:
            self.expect_continue = False
            if self.rejected is None and not self.pipeline:
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if self.rejected == 413:
            raise httptools.HttpParserError("body too large")  # stop reading it

    def on_body(self, chunk: bytes) -> None:
        if self.rejected is not None:
            return
        self.size += len(chunk)
        if self.size > self.server.max_body:
            self._reject(413)
            raise httptools.HttpParserError("body too large")
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        slot = _Slot(keep_alive)
        self.pipeline.append(slot)
        if self.rejected is not None:
            slot.data = _response(self.rejected, None, keep_alive,
                                  b"Allow: POST\r\n" if self.rejected == 405 else b"")
            self._flush()
        else:
            body = b"".join(self.body)
            task = self.loop.create_task(self._serve(slot, body))
            self.server.tasks.add(task)
            task.add_done_callback(self.server.tasks.discard)
        self.body = []
        self._arm(IDLE_TIMEOUT)
        if len(self.pipeline) >= MAX_PIPELINE and not self.paused:
            self.paused = True
            self.transport.pause_reading()

    # -- answers ---------------------------------------------------------------------------------

    async def _serve(self, slot: _Slot, body: bytes) -> None:
        try:
            status, payload = await self.server.handler(body, self.remote)
        except Exception:  # a bug must not kill the connection silently
            log.exception("gateway handler failed")
            status, payload = 500, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}'
        slot.data = _response(status, payload, slot.keep_alive)
        self._flush()

    def _reject(self, status: int) -> None:
        """Answer ``status`` after the answers already due, then close (the rest is unread)."""
        self.rejected = status
        slot = _Slot(False)
        slot.data = _response(status, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32005,'
                                      b'"message":"request body too large"}}' if status == 413 else None, False)
        self.pipeline.append(slot)
        self.closing = True
        self.transport.pause_reading()
        self.paused = True
        self._flush()

    def _fail(self, status: int) -> None:
        self._reject(status)

    def _flush(self) -> None:
        transport = self.transport
        while self.pipeline and self.pipeline[0].data is not None:
            slot = self.pipeline.popleft()
            if transport.is_closing():
                self.pipeline.clear()
                return
            transport.write(slot.data)
            if not slot.keep_alive:
                self.pipeline.clear()
                self.closing = True
                transport.close()
                return
        if self.paused and not self.closing and len(self.pipeline) < MAX_PIPELINE // 2:
            self.paused = False
            transport.resume_reading()


class HttpServer:
    def __init__(self, handler: Handler, *, max_body: int):
        self.handler = handler
        self.max_body = max_body
        self.loop = asyncio.get_running_loop()
        self.connections: set[_Connection] = set()
        self.tasks: set[asyncio.Task] = set()
        self._server: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await self.loop.create_server(lambda: _Connection(self), host, port, reuse_address=True,
                                                     backlog=1024)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop listening, let started handlers finish (admitted transactions get forwarded), close."""
        if self._server is None:
            return
        self._server.close()
        for connection in list(self.connections):
            connection.close_if_idle()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
        await self._server.wait_closed()
        self._server = None
