"""The real system for end-to-end tests: devnet + gateway, contracts, API server, demo world.

Nothing is mocked: :class:`bench.local_system.LocalSystem`, the one launcher of every test
directory, starts every piece as its own process, as ``scripts/run`` does, in a private data dir
with free loopback ports.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.local_system import LocalSystem
from ledger.client import ApiClient


@contextmanager
def running_system(home: Path, *, devnet_args: tuple[str, ...] = (), extra_env: dict[str, str] | None = None,
                   demo: bool = True) -> Iterator[LocalSystem]:
    """Start devnet, contracts, API (and the demo world) with this process's environment pointed at
    them for the duration; stop everything and restore the environment afterwards."""
    running = LocalSystem.create(home, anchor_interval=0.5)
    running.env.update(extra_env or {})
    saved = {k: os.environ.get(k) for k in running.env if k.startswith("CONSENT_LEDGER_")}
    running.activate()
    try:
        running.start_devnet(*devnet_args)
        running.deploy()
        running.start_api()
        if demo:
            from bench.demo import seed

            seed(running.api_url)
        yield running
    finally:
        running.stop_all()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def signed_in(running) -> Iterator[Callable[[str], ApiClient]]:
    """Logged-in API clients of ``running`` by demo key name, closed on the way out."""
    from ledger import keystore

    made: dict[str, ApiClient] = {}

    def get(name: str) -> ApiClient:
        if name not in made:
            made[name] = ApiClient(running.api_url, keystore.load_key(name)).login()
        return made[name]

    try:
        yield get
    finally:
        for client in made.values():
            client.close()
