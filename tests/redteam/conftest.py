"""The attacker's bench: a real system (devnet + gateway, contracts, API server, demo world) and
the operator's own keys, so each test tries what a dishonest or careless party could try.

Every test here performs an attack against the running system and asserts the refusal or the
verifier's problem code by name. ``system`` is shared by the read-only attacks of a session;
``fresh_system`` starts a private one for attacks that leave the system damaged (a revoked
anchorer, a bricked contract) so they cannot mask or cause each other's results.

Run alone with ``scripts/test tests/redteam``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.local_system import LocalSystem
from ledger.client import ApiClient
from tests.support.system import running_system

pytestmark = pytest.mark.redteam


def _login(running: LocalSystem) -> Callable[[str], ApiClient]:
    from ledger import keystore

    made: dict[str, ApiClient] = {}

    def get(name: str) -> ApiClient:
        if name not in made:
            made[name] = ApiClient(running.api_url, keystore.load_key(name)).login()
        return made[name]

    get.made = made  # type: ignore[attr-defined]
    return get


@contextmanager
def _clients(running: LocalSystem) -> Iterator[Callable[[str], ApiClient]]:
    get = _login(running)
    try:
        yield get
    finally:
        for client in get.made.values():  # type: ignore[attr-defined]
            client.close()


@pytest.fixture(scope="session")
def system(tmp_path_factory) -> Iterator[LocalSystem]:
    with running_system(tmp_path_factory.mktemp("redteam-home")) as running:
        yield running


@pytest.fixture(scope="session")
def clients(system) -> Iterator[Callable[[str], ApiClient]]:
    """Logged-in API clients by demo key name (admin, regulator, dept-*, citizen-*, enterprise-*)."""
    with _clients(system) as get:
        yield get


@pytest.fixture
def fresh_system(tmp_path) -> Callable[..., LocalSystem]:
    """Starts a private system for one destructive attack: ``fresh_system(extra_env={...})``."""
    stack = []

    def start(**kwargs) -> LocalSystem:
        if stack:
            raise RuntimeError("one fresh system per test")
        manager = running_system(tmp_path / "home", **kwargs)
        running = manager.__enter__()
        stack.append(manager)
        return running

    yield start
    for manager in stack:
        manager.__exit__(None, None, None)


@pytest.fixture
def fresh_clients(fresh_system):
    """``fresh_clients(running)`` → a login function for that fresh system."""
    opened = []

    def make(running: LocalSystem) -> Callable[[str], ApiClient]:
        get = _login(running)
        opened.append(get)
        return get

    yield make
    for get in opened:
        for client in get.made.values():
            client.close()


def operator_chain(running: LocalSystem, *key_names: str):
    """A chain client holding the named keystore keys: what an operator with those keys can send."""
    from ledger import keystore
    from ledger.chain.client import Chain, Deployment

    accounts = [keystore.load_key(name) for name in key_names]
    return Chain(running.rpc_url, accounts=accounts, deployment=Deployment.load(running.home / "deployment.json"))


def ops_headers(running: LocalSystem) -> dict[str, str]:
    """The ops token's header: ``/metrics`` and the detailed ``/readyz`` need it."""
    token = (running.home / "secrets" / "ops.token").read_text().strip()
    return {"authorization": f"Bearer {token}"}


def cli(running: LocalSystem, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    """Runs ``consent-ledger ARGS`` against ``running`` as the regulator or operator would."""
    return running.cli(*args, check=check)


#: ``audit verify`` options that say which contract addresses to trust.
_TRUST_OPTIONS = ("--deployment", "--contract", "--trust-export-addresses")


def verify_export(running: LocalSystem, tmp: Path, *extra: str) -> dict:
    """``audit export`` then standalone ``audit verify --json``; returns the report.

    The regulator trusts the system's own deployment.json unless ``extra`` says otherwise.
    """
    export = tmp / "audit.jsonl"
    cli(running, "audit", "export", "--out", str(export), check=True)
    if not any(arg.split("=", 1)[0] in _TRUST_OPTIONS for arg in extra):
        extra = ("--deployment", str(running.home / "deployment.json"), *extra)
    done = cli(running, "audit", "verify", "--export", str(export), "--json", *extra)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"audit verify printed no JSON report:\n{done.stdout}\n{done.stderr}") from None


def problem_kinds(report: dict) -> set[str]:
    return {p["kind"] for p in report.get("problems", [])}
