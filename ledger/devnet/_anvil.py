"""Starting and stopping the anvil process.

Anvil has no switch to turn its HTTP listener off (``--host`` must name at least one address),
and that listener answers every cheat method (``anvil_impersonateAccount``, ``anvil_setBalance``,
``evm_*``) to whoever connects. So anvil only ever runs inside a private network namespace
(``unshare --net``: only an unused loopback interface, nothing outside the namespace can connect
to it); where the kernel forbids that, the devnet refuses to start instead of putting the
listener on the host's loopback. Every real request goes through the IPC socket in the
owner-only ``<data>/devnet`` directory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import shutil
import signal
import subprocess
import time
from pathlib import Path

from ledger.devnet._ipc import IpcConnection, UpstreamUnavailable
from ledger.devnet._settings import DevnetPaths, DevnetSettings
from ledger.exceptions import DevnetError

log = logging.getLogger("ledger.devnet")

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def anvil_binary(explicit: Path | None = None) -> Path:
    """The anvil to run: ``explicit`` ($CONSENT_LEDGER_ANVIL), else the checkout's (when run from its root),
    else PATH's.

    In a checkout, ``scripts/setup`` installs anvil from package.json into ``node_modules``; the
    native binary is taken over the Node wrapper, which would stand between the supervisor and
    anvil. A deployment installs anvil (Foundry) on PATH or names it in ``CONSENT_LEDGER_ANVIL``.
    """
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise DevnetError(f"CONSENT_LEDGER_ANVIL={explicit} is not an executable file")
        return Path(explicit)
    system = platform.system().lower()
    arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    node_modules = Path("node_modules").resolve()
    for candidate in (node_modules / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / "anvil",
                      node_modules / ".bin" / "anvil"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise DevnetError("anvil not found: put Foundry's anvil on PATH or set CONSENT_LEDGER_ANVIL "
                      "(in a checkout, run scripts/setup and start the devnet from the checkout's root)")


_REMEDY = ("run the devnet as root, enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 "
           "and user.max_user_namespaces > 0; on Ubuntu 24.04+ also kernel.apparmor_restrict_unprivileged_userns=0), "
           "or run it in a container or VM of its own, where `unshare --net` is allowed")


def isolation_prefix(mode: str) -> tuple[list[str], str]:
    """(command prefix, "netns"): how to start anvil in a private network namespace.

    There is no other mode: on the host's loopback anvil's HTTP listener would give any local
    process the cheat methods the gateway refuses.
    """
    if mode == "loopback":
        raise DevnetError("isolation=loopback is refused: anvil's HTTP listener on the host's 127.0.0.1 answers "
                          "anvil_impersonateAccount, anvil_setBalance and evm_* to any local process, bypassing "
                          "the gateway. Anvil must run in a private network namespace (unshare --net): " + _REMEDY)
    unshare = shutil.which("unshare")
    candidates = []
    if unshare:
        if os.geteuid() == 0:
            candidates.append([unshare, "--net", "--"])
        candidates.append([unshare, "--user", "--map-current-user", "--net", "--"])
        candidates.append([unshare, "--user", "--map-root-user", "--net", "--"])
    errors = []
    for prefix in candidates:
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(str(exc))
            continue
        if probe.returncode == 0:
            return prefix, "netns"
        errors.append(probe.stderr.strip() or f"exit status {probe.returncode}")
    found = f" ({'; '.join(dict.fromkeys(errors))})" if errors else " (no unshare command on PATH)"
    raise DevnetError(f"network namespaces are not available here{found}, and anvil's HTTP listener must not be "
                      f"reachable from the host (it answers anvil_* and evm_* cheat methods): not starting. "
                      f"Remedy: {_REMEDY}")


def _die_with_parent() -> list[str]:
    """setpriv --pdeathsig: anvil gets SIGKILL when the supervisor dies, even by SIGKILL."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def anvil_command(settings: DevnetSettings, paths: DevnetPaths, prefix: list[str], *, load_state: Path | None,
                  gas_limit: int) -> list[str]:
    command = [
        *prefix, *_die_with_parent(), str(anvil_binary(settings.anvil)),
        "--ipc", str(paths.ipc),
        # Unavoidable HTTP listener: the private namespace's loopback, ephemeral port, no CORS (see module doc).
        "--host", "127.0.0.1", "--port", "0", "--no-cors",
        "--chain-id", str(settings.chain_id),
        "--hardfork", settings.hardfork,
        "--gas-limit", str(gas_limit),
        # Zero base fee, held constant (anvil skips EIP-1559 updates at 0), as Besu's zeroBaseFee:
        # on a permissioned chain fees are not the spam guard, permissioning and rate limits are.
        "--base-fee", "0",
        # No unlocked dev accounts; the random mnemonic derives nothing with 0 accounts, it only
        # keeps the public test mnemonic out of the configuration entirely.
        "--accounts", "0", "--mnemonic-random",
        # The supervisor sets the mining mode over IPC once recovery is done.
        "--no-mining",
        "--cache-path", str(paths.anvil_cache),
        "--quiet",
    ]
    command += ["--load-state", str(load_state)] if load_state is not None else ["--init", str(paths.genesis)]
    return command


