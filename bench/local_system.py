"""Starts a whole local system as processes: devnet + gateway, contracts, API servers.

Each piece is its own process, started exactly as ``scripts/run`` starts it (the
``consent-ledger`` CLI), in a private data dir with free loopback ports, so benchmarks and
every test directory see the real deployment shape and never touch the operator's ``.data``.
The devnet runs in the foreground of its own process group, or detached (``devnet up
--detach``) for the tests of the supervisor itself. On PostgreSQL (``database_url``) a second
API instance (``start_api("api2")``) shares the data dir and the database with the first, as two
``consent-ledger serve`` behind one public URL do.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

#: The checkout this bench/ belongs to: every piece runs from its root, as scripts/run runs them.
CHECKOUT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "api.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, timeout: float = 120.0, proc: subprocess.Popen | None = None,
             log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{what}: process exited with {proc.returncode}\n{tail}")
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {timeout}s")


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def rpc_ready(url: str) -> bool:
    reply = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=2)
    return reply.status_code == 200 and "result" in reply.json()


@dataclass
class LocalSystem:
    """One devnet, its deployment and (when started) its API servers, all under ``home``."""

    home: Path
    env: dict[str, str]
    rpc_url: str
    api_url: str  # the first instance's ("api"), which is also the public URL of every instance
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    api_urls: dict[str, str] = field(default_factory=dict)  # by instance name, once started

    @classmethod
    def create(cls, home: Path, *, anchor_interval: float = 1.0, database_url: str | None = None) -> "LocalSystem":
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        rpc_port, api_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_LEDGER_")}
        env.update({
            "CONSENT_LEDGER_HOME": str(home),
            "CONSENT_LEDGER_KEY_PASSWORD": os.environ.get("CONSENT_LEDGER_KEY_PASSWORD", "consent-ledger-devnet"),
            "CONSENT_LEDGER_GATEWAY_PORT": str(rpc_port),
            "CONSENT_LEDGER_RPC_URL": f"http://127.0.0.1:{rpc_port}",
            "CONSENT_LEDGER_API_PORT": str(api_port),
            "CONSENT_LEDGER_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
            "CONSENT_LEDGER_ANCHOR_INTERVAL": str(anchor_interval),
            # A benchmark run outlasts the default 15-minute token; tokens are made once per run.
            "CONSENT_LEDGER_JWT_TTL": "14400",
        })
        if database_url:
            env["CONSENT_LEDGER_DATABASE_URL"] = database_url
        return cls(home, env, f"http://127.0.0.1:{rpc_port}", f"http://127.0.0.1:{api_port}")

    def activate(self) -> None:
        """Point this process's ledger settings (data dir, RPC) at this system."""
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("CONSENT_LEDGER_")})

    def cli(self, *args: str, check: bool = True, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
        """Runs ``consent-ledger ARGS`` against this system; ``check``: raise when it fails."""
        done = subprocess.run([*CLI, *args], env=env or self.env, cwd=CHECKOUT, capture_output=True, text=True,
                              timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"consent-ledger {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def _spawn(self, name: str, args: list[str]) -> tuple[subprocess.Popen, Path]:
        log = self.home / f"{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(args, env=self.env, cwd=CHECKOUT, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.processes[name] = proc
        return proc, log

    def start_devnet(self, *extra: str) -> None:
        """``extra``: options of ``consent-ledger devnet up``, e.g. ``--block-time 1``."""
        proc, log = self._spawn("devnet", [*CLI, "devnet", "up", *extra])
        wait_for(lambda: rpc_ready(self.rpc_url), "devnet gateway", proc=proc, log=log)

    def start_devnet_detached(self, *extra: str, timeout: float = 60.0) -> dict:
        """``devnet up --detach`` on a port the gateway picks, ready within ``timeout`` seconds; returns
        the supervisor's runtime info."""
        self.cli("devnet", "up", "--detach", "--port", "0", "--ready-timeout", str(timeout), *extra,
                 timeout=timeout + 60)
        info = self.devnet_info()
        port = info["gateway_url"].rsplit(":", 1)[1]
        self.rpc_url = info["gateway_url"]
        self.env.update({"CONSENT_LEDGER_GATEWAY_PORT": port, "CONSENT_LEDGER_RPC_URL": self.rpc_url})
        return info

    @property
    def devnet_dir(self) -> Path:
        return self.home / "devnet"

    def devnet_info(self) -> dict:
        """The running supervisor's ``devnet.json``: pids, gateway URL, isolation."""
        return json.loads((self.devnet_dir / "devnet.json").read_text())

    def stop_devnet_detached(self) -> None:
        self.cli("devnet", "down", check=False, timeout=120)

    def kill_devnet_detached(self) -> None:
        """SIGKILL the supervisor's process group (supervisor + gateway) and anvil's (own session): a crash."""
        info = self.devnet_info()
        for pid in (info["pid"], info["anvil_pid"]):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        for pid in (info["pid"], info["anvil_pid"]):
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)

    def deploy(self) -> None:
        self.cli("deploy")

    def start_api(self, name: str = "api", *, wait: bool = True) -> str:
        """Start the API instance ``name``: "api" at ``api_url``, any other on a free port of its own
        (same data dir, database and public URL); returns its URL, once it is ready unless ``wait``
        is false."""
        port = self.api_url.rsplit(":", 1)[1] if name == "api" else str(free_port())
        url = f"http://127.0.0.1:{port}"
        proc, log = self._spawn(name, [*CLI, "serve", "--port", port, "--log-level", "warning"])
        self.api_urls[name] = url
        if wait:
            wait_for(lambda: httpx.get(url + "/readyz", timeout=5).status_code == 200, f"API {name}", proc=proc,
                     log=log)
        return url

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.processes.pop(name, None)
        self.api_urls.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop(name)
