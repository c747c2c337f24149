"""The ``consent-ledger`` command line: each area's command group lives in its own module."""

from __future__ import annotations

import click

from ledger.cli import attest, audit, auth, bench, besu, consent, deploy, devnet, keys, records, serve
from ledger.settings import settings_of


@click.group()
@click.version_option(package_name="consent-ledger")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Consent Ledger: consent, release and audit on a permissioned chain."""
    settings_of(ctx)  # the one read of the environment; commands take it with @pass_settings


for _area in (devnet, keys, deploy, serve, auth, attest, consent, records, audit, besu, bench):
    main.add_command(_area.command)
