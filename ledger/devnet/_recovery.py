"""Crash recovery: bring the chain loaded from the last state dump (or genesis) up to the journal.

1. Blocks recorded in the journal above the loaded head are recreated one by one with their
   original number, timestamp, base fee and transactions (anvil started with ``--no-mining``: the
   transactions are sent, then ``evm_mine`` with the recorded timestamp). Short runs of empty
   blocks in between (interval mining) are recreated too, so block numbers stay the same.
2. Admitted transactions that still have no receipt (mined after the last block record, or
   never mined before the crash) are sent again in journal order and mined.
3. The node clock is set back to wall time.

The journal is a file, so nothing in it is taken on trust: every transaction is decoded and
passes the gateway's own permission check (``Participants.transactionAllowed``, or the
bootstrap allow-list) against the state at replay time before it is sent; a refused one is
skipped and logged.

Receipts (block numbers, gas, effective gas prices), nonces, balances and contract storage
match the pre-crash chain;
block hashes do not (anvil draws a fresh ``prevrandao`` for every block).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from ledger.chain.rawtx import decode_transaction
from ledger.devnet._ipc import IpcConnection
from ledger.devnet._journal import JournalContents
from ledger.devnet._permissions import Permissions
from ledger.exceptions import InvalidTransaction, RpcError

log = logging.getLogger("ledger.devnet.recovery")

_HARMLESS = ("nonce too low", "already imported", "already known")
_CHUNK = 256


@dataclass(slots=True)
class RecoveryReport:
    loaded_head: int = 0
    head: int = 0
    blocks_recreated: int = 0
    empty_blocks_recreated: int = 0
    transactions_replayed: int = 0
    transactions_skipped: int = 0
    transactions_refused: int = 0
    diverged: bool = False


async def _block(conn: IpcConnection, number: int | str) -> dict:
    tag = hex(number) if isinstance(number, int) else number
    return await conn.call("eth_getBlockByNumber", [tag, False])


async def _receipts(conn: IpcConnection, hashes: list[str]) -> list[dict | None]:
    import asyncio

    results: list[dict | None] = []
    for start in range(0, len(hashes), _CHUNK):
        chunk = hashes[start:start + _CHUNK]
        results += await asyncio.gather(*(conn.call("eth_getTransactionReceipt", [h]) for h in chunk))
    return results


async def _permitted(permissions: Permissions, chain_id: int, tx_hash: str, raw: str,
                     report: RecoveryReport) -> bool:
    """The gateway's admission check, against the state the transaction would now execute on."""
    try:
        allowed, reason = await permissions.check(decode_transaction(bytes.fromhex(raw[2:]), chain_id))
    except (InvalidTransaction, ValueError) as exc:
        allowed, reason = False, f"undecodable ({exc})"
    except RpcError as exc:
        allowed, reason = False, f"permission check failed ({exc.rpc_message})"
    if not allowed:
        log.warning("journaled transaction %s not replayed: not permitted (%s)", tx_hash, reason)
        report.transactions_refused += 1
    return allowed


async def recover(conn: IpcConnection, contents: JournalContents, *, permissions: Permissions, chain_id: int,
                  max_gap: int = 256) -> RecoveryReport:
    report = RecoveryReport()
    latest = await _block(conn, "latest")
    head, head_ts = int(latest["number"], 16), int(latest["timestamp"], 16)
    report.loaded_head = head
    by_hash = contents.tx_by_hash()
    done: set[str] = set()
    # After --load-state anvil's clock refuses any timestamp before "now"; rewind it to the head
    # so blocks can be recreated with their recorded timestamps (set to wall time at the end).
    await conn.call("evm_setTime", [head_ts])

    for number in sorted(n for n in contents.blocks if n > head):
        record = contents.blocks[number]
        target_ts = max(record.timestamp, head_ts)
        gap = number - head - 1
        if gap > max_gap:
            log.warning("not recreating %d empty blocks before block %d: later block numbers shift", gap, number)
            report.diverged = True
        elif gap > 0:
            for i in range(1, gap + 1):
                await conn.call("evm_mine", [{"timestamp": head_ts + (target_ts - head_ts) * i // (gap + 1)}])
            report.empty_blocks_recreated += gap
        receipts = await _receipts(conn, record.txs)
        sent = 0
        for tx_hash, receipt in zip(record.txs, receipts):
            done.add(tx_hash)
            entry = by_hash.get(tx_hash)
            if receipt is not None or entry is None:
                continue
            if not await _permitted(permissions, chain_id, tx_hash, entry.raw, report):
                continue
            try:
                await conn.call("eth_sendRawTransaction", [entry.raw])
                sent += 1
            except RpcError as exc:
                log.warning("block %d: transaction %s not replayed: %s", number, tx_hash, exc.rpc_message)
        if sent:
            if record.base_fee is not None:
                # Anvil derives the first block after a (re)start from its own fee state, not
                # from the parent block as a continuous run does; pin the recorded value.
                await conn.call("anvil_setNextBlockBaseFeePerGas", [hex(record.base_fee)])
            await conn.call("evm_mine", [{"timestamp": target_ts}])
            report.blocks_recreated += 1
            report.transactions_replayed += sent
        latest = await _block(conn, "latest")
        head, head_ts = int(latest["number"], 16), int(latest["timestamp"], 16)
        if head != number and not report.diverged:
            log.warning("recreated block %d became block %d: later block numbers shift", number, head)
            report.diverged = True

    # Admitted transactions without a receipt, in the order the gateway journaled them.
    seen: set[str] = set()
    candidates = []
    for tx in contents.txs:
        if tx.seq in contents.rejected or tx.hash in done or tx.hash in seen:
            continue
        seen.add(tx.hash)
        candidates.append(tx)
    receipts = await _receipts(conn, [tx.hash for tx in candidates])
    missing = [tx for tx, receipt in zip(candidates, receipts) if receipt is None]

    await conn.call("evm_setTime", [max(int(time.time()), head_ts)])
    sent = 0
    for tx in missing:
        if not await _permitted(permissions, chain_id, tx.hash, tx.raw, report):
            continue
        try:
            await conn.call("eth_sendRawTransaction", [tx.raw])
            sent += 1
        except RpcError as exc:
            if any(marker in exc.rpc_message for marker in _HARMLESS):
                report.transactions_skipped += 1
            else:
                log.warning("journaled transaction %s not replayed: %s", tx.hash, exc.rpc_message)
                report.transactions_skipped += 1
    if sent:
        report.transactions_replayed += sent
        for _ in range(1000):  # a block takes what fits its gas limit; mine until the pool is drained
            status = await conn.call("txpool_status")
            if int(status.get("pending", "0x0"), 16) == 0:
                break
            before = int(await conn.call("eth_blockNumber"), 16)
            await conn.call("evm_mine")
            if int(await conn.call("eth_blockNumber"), 16) == before:
                break
    report.head = int(await conn.call("eth_blockNumber"), 16)
    return report
