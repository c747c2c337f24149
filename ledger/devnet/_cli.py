"""The devnet commands, shared by `consent-ledger devnet` and `python -m ledger.devnet`."""

from __future__ import annotations

import click

from ledger.settings import Settings, pass_settings

_ISOLATION = {"netns": "private network namespace (unreachable from the host)"}


@click.group("devnet")
def command() -> None:
    """The embedded permissioned devnet (state under $CONSENT_LEDGER_HOME/devnet)."""


@command.command("up")
@click.option("--detach", is_flag=True, help="run in the background (pidfile and log under <data>/devnet/)")
@click.option("--block-time", type=click.IntRange(min=0), default=None,
              help="seconds between blocks (interval mining); 0 = instant mining (default from devnet.toml)")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="gateway port on 127.0.0.1 (default $CONSENT_LEDGER_GATEWAY_PORT or 8545; 0 = any free port)")
@click.option("--isolation", type=click.Choice(["auto", "netns", "loopback"]), default=None,
              help="anvil's unused HTTP listener always goes into a private network namespace; where none can be "
                   "made the devnet does not start (loopback, the former fallback, is refused)")
@click.option("--state-interval", type=click.FloatRange(min=0.1), default=None,
              help="minimum seconds between state dumps (unless the replay budget asks for one sooner)")
@click.option("--replay-budget", type=click.FloatRange(min=0.0, min_open=True), default=None,
              help="seconds a crash recovery may spend replaying the journal since the last dump")
@click.option("--ready-timeout", type=click.FloatRange(min=1.0), default=60.0, show_default=True,
              help="with --detach: seconds to wait for the gateway (recovery after a crash comes first)")
@click.option("-v", "--verbose", is_flag=True, help="debug logging")
@pass_settings
def up(settings: Settings, detach: bool, block_time: int | None, port: int | None, isolation: str | None,
       state_interval: float | None, replay_budget: float | None, ready_timeout: float, verbose: bool) -> None:
    """Start the devnet: foreground until Ctrl-C / SIGTERM, or --detach."""
    from ledger import devnet
    from ledger.exceptions import LedgerError

    paths = devnet.DevnetPaths.from_settings(settings)
    try:
        node = devnet.DevnetSettings.load(default_port=settings.gateway_port, block_time=block_time, port=port,
                                          isolation=isolation, state_interval=state_interval,
                                          replay_budget_s=replay_budget)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    if detach:
        args = [f"--block-time={node.block_time}", f"--port={node.gateway.port}",
                f"--isolation={node.isolation}", f"--state-interval={node.state_interval}",
                f"--replay-budget={node.replay_budget_s}"]
        args += ["--verbose"] if verbose else []
        try:
            info = devnet.start_detached(args, paths, timeout=ready_timeout)
        except LedgerError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"devnet running (pid {info['pid']}), gateway {info['gateway_url']}")
        return
    _configure_logging(verbose)
    try:
        _run_forever(devnet.run(node, paths))
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc


@command.command("down")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="seconds before SIGKILL")
@pass_settings
def down(settings: Settings, timeout: float) -> None:
    """Stop the devnet of this data dir (state is dumped first)."""
    from ledger import devnet

    stopped = devnet.stop(devnet.DevnetPaths.from_settings(settings), timeout=timeout)
    click.echo("devnet stopped" if stopped else "no devnet running")


@command.command("status")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_settings
def status(settings: Settings, as_json: bool) -> None:
    """Whether the devnet runs, its chain id, block number and gateway URL; exit 1 if not running."""
    import json

    from ledger import devnet

    info = devnet.status(devnet.DevnetPaths.from_settings(settings))
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        click.echo(f"running:      {'yes' if info['running'] else 'no'}")
        click.echo(f"gateway:      {info['gateway_url']}")
        if info["running"]:
            click.echo(f"chain id:     {info['chain_id']}")
            click.echo(f"block:        {info['block_number']}")
        if info.get("pid"):
            click.echo(f"supervisor:   pid {info['pid']}, anvil pid {info.get('anvil_pid', '?')}")
        if info.get("isolation"):
            click.echo(f"anvil HTTP:   {_ISOLATION.get(info['isolation'], info['isolation'])}")
            click.echo(f"mining:       {'every %s s' % info['block_time'] if info.get('block_time') else 'instant'}")
        click.echo(f"data dir:     {info['data_dir']}")
    if not info["running"]:
        raise SystemExit(1)


@command.command("wait")
@click.option("--timeout", type=float, default=60.0, show_default=True)
@click.option("--url", default=None, help="gateway URL (default: the running devnet's, else the configured one)")
@pass_settings
def wait(settings: Settings, timeout: float, url: str | None) -> None:
    """Block until the gateway answers (for scripts)."""
    from ledger import devnet
    from ledger.exceptions import LedgerError

    try:
        block = devnet.wait_ready(url or devnet.gateway_url(devnet.DevnetPaths.from_settings(settings)), timeout)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"devnet ready at block {block}")


def _configure_logging(verbose: bool) -> None:
    import logging

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _run_forever(coroutine) -> None:
    import asyncio

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        uvloop = None
    with asyncio.Runner(loop_factory=uvloop.new_event_loop if uvloop else None) as runner:
        runner.run(coroutine)
