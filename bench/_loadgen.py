"""The load generator: a separate process with a minimal HTTP/1.1 keep-alive client on raw sockets.

Requests are rendered to bytes once (bearer token included); a worker writes one, reads the
status line and headers, then exactly Content-Length bytes of body, and records the latency.
That is a few microseconds of client work per request, so at the rates measured here the
generator is not what limits the server. It runs in its own process (spawned, so it shares
nothing with the benchmark driver) and reports what it saw through a queue.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from dataclasses import dataclass, field


@dataclass
class LoadSpec:
    host: str
    port: int
    requests: list[bytes]  # rendered HTTP requests, used round-robin (each worker from its own offset)
    concurrency: int
    duration: float  # measured seconds, after the warm-up
    warmup: float = 1.0
    record_all: bool = False  # keep (start, end, status, request index) of every request


@dataclass
class LoadResult:
    concurrency: int
    window: float
    latencies: list[float] = field(default_factory=list)  # seconds, requests completed in the window
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # connection failures and unparsable replies
    client_cpu_s: float = 0.0  # CPU time the generator itself used in the measured window
    records: list[tuple[float, float, int, int]] = field(default_factory=list)

    @property
    def decisions(self) -> int:
        """Audited decisions: 200 (released) and 403 (denied), the only answers that count."""
        return self.statuses.get(200, 0) + self.statuses.get(403, 0)

    @property
    def other(self) -> int:
        return sum(n for status, n in self.statuses.items() if status not in (200, 403)) + self.errors


def render_post(host: str, port: int, path: str, body: dict, token: str) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload


async def _read_reply(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    if length:
        await reader.readexactly(length)
    return status


async def _run(spec: LoadSpec, started) -> LoadResult:
    clock = time.monotonic
    result = LoadResult(spec.concurrency, spec.duration)
    lat, statuses, records = result.latencies, result.statuses, result.records
    conns = []
    for _ in range(spec.concurrency):
        conns.append(await asyncio.open_connection(spec.host, spec.port))
    begin = clock() + spec.warmup
    end = begin + spec.duration
    if started is not None:
        started.set()
    n = len(spec.requests)

    async def worker(k: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        i = k * 7919  # spread workers over the mix
        while True:
            t0 = clock()
            if t0 >= end:
                break
            index = i % n
            i += 1
            try:
                writer.write(spec.requests[index])
                status = await _read_reply(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                writer.close()
                try:
                    reader, writer = await asyncio.open_connection(spec.host, spec.port)
                except OSError:
                    await asyncio.sleep(0.01)
                continue
            t1 = clock()
            if spec.record_all:
                records.append((t0, t1, status, index))
            if begin <= t0 and t1 <= end:
                lat.append(t1 - t0)
                statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    async def cpu_meter() -> None:
        await asyncio.sleep(max(0.0, begin - clock()))
        cpu0 = time.process_time()
        await asyncio.sleep(max(0.0, end - clock()))
        result.client_cpu_s = time.process_time() - cpu0

    await asyncio.gather(cpu_meter(), *(worker(k, r, w) for k, (r, w) in enumerate(conns)))
    return result


def _main(spec: LoadSpec, queue, started) -> None:
    try:
        import uvloop
        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.Runner()
    try:
        with runner:
            queue.put(("ok", runner.run(_run(spec, started))))
    except BaseException as exc:  # report, never hang the driver
        queue.put(("error", repr(exc)))


class LoadProcess:
    """A load run in a spawned process; ``wait_started`` returns once its connections are open."""

    def __init__(self, spec: LoadSpec):
        ctx = multiprocessing.get_context("spawn")
        self._queue = ctx.Queue()
        self._started = ctx.Event()
        self._process = ctx.Process(target=_main, args=(spec, self._queue, self._started), daemon=True)
        self._spec = spec
        self._process.start()

    def wait_started(self, timeout: float = 60.0) -> float:
        if not self._started.wait(timeout):
            raise TimeoutError("the load generator did not start")
        return time.monotonic()

    def result(self) -> LoadResult:
        timeout = self._spec.warmup + self._spec.duration + 120
        status, value = self._queue.get(timeout=timeout)
        self._process.join(timeout=30)
        if status != "ok":
            raise RuntimeError(f"load generator failed: {value}")
        return value


def run_load(spec: LoadSpec) -> LoadResult:
    return LoadProcess(spec).result()
