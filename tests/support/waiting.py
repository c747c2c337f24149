"""Waiting for a condition in tests, with a bound."""

from __future__ import annotations

import time

import pytest


def wait_until(condition, timeout: float, what: str = "the condition", poll: float = 0.05) -> float:
    """Seconds until ``condition()`` held; fails the test after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(poll)
    return time.monotonic() - started
