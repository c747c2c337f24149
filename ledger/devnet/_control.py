"""Synchronous control of a devnet from other processes: status, stop, detached start, waiting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ledger import config
from ledger.devnet._anvil import kill_stale_anvil, process_matches, read_pid
from ledger.devnet._settings import DevnetPaths
from ledger.exceptions import DevnetError

_SUPERVISOR_MARK = "devnet"  # appears in the command line of `consent-ledger devnet up` and `-m ledger.devnet`


def supervisor_pid(paths: DevnetPaths) -> int | None:
    pid = read_pid(paths.pidfile)
    return pid if pid is not None and process_matches(pid, _SUPERVISOR_MARK) else None


def runtime_info(paths: DevnetPaths) -> dict | None:
    try:
        return json.loads(paths.runtime.read_text())
    except (OSError, ValueError):
        return None


def gateway_url(paths: DevnetPaths | None = None) -> str:
    """URL of the running gateway, else the configured one."""
    paths = paths or DevnetPaths.default()
    return (runtime_info(paths) or {}).get("gateway_url") or f"http://{config.GATEWAY_HOST}:{paths.gateway_port}"


def rpc(url: str, method: str, params: list | None = None, timeout: float = 2.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply = json.loads(response.read())
    if "error" in reply:
        raise DevnetError(f"{method}: {reply['error'].get('message')}")
    return reply["result"]


def status(paths: DevnetPaths | None = None) -> dict:
    paths = paths or DevnetPaths.default()
    pid = supervisor_pid(paths)
    info = runtime_info(paths) if pid is not None else None
    url = (info or {}).get("gateway_url") or gateway_url(paths)
    result = {"running": False, "pid": pid, "gateway_url": url, "data_dir": str(paths.data),
              "chain_id": None, "block_number": None}
    if info:
        result.update({k: info[k] for k in ("anvil_pid", "isolation", "block_time", "started_at") if k in info})
    try:
        result["chain_id"] = int(rpc(url, "eth_chainId"), 16)
        result["block_number"] = int(rpc(url, "eth_blockNumber"), 16)
        result["running"] = True
    except (OSError, urllib.error.URLError, ValueError, DevnetError):
        result["running"] = False
    if pid is not None and info is None:
        result["state"] = "starting"
    return result


def wait_ready(url: str | None = None, timeout: float = 60.0, *, chain_id: int = config.CHAIN_ID,
               process: subprocess.Popen | None = None) -> int:
    """Wait until the gateway answers with the right chain id; returns the block number."""
    url = url or gateway_url()
    deadline = time.monotonic() + timeout
    while True:
        try:
            if int(rpc(url, "eth_chainId", timeout=1.0), 16) == chain_id:
                return int(rpc(url, "eth_blockNumber", timeout=1.0), 16)
        except (OSError, urllib.error.URLError, ValueError, DevnetError):
            pass
        if process is not None and process.poll() is not None:
            raise DevnetError(f"devnet exited with status {process.returncode}")
        if time.monotonic() > deadline:
            raise DevnetError(f"no devnet answering at {url} after {timeout:.0f} s")
        time.sleep(0.1)


def stop(paths: DevnetPaths | None = None, timeout: float = 30.0) -> bool:
    """SIGTERM the supervisor and wait; SIGKILL after ``timeout``. False if none was running."""
    paths = paths or DevnetPaths.default()
    pid = supervisor_pid(paths)
    if pid is None:
        kill_stale_anvil(paths)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while process_matches(pid, _SUPERVISOR_MARK):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
            kill_stale_anvil(paths)  # the journal still has every admitted transaction
            break
        time.sleep(0.05)
    return True


def start_detached(args: list[str], paths: DevnetPaths | None = None, timeout: float = 60.0) -> dict:
    """Start ``python -m ledger.devnet up ARGS`` in its own session, logging to <data>/devnet/devnet.log."""
    paths = (paths or DevnetPaths.default()).ensure()
    if supervisor_pid(paths) is not None:
        raise DevnetError(f"a devnet is already running on {paths.data} (pid {supervisor_pid(paths)})")
    log_fd = os.open(paths.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    env = dict(os.environ, CONSENT_LEDGER_HOME=str(paths.data))
    try:  # in this working directory: a checkout's anvil is found relative to its root
        process = subprocess.Popen([sys.executable, "-m", "ledger.devnet", "up", *args], stdin=subprocess.DEVNULL,
                                   stdout=log_fd, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    finally:
        os.close(log_fd)
    deadline = time.monotonic() + timeout
    while True:
        info = runtime_info(paths)
        if info and info.get("pid") == process.pid:
            wait_ready(info["gateway_url"], max(1.0, deadline - time.monotonic()), process=process)
            return info
        if process.poll() is not None:
            raise DevnetError(f"devnet exited with status {process.returncode}:\n{_tail(paths.log)}")
        if time.monotonic() > deadline:
            raise DevnetError(f"devnet not ready after {timeout:.0f} s (see {paths.log})")
        time.sleep(0.1)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
