"""The benchmark's load generator against a tiny keep-alive server: decisions counted, requests recorded.

Benchmarks are not tests: nothing here asserts on timing, only that the pieces compute what
the report claims they compute.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from bench._loadgen import LoadSpec, render_post, run_load

pytestmark = pytest.mark.unit


@pytest.fixture()
def tiny_server():
    """A keep-alive HTTP/1.1 server answering 200, then 403, alternately."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state = {}

    async def handle(reader, writer):
        n = 0
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
                         .split(b":")[1])
            await reader.readexactly(length)
            status, body = (b"200 OK", b'{"ok":true}') if n % 2 == 0 else (b"403 Forbidden", b'{"error":{}}')
            n += 1
            writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
        writer.close()

    async def start():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        state["server"], state["port"] = server, server.sockets[0].getsockname()[1]
        ready.set()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    yield state["port"]
    loop.call_soon_threadsafe(state["server"].close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_load_generator_counts_decisions_and_records_requests(tiny_server):
    request = render_post("127.0.0.1", tiny_server, "/v1/records/query", {"a": 1}, "token")
    assert b"Authorization: Bearer token\r\n" in request and request.endswith(b'{"a":1}')
    result = run_load(LoadSpec("127.0.0.1", tiny_server, [request], 2, 0.3, warmup=0.1, record_all=True))
    assert result.errors == 0 and result.other == 0
    assert result.statuses.get(200, 0) > 0 and result.statuses.get(403, 0) > 0
    assert result.decisions == len(result.latencies)
    assert len(result.records) >= result.decisions
    assert all(end >= start for start, end, _, _ in result.records)
