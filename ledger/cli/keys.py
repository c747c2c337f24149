"""`consent-ledger keys`: the local keystore under <data>/keystore."""

from __future__ import annotations

import click

from ledger.settings import Settings, pass_settings


@click.group("keys")
def command() -> None:
    """Create, list and export keys of the local keystore (password: $CONSENT_LEDGER_KEY_PASSWORD)."""


@command.command("new")
@click.argument("name")
@pass_settings
def new(settings: Settings, name: str) -> None:
    """Generate a key NAME and print its address."""
    from ledger.exceptions import KeystoreError
    from ledger.keystore import Keystore

    try:
        account = Keystore.from_settings(settings).new(name)
    except KeystoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{name} {account.address}")


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="print a JSON object name -> address")
@pass_settings
def list_(settings: Settings, as_json: bool) -> None:
    """List the keys (name and address); needs no password."""
    import json

    from ledger.exceptions import KeystoreError
    from ledger.keystore import Keystore

    try:
        keys = Keystore.from_settings(settings).list()
    except KeystoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(keys, indent=2))
        return
    for name, address in keys.items():
        click.echo(f"{name:<16} {address}")


@command.command("export")
@click.argument("name")
@pass_settings
def export(settings: Settings, name: str) -> None:
    """Print the private key of NAME as 0x-hex (development use only)."""
    from ledger.exceptions import KeystoreError
    from ledger.keystore import Keystore

    try:
        account = Keystore.from_settings(settings).load(name)
    except KeystoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("0x" + account.key.hex().removeprefix("0x"))
