"""Starts the real system for end-to-end tests: devnet + gateway, contracts, API server, demo world.

Every piece runs as its own process, exactly as `scripts/run` starts it, in a private data dir
with free loopback ports; nothing is mocked.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "ledger.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited with {proc.returncode}")
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout}s")


def rpc_ready(url: str) -> bool:
    reply = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=2)
    return reply.status_code == 200 and "result" in reply.json()


@dataclass
class RunningSystem:
    home: Path
    env: dict[str, str]
    rpc_url: str
    api_url: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start_devnet(self, *extra: str) -> None:
        log = open(self.home / "devnet.log", "ab")
        self.processes["devnet"] = subprocess.Popen([*CLI, "devnet", "up", *extra], env=self.env, cwd=ROOT,
                                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: rpc_ready(self.rpc_url), "devnet gateway", proc=self.processes["devnet"])

    def deploy(self) -> None:
        subprocess.run([*CLI, "deploy"], env=self.env, cwd=ROOT, check=True, capture_output=True)

    def start_api(self) -> None:
        log = open(self.home / "api.log", "ab")
        port = self.api_url.rsplit(":", 1)[1]
        self.processes["api"] = subprocess.Popen([*CLI, "serve", "--port", port, "--log-level", "warning"],
                                                 env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                                 start_new_session=True)
        wait_for(lambda: httpx.get(self.api_url + "/readyz", timeout=2).status_code == 200, "API",
                 proc=self.processes["api"])

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        for name in ("api", "devnet"):
            self.stop(name)


def make_system(home: Path, *, anchor_interval: float = 0.5) -> RunningSystem:
    rpc_port, api_port = free_port(), free_port()
    env = dict(os.environ)
    env.update({
        "CONSENT_LEDGER_HOME": str(home),
        "CONSENT_LEDGER_GATEWAY_PORT": str(rpc_port),
        "CONSENT_LEDGER_RPC_URL": f"http://127.0.0.1:{rpc_port}",
        "CONSENT_LEDGER_API_PORT": str(api_port),
        "CONSENT_LEDGER_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
        "CONSENT_LEDGER_ANCHOR_INTERVAL": str(anchor_interval),
    })
    return RunningSystem(home, env, f"http://127.0.0.1:{rpc_port}", f"http://127.0.0.1:{api_port}")


@contextmanager
def running_system(home: Path, *, devnet_args: tuple[str, ...] = (), extra_env: dict[str, str] | None = None,
                   demo: bool = True) -> Iterator[RunningSystem]:
    """Start devnet, contracts, API (and the demo world) with this process's environment pointed at
    them for the duration; stop everything and restore the environment afterwards."""
    running = make_system(home)
    running.env.update(extra_env or {})
    ours = {k: v for k, v in running.env.items() if k.startswith("CONSENT_LEDGER_")}
    saved = {k: os.environ.get(k) for k in ours}
    os.environ.update(ours)
    try:
        running.start_devnet(*devnet_args)
        running.deploy()
        running.start_api()
        if demo:
            from api.demo import seed

            seed(running.api_url)
        yield running
    finally:
        running.stop_all()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
