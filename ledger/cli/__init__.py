"""The library's command line: each area's command group lives in its own module.

The installed ``consent-ledger`` command is :func:`api.cli.main`, which adds the service's
commands (serve, auth, records) to these; ``python -m ledger.cli`` runs the library's alone.
"""

from __future__ import annotations

import click

from ledger.cli import attest, audit, besu, consent, deploy, devnet, keys
from ledger.settings import settings_of

COMMANDS = tuple(area.command for area in (devnet, keys, deploy, attest, consent, audit, besu))


@click.group()
@click.version_option(package_name="consent-ledger")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Consent Ledger: consent, release and audit on a permissioned chain."""
    settings_of(ctx)  # the one read of the environment; commands take it with @pass_settings


for _command in COMMANDS:
    main.add_command(_command)
