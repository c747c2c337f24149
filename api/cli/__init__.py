"""The ``consent-ledger`` command line: the library's commands plus the service's own."""

from __future__ import annotations

import click

from api.cli import auth, records, serve
from ledger.cli import COMMANDS as LEDGER_COMMANDS
from ledger.settings import settings_of


@click.group()
@click.version_option(package_name="consent-ledger")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Consent Ledger: consent, release and audit on a permissioned chain."""
    settings_of(ctx)  # the one read of the environment; commands take it with @pass_settings


for _command in (*LEDGER_COMMANDS, serve.command, auth.command, records.command):
    main.add_command(_command)
