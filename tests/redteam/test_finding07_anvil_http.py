"""Finding 7: with isolation=loopback anvil's HTTP port answered every cheat method to any local process.

Anvil cannot run without an HTTP listener. Outside a private network namespace that listener is
on the host's loopback, where anything local can call ``anvil_impersonateAccount`` and bypass the
gateway. The devnet now refuses to start rather than fall back to it, says why and what to do,
and ``devnet status`` says which isolation is in force.
"""

from __future__ import annotations

import json
import os

import httpx
import pytest

from tests.support.devnet import keystore_template, make_devnet  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.redteam, pytest.mark.integration]


def _host_listeners(pid: int) -> list[int]:
    """TCP ports in this (the host's) network namespace on which process ``pid`` listens."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.append(int(fields[1].split(":")[-1], 16))
    return ports


def _impersonate_through_any_listener(devnet) -> list[str]:
    """The attack: find anvil's HTTP port from the host and ask it to impersonate the admin."""
    anvil_pid = devnet.info()["anvil_pid"]
    admin = devnet.account("admin").address
    answers = []
    for port in _host_listeners(anvil_pid):
        try:
            reply = httpx.post(f"http://127.0.0.1:{port}", json={"jsonrpc": "2.0", "id": 1,
                               "method": "anvil_impersonateAccount", "params": [admin]}, timeout=2).json()
        except httpx.HTTPError:
            continue
        if "error" not in reply:
            answers.append(f"port {port}: {reply}")
    return answers


def _start(devnet, *args, env=None) -> tuple[int, str]:
    result = devnet.cli("devnet", "up", "--detach", "--port", "0", *args, check=False, env=env, timeout=120)
    return result.returncode, result.stdout + result.stderr


def test_loopback_isolation_is_refused(make_devnet):
    devnet = make_devnet("loopback")
    code, output = _start(devnet, "--isolation", "loopback")
    if code == 0:
        answers = _impersonate_through_any_listener(devnet)
        devnet.down()
        pytest.fail(f"the devnet started with anvil's HTTP on the host's loopback; cheat methods answered: {answers}")
    assert "isolation=loopback is refused" in output, output
    assert "private network namespace" in output and "unshare" in output, output


def test_no_fallback_when_network_namespaces_are_denied(make_devnet, tmp_path):
    devnet = make_devnet("no-netns")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    unshare = fake_bin / "unshare"
    unshare.write_text("#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n")
    unshare.chmod(0o755)
    env = dict(devnet.env, PATH=f"{fake_bin}:{os.environ['PATH']}")
    code, output = _start(devnet, env=env)
    if code == 0:
        answers = _impersonate_through_any_listener(devnet)
        devnet.down()
        pytest.fail(f"the devnet fell back to anvil HTTP on the host's loopback; cheat methods answered: {answers}")
    assert "network namespaces are not available" in output, output
    assert "isolation=loopback is refused" not in output


def test_status_names_the_isolation_and_anvil_is_unreachable(make_devnet):
    devnet = make_devnet("netns")
    code, output = _start(devnet)
    assert code == 0, output
    try:
        status = json.loads(devnet.cli("devnet", "status", "--json").stdout)
        assert status["isolation"] == "netns"
        assert "anvil HTTP:   private network namespace" in devnet.cli("devnet", "status").stdout
        assert _impersonate_through_any_listener(devnet) == []
    finally:
        devnet.down()
