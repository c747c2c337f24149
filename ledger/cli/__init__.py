"""The library's command line: each area's command group lives in its own module.

The installed ``consent-ledger`` command is :func:`api.cli.main`, which adds the service's
commands (serve, auth, records) to these; ``python -m ledger.cli`` runs the library's alone.
"""

from __future__ import annotations

import click

from ledger.cli import attest, audit, besu, consent, deploy, devnet, keys

COMMANDS = tuple(area.command for area in (devnet, keys, deploy, attest, consent, audit, besu))


@click.group()
@click.version_option(package_name="consent-ledger")
def main() -> None:
    """Consent Ledger: consent, release and audit on a permissioned chain."""


for _command in COMMANDS:
    main.add_command(_command)
