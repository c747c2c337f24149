"""Consent Ledger core library: chain client, contracts, identity, policy, audit log, devnet."""

__version__ = "0.1.0"
