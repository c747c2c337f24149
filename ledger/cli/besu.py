"""`consent-ledger besu`: Besu allow-list and genesis generation."""

from ledger.besu_allowlist import besu_cli as command

__all__ = ["command"]
