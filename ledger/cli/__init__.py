"""The ``consent-ledger`` command line: each area registers its own command group."""

from __future__ import annotations

import importlib

import click


@click.group()
@click.version_option(package_name="consent-ledger")
def main() -> None:
    """Consent Ledger: consent, release and audit on a permissioned chain."""


# Sub-command modules, imported lazily by name so a broken optional area cannot hide the others.
_AREAS = ("devnet", "keys", "deploy", "serve", "besu", "consent", "records", "audit")

for _area in _AREAS:
    try:
        _module = importlib.import_module(f"ledger.cli.{_area}")
    except ModuleNotFoundError as exc:  # area not installed yet in this checkout
        if exc.name != f"ledger.cli.{_area}":
            raise
        continue
    main.add_command(_module.command)
