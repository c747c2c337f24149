"""The machine and the versions a run was measured with."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata

from bench.local_system import CHECKOUT
from ledger.devnet._anvil import anvil_binary


def _first_line(args: list[str]) -> str | None:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=20, cwd=CHECKOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def cpu_busy_percent(seconds: float = 2.0) -> float | None:
    """Share of all cores busy over ``seconds`` (from /proc/stat): before a run, that is other work."""
    import time

    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="utf-8") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return sum(values), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return round(100 * (1 - (idle1 - idle0) / total), 1) if total else None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe() -> dict:
    anvil = _first_line([str(anvil_binary()), "--version"])
    commit = _first_line(["git", "rev-parse", "--short", "HEAD"])
    dirty = _first_line(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory": f"{_memory_gib()} GiB",
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "node": _first_line(["node", "--version"]),
        "anvil": anvil.removeprefix("anvil Version: ") if anvil else None,
        "packages": {p: _version(p) for p in ("web3", "fastapi", "uvicorn", "sqlalchemy", "eth-account")},
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "cpu_busy_before_start_pct": cpu_busy_percent(),
        "commit": commit + ("+changes" if dirty else "") if commit else None,
        "date": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid``, in MiB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
