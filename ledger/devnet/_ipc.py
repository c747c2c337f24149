"""Asynchronous JSON-RPC over anvil's IPC socket (newline-delimited JSON).

Anvil answers pipelined requests on one connection concurrently and out of order, so each
connection keeps a table of in-flight ids; a small pool of connections spreads the load.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, Callable

import orjson

from ledger.exceptions import DevnetError, RpcError

_LINE_LIMIT = 1 << 30  # a state dump arrives as one line


class UpstreamUnavailable(DevnetError):
    """The IPC connection to anvil failed or was closed."""


class IpcConnection:
    def __init__(self, path: str, on_notification: Callable[[dict], None] | None = None):
        self.path = path
        self._on_notification = on_notification
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task | None = None
        self._connect_lock = asyncio.Lock()
        self.closed = False

    async def connect(self) -> None:
        async with self._connect_lock:
            if self._writer is not None:
                return
            try:
                reader, writer = await asyncio.open_unix_connection(self.path, limit=_LINE_LIMIT)
            except OSError as exc:
                raise UpstreamUnavailable(f"cannot connect to {self.path}: {exc}") from exc
            self._writer = writer
            self._reader_task = asyncio.get_running_loop().create_task(self._read_loop(reader))

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        error: Exception = UpstreamUnavailable("anvil closed the IPC connection")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                message = orjson.loads(line)
                if not isinstance(message, dict):  # batches are never sent upstream
                    continue
                future = self._pending.pop(message.get("id"), None)
                if future is not None:
                    if not future.done():
                        future.set_result(message)
                elif "method" in message and self._on_notification is not None:
                    self._on_notification(message)
        except asyncio.CancelledError:
            error = UpstreamUnavailable("IPC connection closed")
            raise
        except (OSError, ValueError, asyncio.LimitOverrunError) as exc:
            error = UpstreamUnavailable(f"IPC read failed: {exc}")
        finally:
            self._fail_pending(error)
            if self._writer is not None:
                self._writer.close()
            self._writer = None

    def _fail_pending(self, error: Exception) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)

    async def send(self, method: str, params: Any) -> dict:
        """The raw reply object (with ``result`` or ``error``) to one request."""
        if self._writer is None:
            if self.closed:
                raise UpstreamUnavailable("IPC connection closed")
            await self.connect()
        request_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        writer = self._writer
        writer.write(orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}) + b"\n")
        if writer.transport.get_write_buffer_size() > (1 << 20):
            await writer.drain()
        return await future

    async def call(self, method: str, params: Any = ()) -> Any:
        reply = await self.send(method, list(params))
        error = reply.get("error")
        if error is not None:
            raise RpcError(error.get("code", -32603), error.get("message", ""), error.get("data"))
        return reply.get("result")

    async def close(self) -> None:
        self.closed = True
        if self._reader_task is not None:
            self._reader_task.cancel()
            try:
                await self._reader_task
            except (asyncio.CancelledError, Exception):
                pass
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class IpcPool:
    """A few connections used round-robin."""

    def __init__(self, path: str, size: int = 4):
        self.connections = [IpcConnection(path) for _ in range(max(1, size))]
        self._next = itertools.cycle(range(len(self.connections)))

    async def connect(self) -> None:
        for connection in self.connections:
            await connection.connect()

    def pick(self) -> IpcConnection:
        return self.connections[next(self._next)]

    async def send(self, method: str, params: Any) -> dict:
        return await self.pick().send(method, params)

    async def call(self, method: str, params: Any = ()) -> Any:
        return await self.pick().call(method, params)

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()
