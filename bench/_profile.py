"""Sampling profiles of the hot paths with py-spy (all threads, any process), summarized for the report.

Profiles are taken in extra runs beside the measured ones, so sampling never skews a figure.
Without py-spy installed the report says so and carries no profile.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

# Frames that only wait (idle workers, event loops, locks): not where time is spent.
_IDLE = ("Condition.wait", "Event.wait", "Queue.get", "select (", "_run_once", "Runner.run", "sleep (",
         "Thread.join", "SelectSelector", "EpollSelector", "BaseEventLoop.run_forever", "Semaphore.acquire",
         "_worker (concurrent", "Barrier.wait", "lock.acquire", "socket.recv", "poll (", "wait (")


def py_spy() -> str | None:
    found = shutil.which("py-spy")
    local = Path(sys.executable).parent / "py-spy"
    return found or (str(local) if local.exists() else None)


class Sampler:
    """``py-spy record`` attached to ``pid`` from ``start()`` to ``stop()`` (non-blocking sampling, raw
    collapsed stacks); a no-op without py-spy. ``gil``: only the thread holding the GIL, i.e. where the
    interpreter's one core goes; otherwise every thread not waiting (I/O such as fsync included)."""

    def __init__(self, pid: int, out: Path, rate: int = 200, *, gil: bool = False):
        self.pid, self.out, self.rate, self.gil = pid, out, rate, gil
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Sampler":
        spy = py_spy()
        if spy is None:
            return self
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [spy, "record", "-p", str(self.pid), "-r", str(self.rate), "-f", "raw", "-o", str(self.out),
             "--nonblocking", *(["--gil"] if self.gil else [])], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # attached before the work starts
        return self

    def stop(self, timeout: float = 60) -> dict | None:
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)  # py-spy writes what it has on Ctrl-C
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if not self.out.exists():
            return None
        summary = summarize(self.out)
        summary["mode"] = "GIL holder" if self.gil else "busy threads"
        return summary


class Samplers:
    """Both views at once: GIL holder and busy threads (two py-spy readers, neither stops the process)."""

    def __init__(self, pid: int, out: Path, rate: int = 200):
        self.both = (Sampler(pid, out.with_suffix(".gil.raw"), rate, gil=True),
                     Sampler(pid, out.with_suffix(".busy.raw"), rate))

    def start(self) -> "Samplers":
        for s in self.both:
            s.start()
        return self

    def stop(self) -> dict | None:
        gil, busy = (s.stop() for s in self.both)
        return {"gil": gil, "busy": busy} if gil or busy else None


def _short(frame: str) -> str:
    # "ReleaseService.query (api/services/release.py:114)" -> keep; trim site-packages prefixes
    return frame.replace(".venv/lib/python3.11/site-packages/", "").replace("/usr/lib/python3.11/", "")


def summarize(raw: Path, top: int = 15) -> dict:
    """Self and inclusive shares of the busy samples (idle waits left out), by function (line folded)."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_function(f) for f in stack.split(";")]
        if not frames or any(mark in frames[-1] for mark in _IDLE):
            continue
        n = int(count)
        busy += n
        self_time[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    if not busy:
        return {"samples": 0, "self": [], "inclusive": []}
    return {
        "samples": busy,
        "self": [[round(100 * n / busy, 1), _short(f)] for f, n in self_time.most_common(top)],
        "inclusive": [[round(100 * n / busy, 1), _short(f)] for f, n in inclusive.most_common(top + 25)
                      if not _framework(f)][:top],
    }


def _function(frame: str) -> str:
    """'name (path:line)' -> 'name (path)': samples of one function add up across its lines."""
    name, sep, rest = frame.partition(" (")
    if not sep:
        return frame
    path = rest.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({path})"


def _framework(frame: str) -> bool:
    """Entry frames every sample passes through (thread bootstrap, server loop): no information."""
    return any(mark in frame for mark in ("threading.py", "runpy", "click/core.py", "uvicorn/main.py",
                                          "uvicorn/server.py", "_compat.py", "asyncio/runners.py",
                                          "ledger/cli/", "api/cli/", "anyio/_backends", "concurrent/futures/thread.py",
                                          "bench/", "<module>"))
