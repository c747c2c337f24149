"""`consent-ledger devnet`: run and inspect the embedded devnet (anvil + JSON-RPC gateway).

The commands live in :mod:`ledger.devnet._cli` so that ``python -m ledger.devnet`` (used for
detached starts) does not import every other CLI area.
"""

from ledger.devnet._cli import command

__all__ = ["command"]
