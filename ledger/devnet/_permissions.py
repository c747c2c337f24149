"""Who may send transactions: the Participants contract, or the bootstrap allow-list before it exists.

After deployment the gateway asks ``Participants.transactionAllowed(sender, target, value,
gasPrice, gasLimit, payload)`` — the AccountRules interface Besu's on-chain permissioning
calls — with an ``eth_call`` for each transaction. Decisions are cached for a short TTL keyed
by all six arguments, so a rule that looks at the target or payload is honoured exactly and a
revoked role takes effect within the TTL.

Before ``<data>/deployment.json`` exists (or while it names an address without code, e.g.
after a chain reset) only the authority keys of the local keystore may transact: that is how
the contracts get deployed in the first place.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from ledger.chain.rawtx import DecodedTransaction
from ledger.devnet._ipc import IpcConnection, IpcPool
from ledger.exceptions import RpcError
from ledger.participants import decode_allowed, transaction_allowed_call

log = logging.getLogger("ledger.devnet.gateway")

_CACHE_LIMIT = 20_000
_RELOAD_CHECK_INTERVAL = 0.25


def encode_transaction_allowed(tx: DecodedTransaction) -> str:
    """ABI-encoded call data of transactionAllowed for ``tx`` (target 0 for contract creation)."""
    return "0x" + transaction_allowed_call(tx.sender, tx.to, tx.value, tx.gas_price, tx.gas, tx.data).hex()


class Permissions:
    def __init__(self, upstream: IpcPool | IpcConnection, *, deployment_path: Path, chain_id: int, bootstrap: set[str],
                 ttl: float = 1.5):
        self.upstream = upstream
        self.deployment_path = deployment_path
        self.chain_id = chain_id
        self.bootstrap = {address.lower() for address in bootstrap}
        self.ttl = ttl
        self.participants: str | None = None
        self._stat: tuple | None = None
        self._next_check = 0.0
        self._cache: dict[tuple, tuple[float, bool, str]] = {}
        self._warned_no_code: str | None = None

    def _refresh_deployment(self, now: float) -> None:
        # While on the bootstrap list, look every time: a deployment that has just landed must
        # take over at once, or authority keys keep their bootstrap powers for a moment after it.
        if self.participants is not None and now < self._next_check:
            return
        self._next_check = now + _RELOAD_CHECK_INTERVAL
        try:
            st = os.stat(self.deployment_path)
            stat = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stat = None
        if stat == self._stat:
            return
        self._stat = stat
        self._cache.clear()
        participants = None
        if stat is not None:
            try:
                deployment = json.loads(self.deployment_path.read_text())
                if int(deployment.get("chain_id", self.chain_id)) != self.chain_id:
                    log.warning("%s belongs to chain %s, not %d: using the bootstrap allow-list",
                                self.deployment_path, deployment.get("chain_id"), self.chain_id)
                else:
                    participants = deployment["contracts"]["Participants"].lower()
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                log.warning("cannot read %s (%s): using the bootstrap allow-list", self.deployment_path, exc)
        if participants != self.participants:
            log.info("transaction permissioning: %s",
                     f"Participants.transactionAllowed at {participants}" if participants else "bootstrap allow-list")
        self.participants = participants

    async def check(self, tx: DecodedTransaction) -> tuple[bool, str]:
        """(admitted, reason) for a decoded transaction."""
        now = time.monotonic()
        self._refresh_deployment(now)
        if self.participants is None:
            return self._bootstrap(tx)
        key = (tx.sender, tx.to, tx.value, tx.gas_price, tx.gas, tx.data)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        participants = self.participants
        try:
            result = await self.upstream.call("eth_call", [{"to": participants, "data": encode_transaction_allowed(tx)},
                                                           "latest"])
        except RpcError as exc:
            return False, f"Participants.transactionAllowed failed for {tx.sender}: {exc.rpc_message}"
        if result in ("0x", None):
            if self._warned_no_code != participants:
                self._warned_no_code = participants
                log.warning("Participants %s has no code on this chain: using the bootstrap allow-list", participants)
            return self._bootstrap(tx)
        allowed = decode_allowed(result) is True
        reason = "" if allowed else f"sender {tx.sender} is not permitted by Participants.transactionAllowed"
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = (now + self.ttl, allowed, reason)
        return allowed, reason

    def _bootstrap(self, tx: DecodedTransaction) -> tuple[bool, str]:
        if tx.sender in self.bootstrap:
            return True, ""
        return False, f"sender {tx.sender} is not an authority key and no contracts are deployed yet"
