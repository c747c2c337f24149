"""The ``consent-ledger`` command line: each area's command group lives in its own module."""

from __future__ import annotations

import click

from ledger.cli import attest, audit, auth, bench, besu, consent, deploy, devnet, keys, records, serve


@click.group()
@click.version_option(package_name="consent-ledger")
def main() -> None:
    """Consent Ledger: consent, release and audit on a permissioned chain."""


for _area in (devnet, keys, deploy, serve, auth, attest, consent, records, audit, besu, bench):
    main.add_command(_area.command)
