"""The devnet supervisor: one asyncio process that owns anvil, the journal, the dumps and the gateway.

Start-up order: lock the data dir, authority keys, genesis, stale-process clean-up, anvil (from
the last dump, else from genesis), recovery from the journal, mining mode, then the gateway, so
no client ever sees a half-recovered chain. SIGINT/SIGTERM stop it cleanly: gateway first,
then the last block records, a final dump, and anvil.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import signal
import time

from ledger import keystore
from ledger.devnet._anvil import AnvilProcess, isolation_prefix, kill_stale_anvil
from ledger.devnet._funds import WEI_PER_ETH, AuthorityFunds
from ledger.devnet._genesis import render_genesis
from ledger.devnet._ipc import IpcConnection, IpcPool
from ledger.devnet._journal import Journal, read_journal
from ledger.devnet._permissions import Permissions
from ledger.devnet._persistence import BlockRecorder, StateDumper, prepare_state_file, quarantine
from ledger.devnet._recovery import recover
from ledger.devnet._settings import DevnetPaths, DevnetSettings
from ledger.devnet.gateway import Gateway
from ledger.exceptions import DevnetError, RpcError

log = logging.getLogger("ledger.devnet")

_RECORD_WINDOW = 5000  # blocks scanned for records at most when the journal lags the state dump


class _DataDirLock:
    """An exclusive flock on <data>/devnet/supervisor.lock; the kernel drops it if we die."""

    def __init__(self, paths: DevnetPaths):
        self.fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise DevnetError(f"another devnet supervisor is running on {paths.data}") from None

    def release(self) -> None:
        os.close(self.fd)


async def run(settings: DevnetSettings, paths: DevnetPaths | None = None) -> None:
    """Run the devnet until SIGINT/SIGTERM (or until anvil dies, which raises DevnetError)."""
    paths = (paths or DevnetPaths.default()).ensure()
    os.umask(0o077)
    lock = _DataDirLock(paths)
    paths.pidfile.write_text(f"{os.getpid()}\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
        except (RuntimeError, ValueError):  # not the main thread: stop by cancelling the task
            pass
    try:
        await _run(settings, paths, stop)
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        paths.runtime.unlink(missing_ok=True)
        paths.pidfile.unlink(missing_ok=True)
        lock.release()


async def _run(settings: DevnetSettings, paths: DevnetPaths, stop: asyncio.Event) -> None:
    started = time.monotonic()
    authorities = keystore.ensure_authority_keys()
    if render_genesis(paths.genesis, chain_id=settings.chain_id, authorities=authorities,
                      balance_eth=settings.authority_balance_eth):
        log.info("new chain: genesis funds %s", ", ".join(f"{n} {a}" for n, a in authorities.items()))
    kill_stale_anvil(paths)
    contents = read_journal(paths.journal)
    prefix, isolation = isolation_prefix(settings.isolation)

    anvil = AnvilProcess(settings, paths, prefix)
    load = prepare_state_file(paths.state, paths.state_load)
    try:
        try:
            await anvil.start(load_state=load)
        except (DevnetError, RpcError):
            if load is None:
                raise
            await anvil.stop()
            quarantine(paths.state, "not loadable by anvil")
            await anvil.start(load_state=None)
    finally:
        paths.state_load.unlink(missing_ok=True)

    tasks: list[asyncio.Task] = []
    journal = gateway = recorder = dumper = upstream = funds = None
    try:
        control = IpcConnection(str(paths.ipc))
        try:
            # Same rules as the gateway, no cache: roles granted or revoked by replayed blocks count at once.
            replay_permissions = Permissions(control, deployment_path=paths.deployment, chain_id=settings.chain_id,
                                             bootstrap=set(authorities.values()), ttl=0.0)
            recovery_started = time.monotonic()
            report = await recover(control, contents, permissions=replay_permissions, chain_id=settings.chain_id,
                                   max_gap=settings.max_recreated_gap)
            recovery_s = time.monotonic() - recovery_started
            # Recreated blocks pin their recorded base fees (a chain from before the zero base fee
            # had 1 gwei in genesis); from here on it is zero, and anvil keeps it there.
            await control.call("anvil_setNextBlockBaseFeePerGas", ["0x0"])
            if settings.block_time:
                await control.call("evm_setIntervalMining", [settings.block_time])
            else:
                await control.call("evm_setAutomine", [True])
        finally:
            await control.close()
        if report.transactions_replayed or report.transactions_refused or report.head != report.loaded_head:
            log.info("recovered in %.2f s: state dump at block %d, %d blocks recreated, %d transactions replayed, "
                     "%d refused by the permission check, head %d%s", recovery_s,
                     report.loaded_head, report.blocks_recreated, report.transactions_replayed,
                     report.transactions_refused, report.head, " (block numbers diverged)" if report.diverged else "")

        journal = Journal(paths.journal, contents.next_seq)
        last_recorded = max(min(contents.recorded_to, report.head), report.head - _RECORD_WINDOW, 0)
        recorder = BlockRecorder(str(paths.ipc), journal, last_recorded)
        dumper = StateDumper(str(paths.ipc), paths.state, journal, recorder, settings.dump_policy,
                             settings.block_time)
        recorder.on_progress = dumper.notify
        dumper.notify()  # a dump right away: recovery may have added blocks, a new chain has none yet
        funds = AuthorityFunds(str(paths.ipc), authorities, target=settings.authority_balance_eth * WEI_PER_ETH,
                               below=settings.top_up_below_eth * WEI_PER_ETH, interval=settings.top_up_interval)
        await funds.top_up()
        tasks += [asyncio.create_task(recorder.run(), name="block-recorder"),
                  asyncio.create_task(dumper.run(), name="state-dumper"),
                  asyncio.create_task(funds.run(), name="authority-funds")]

        upstream = IpcPool(str(paths.ipc), settings.gateway.upstream_connections)
        await upstream.connect()
        permissions = Permissions(upstream, deployment_path=paths.deployment, chain_id=settings.chain_id,
                                  bootstrap=set(authorities.values()), ttl=settings.gateway.allow_cache_ttl)
        gateway = Gateway(settings.gateway, upstream, permissions, journal, chain_id=settings.chain_id,
                          journal_contents=contents)
        try:
            port = await gateway.start(settings.gateway.host, settings.gateway.port)
        except OSError as exc:
            raise DevnetError(f"gateway cannot listen on {settings.gateway.host}:{settings.gateway.port}: "
                              f"{exc.strerror or exc}") from exc
        url = f"http://{settings.gateway.host}:{port}"
        _write_runtime(paths, {
            "pid": os.getpid(), "anvil_pid": anvil.process.pid, "gateway_url": url, "gateway_port": port,
            "chain_id": settings.chain_id, "isolation": isolation, "block_time": settings.block_time,
            "data_dir": str(paths.data), "started_at": int(time.time()),
        })
        log.info("devnet ready in %.1f s: chain %d at block %d, gateway %s, anvil HTTP in a private network "
                 "namespace, %s mining", time.monotonic() - started, settings.chain_id, report.head, url,
                 f"{settings.block_time} s interval" if settings.block_time else "instant")

        anvil_exit = asyncio.create_task(anvil.wait(), name="anvil")
        stop_wait = asyncio.create_task(stop.wait(), name="stop")
        done, _ = await asyncio.wait([anvil_exit, stop_wait, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stop_wait.cancel()
        if anvil_exit in done:
            raise DevnetError(f"anvil exited unexpectedly with status {anvil_exit.result()} "
                              f"(see {paths.anvil_log})")
        anvil_exit.cancel()
        for task in done:
            if task in tasks and task.exception() is not None:
                raise DevnetError(f"{task.get_name()} failed: {task.exception()}") from task.exception()
        log.info("stopping devnet")
    finally:
        await _shutdown(anvil, gateway, recorder, dumper, upstream, funds, journal, tasks)


async def _shutdown(anvil, gateway, recorder, dumper, upstream, funds, journal, tasks) -> None:
    if gateway is not None:
        await gateway.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if anvil.running and recorder is not None and dumper is not None:
        try:
            await recorder.catch_up()
            await dumper.drain()
            await dumper.dump()
        except Exception as exc:  # the journal still has everything: the next start replays it
            log.error("final state dump failed: %s", exc)
    for closable in (recorder, dumper, upstream, funds):
        if closable is not None:
            await closable.close()
    if journal is not None:
        await journal.close()
    await anvil.stop()


def _write_runtime(paths: DevnetPaths, info: dict) -> None:
    tmp = paths.runtime.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    tmp.replace(paths.runtime)
