"""`consent-ledger keys`: new, export, list."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from tests.support.keys import data_home

pytestmark = pytest.mark.unit


def test_keys_cli(tmp_path):
    from click.testing import CliRunner

    from ledger.cli.keys import command

    runner = CliRunner()
    with data_home(tmp_path):
        created = runner.invoke(command, ["new", "citizen-1"])
        assert created.exit_code == 0, created.output
        name, address = created.output.split()
        exported = runner.invoke(command, ["export", "citizen-1"]).output.strip()
        assert Account.from_key(exported).address == address
        assert json.loads(runner.invoke(command, ["list", "--json"]).output) == {"citizen-1": address}
        assert runner.invoke(command, ["new", "citizen-1"]).exit_code != 0
