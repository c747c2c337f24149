"""The ``consent-ledger`` command line: the library's commands plus the service's own."""

from __future__ import annotations

import click

from api.cli import auth, records, serve
from ledger.cli import COMMANDS as LEDGER_COMMANDS


@click.group()
@click.version_option(package_name="consent-ledger")
def main() -> None:
    """Consent Ledger: consent, release and audit on a permissioned chain."""


for _command in (*LEDGER_COMMANDS, serve.command, auth.command, records.command):
    main.add_command(_command)
