"""Keeps the authority keys (admin, anchorer, relayers) funded: the devnet has no faucet and no market.

Over the supervisor's private IPC connection only (``anvil_setBalance`` is refused at the
gateway): every ``interval`` seconds a key below ``below`` wei is set back to its genesis
balance, and the top-up is logged. Top-ups are not journaled; the supervisor repeats them after
every recovery, before the gateway opens.
"""

from __future__ import annotations

import asyncio
import logging

from ledger.devnet._ipc import IpcConnection
from ledger.exceptions import DevnetError, RpcError

log = logging.getLogger("ledger.devnet")

WEI_PER_ETH = 10**18


class AuthorityFunds:
    def __init__(self, ipc_path: str, authorities: dict[str, str], *, target: int, below: int, interval: float):
        self.authorities = dict(authorities)
        self.target = target
        self.below = below
        self.interval = interval
        self.top_ups = 0
        self._conn = IpcConnection(ipc_path)

    async def top_up(self) -> None:
        for name, address in self.authorities.items():
            balance = int(await self._conn.call("eth_getBalance", [address, "latest"]), 16)
            if balance < self.below:
                await self._conn.call("anvil_setBalance", [address, hex(self.target)])
                self.top_ups += 1
                log.warning("topped up authority key %s (%s): %.6f -> %d ether", name, address,
                            balance / WEI_PER_ETH, self.target // WEI_PER_ETH)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.top_up()
            except (DevnetError, RpcError) as exc:  # anvil gone (the supervisor stops on its own) or a refused call
                log.error("authority top-up failed: %s", exc)

    async def close(self) -> None:
        await self._conn.close()
