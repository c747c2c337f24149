"""The wheel ships what a deployment needs and nothing else, and runs outside the checkout.

It is built from a copy of the sources (so no stale ``build/`` of the checkout leaks in),
installed without dependencies into a fresh venv that borrows the checkout venv's installed
dependencies (a ``.pth`` line: offline, and without the editable install's finder, which only a
site directory's own ``.pth`` files would load), and run from an empty directory: ``devnet up``,
``deploy``, ``serve``, then a signed-in call.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from bench.local_system import CHECKOUT, free_port, rpc_ready, wait_for
from ledger.devnet._anvil import anvil_binary

pytestmark = pytest.mark.e2e

#: What the wheel is built from; bench/ goes along so that leaving it out is the wheel's doing.
_SOURCES = ("pyproject.toml", "README.md", "ledger", "api", "bench")
_SHIPPED_DATA = ("ledger/artifacts/contracts.json", "ledger/toolchain/solc-shim.cjs",
                 "ledger/storage/migrations/env.py", "ledger/storage/migrations/versions/0001_initial_schema.py",
                 "ledger/devnet/devnet.toml", "ledger/devnet/genesis.template.json",
                 "ledger/besu_genesis.template.json")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("wheel-source")
    for name in _SOURCES:
        if (CHECKOUT / name).is_dir():
            shutil.copytree(CHECKOUT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(CHECKOUT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = out.glob("consent_ledger-*.whl")
    return wheel


def test_the_wheel_ships_the_library_the_service_and_their_data_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert packages == {"ledger", "api"}, packages
    assert not [name for name in names if "bench" in name or "demo" in name or "local_system" in name]
    assert set(_SHIPPED_DATA) <= set(names), set(_SHIPPED_DATA) - set(names)
    (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
    assert "consent-ledger = api.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel; the dependencies come from this venv's site-packages."""
    prefix = tmp_path_factory.mktemp("wheel-venv")
    venv.EnvBuilder(with_pip=False).create(prefix)
    python = prefix / "bin" / "python"
    site_packages = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        capture_output=True, text=True, check=True).stdout.strip())
    (site_packages / "checkout-venv-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet",
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return prefix


def test_the_installed_wheel_runs_devnet_deploy_and_serve_outside_the_checkout(installed, tmp_path):
    work, home, tools = tmp_path / "work", tmp_path / "home", tmp_path / "tools"
    work.mkdir()
    tools.mkdir()
    home.mkdir(mode=0o700)
    (tools / "anvil").symlink_to(anvil_binary())  # a deployment's anvil is on PATH
    rpc_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_LEDGER_") and k != "PYTHONPATH"}
    env.update({"PATH": f"{installed / 'bin'}:{tools}:{env['PATH']}", "CONSENT_LEDGER_HOME": str(home),
                "CONSENT_LEDGER_GATEWAY_PORT": str(rpc_port), "CONSENT_LEDGER_API_PORT": str(api_port)})
    cli = str(installed / "bin" / "consent-ledger")

    def run(*args: str) -> str:
        done = subprocess.run([cli, *args], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"consent-ledger {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    where = subprocess.run([installed / "bin" / "python", "-c", "import api, ledger; print(api.__file__, ledger.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(path).is_relative_to(installed) for path in where), where

    processes: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> subprocess.Popen:
        with open(tmp_path / f"{name}.log", "wb") as log:
            process = subprocess.Popen([cli, *args], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        processes.append(process)
        return process

    try:
        devnet = start("devnet", "devnet", "up")
        wait_for(lambda: rpc_ready(f"http://127.0.0.1:{rpc_port}"), "devnet gateway", proc=devnet,
                 log=tmp_path / "devnet.log")
        assert "deployed contracts" in run("deploy")
        api = start("api", "serve", "--log-level", "warning")
        api_url = f"http://127.0.0.1:{api_port}"
        wait_for(lambda: httpx.get(f"{api_url}/readyz", timeout=5).status_code == 200, "API", proc=api,
                 log=tmp_path / "api.log")
        assert httpx.get(f"{api_url}/readyz", timeout=5).json()["ready"] is True
        token = run("auth", "token", "--key-name", "admin", "--api", api_url).strip()
        department = {"address": Account.create().address, "code": "jn.test", "name": "Installed-wheel department"}
        added = httpx.post(f"{api_url}/v1/admin/departments", json=department,
                           headers={"authorization": f"Bearer {token}"}, timeout=60)
        assert added.status_code == 201, added.text  # signed in as the admin, sent on chain by the wheel's code
        assert not (work / ".data").exists() and not list(work.iterdir())  # everything went to CONSENT_LEDGER_HOME
    finally:
        for process in reversed(processes):  # the API first: it anchors its last tree head on the way out
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
