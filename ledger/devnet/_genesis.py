"""Renders the devnet's genesis.template.json into the data dir, once per chain."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ledger.devnet._settings import GENESIS_TEMPLATE

WEI_PER_ETH = 10**18


def render_genesis(path: Path, *, chain_id: int, authorities: dict[str, str], balance_eth: int,
                   template: Path = GENESIS_TEMPLATE) -> bool:
    """Write the genesis file unless it exists; returns True when it was written.

    The file is kept for the life of the chain: a replay from genesis must start from the very
    same block 0 (same timestamp, same allocations) to reproduce the same transactions' effects.
    """
    if path.exists():
        return False
    genesis = json.loads(template.read_text())
    genesis.setdefault("config", {})["chainId"] = chain_id
    # Anvil's clock starts at the genesis timestamp, so "now" keeps block times close to wall time.
    genesis["timestamp"] = hex(int(time.time()))
    alloc = genesis.setdefault("alloc", {})
    for address in authorities.values():
        alloc[address] = {"balance": hex(balance_eth * WEI_PER_ETH)}
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(genesis, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return True
