"""Real devnets for the tests: ``consent-ledger devnet up --detach`` through the one launcher (tests/support/devnet.py)."""

from __future__ import annotations

from tests.support.devnet import devnet, keystore_template, make_devnet, rpc  # noqa: F401  (fixtures)
