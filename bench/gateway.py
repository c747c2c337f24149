"""Gateway overhead: the same JSON-RPC calls through the gateway and straight to anvil.

Starts a throw-away devnet; anvil's own HTTP port, in anvil's private network namespace, is
measured from a thread that joins that namespace (setns and nsenter, needs root), then reports latency of sequential calls and throughput of concurrent ones for
eth_blockNumber, and throughput of eth_sendRawTransaction (at the gateway: decode, permission
check, journal fsync, forward) with instant mining. Run: ``.venv/bin/python -m bench.gateway [--n 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def anvil_http_port(pid: int) -> int:
    """The port of the listening TCP socket that anvil itself holds (matched by socket inode)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in open(f"/proc/{pid}/net/tcp").read().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:
            return int(fields[1].split(":")[1], 16)
    raise RuntimeError("anvil HTTP listener not found")


_CLONE_NEWNET = 0x40000000


def in_network_namespace_of(pid: int, fn, *args):
    """``fn(*args)`` in a thread inside the network namespace of ``pid`` (setns is per thread; root only)."""
    outcome: dict = {}

    def target() -> None:
        try:
            fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
            try:
                if ctypes.CDLL(None, use_errno=True).setns(fd, _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns into anvil's network namespace failed (not root?)")
            finally:
                os.close(fd)
            outcome["value"] = fn(*args)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def sequential(url: str, n: int) -> list[float]:
    """Round trips over one keep-alive HTTP/1.1 connection with a bare socket client (little client overhead)."""
    host, port = url.removeprefix("http://").split(":")
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
    request = (f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    times = []
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")
        for i in range(n + 50):
            started = time.perf_counter()
            sock.sendall(request)
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert b"result" in reader.read(length)
            if i >= 50:
                times.append(time.perf_counter() - started)
    return times


def ipc_sequential(path: str, n: int) -> list[float]:
    times = []
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        reader = sock.makefile("rb")
        for _ in range(n):
            started = time.perf_counter()
            sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}\n')
            reader.readline()
            times.append(time.perf_counter() - started)
    return times


async def concurrent(url: str, bodies: list[bytes], concurrency: int = 32) -> float:
    queue = list(reversed(bodies))
    async with aiohttp.ClientSession(headers={"content-type": "application/json"}) as session:
        async def worker():
            while queue:
                body = queue.pop()
                async with session.post(url, data=body) as response:
                    reply = await response.json()
                    assert "error" not in reply, reply

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def summary(label: str, times: list[float]) -> str:
    times = sorted(times)
    return (f"{label:<34} median {statistics.median(times) * 1e6:7.0f} us   "
            f"p99 {times[int(len(times) * 0.99)] * 1e6:7.0f} us")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    home = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    env = dict(os.environ, CONSENT_LEDGER_HOME=str(home))
    env.pop("CONSENT_LEDGER_GATEWAY_PORT", None)
    cli = [sys.executable, "-m", "ledger.devnet"]
    subprocess.run([*cli, "up", "--detach", "--port", "0"], env=env, cwd=ROOT, check=True)
    try:
        info = json.loads((home / "devnet" / "devnet.json").read_text())
        pid = info["anvil_pid"]
        # The namespace's loopback interface is down (nothing needs it); up, for this throw-away devnet only.
        subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "link", "set", "lo", "up"], check=True)
        gateway, anvil = info["gateway_url"], f"http://127.0.0.1:{anvil_http_port(pid)}"

        def run(url, fn, *fn_args):
            return fn(url, *fn_args) if url == gateway else in_network_namespace_of(pid, fn, url, *fn_args)

        print(f"{args.n} sequential eth_blockNumber calls over one keep-alive connection:")
        print(summary("  gateway (HTTP -> IPC -> anvil)", sequential(gateway, args.n)))
        print(summary("  anvil HTTP directly", run(anvil, sequential, args.n)))
        print(summary("  anvil IPC directly (raw socket)", ipc_sequential(str(home / "devnet" / "anvil.ipc"), args.n)))

        body = b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
        n = args.n * 5
        for label, url in (("gateway", gateway), ("anvil HTTP directly", anvil)):
            elapsed = run(url, lambda u, bodies: asyncio.run(concurrent(u, bodies)), [body] * n)
            print(f"  {n} eth_blockNumber, 32 concurrent, {label:<20} {n / elapsed:8.0f} req/s")

        os.environ["CONSENT_LEDGER_HOME"] = str(home)
        from ledger import keystore

        admin = keystore.load_key("admin")
        txs = [json.dumps({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [
            "0x" + bytes(admin.sign_transaction({"to": "0x" + "11" * 20, "value": 1, "gas": 21000, "nonce": i,
                                                 "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 1,
                                                 "chainId": 16211}).raw_transaction).hex()]}).encode()
               for i in range(2 * args.n)]
        for label, url, part in (("anvil HTTP directly", anvil, txs[:args.n]),
                                 ("gateway (admission + fsync)", gateway, txs[args.n:])):
            elapsed = run(url, lambda u, bodies: asyncio.run(concurrent(u, bodies)), part)
            print(f"  {args.n} eth_sendRawTransaction, 32 concurrent, {label:<28} {args.n / elapsed:6.0f} tx/s")
    finally:
        subprocess.run([*cli, "down"], env=env, cwd=ROOT, check=False)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