def genesis_gas_limit(paths: DevnetPaths) -> int:
    return int(json.loads(paths.genesis.read_text()).get("gasLimit", "0x1c9c380"), 16)


def kill_stale_anvil(paths: DevnetPaths) -> None:
    """Kill an anvil left behind by a supervisor that died (where setpriv is missing)."""
    pid = read_pid(paths.anvil_pidfile)
    if pid is not None and process_matches(pid, str(paths.ipc)):
        log.warning("killing stale anvil process %d", pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while process_matches(pid, str(paths.ipc)) and time.monotonic() < deadline:
            time.sleep(0.05)
    paths.anvil_pidfile.unlink(missing_ok=True)


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def process_matches(pid: int, needle: str) -> bool:
    """Whether ``pid`` is a live (non-zombie) process whose command line contains ``needle``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            if fh.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return needle.encode() in fh.read()
    except (OSError, IndexError):
        return False


class AnvilProcess:
    def __init__(self, settings: DevnetSettings, paths: DevnetPaths, prefix: list[str]):
        self.settings = settings
        self.paths = paths
        self.prefix = prefix
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *, load_state: Path | None, timeout: float = 30.0) -> None:
        paths = self.paths
        paths.ipc.unlink(missing_ok=True)
        if paths.anvil_cache.exists():  # persisted historical states of a previous run: never reused
            shutil.rmtree(paths.anvil_cache, ignore_errors=True)
        command = anvil_command(self.settings, paths, self.prefix, load_state=load_state,
                                gas_limit=genesis_gas_limit(paths))
        log_fd = os.open(paths.anvil_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # Own session: a Ctrl-C on the terminal (or a signal to the supervisor's process group)
            # reaches the supervisor only, which takes a final dump before it stops anvil.
            self.process = await asyncio.create_subprocess_exec(
                *command, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd, start_new_session=True)
        finally:
            os.close(log_fd)
        paths.anvil_pidfile.write_text(f"{self.process.pid}\n")
        await self._wait_ready(timeout)

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.returncode is not None:
                raise DevnetError(f"anvil exited with status {self.process.returncode} "
                                  f"(see {self.paths.anvil_log})")
            if self.paths.ipc.exists():
                connection = IpcConnection(str(self.paths.ipc))
                try:
                    chain_id = int(await connection.call("eth_chainId"), 16)
                except (UpstreamUnavailable, OSError):
                    pass
                else:
                    if chain_id != self.settings.chain_id:
                        raise DevnetError(f"anvil reports chain id {chain_id}, expected {self.settings.chain_id}")
                    return
                finally:
                    await connection.close()
            if time.monotonic() > deadline:
                raise DevnetError(f"anvil did not open {self.paths.ipc} within {timeout:.0f} s")
            await asyncio.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def wait(self) -> int:
        return await self.process.wait()

    async def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except asyncio.TimeoutError:
                log.warning("anvil ignored SIGTERM for %.0f s: killing it", timeout)
                self.process.kill()
                await self.process.wait()
        self.paths.anvil_pidfile.unlink(missing_ok=True)
        self.paths.ipc.unlink(missing_ok=True)
