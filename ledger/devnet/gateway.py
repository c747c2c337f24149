"""The devnet's only public JSON-RPC endpoint (HTTP POST on 127.0.0.1, single and batch requests).

Requests are checked here and proxied to anvil over its IPC socket:

* a method allow-list: standard reads, filters, ``eth_sendRawTransaction``; everything that
  could change the node behind the chain's back (``anvil_*``, ``evm_*``, ``hardhat_*``,
  ``debug_*``, ``eth_sendTransaction``, ``eth_sign*``, ``personal_*``, ``admin_*``, ...) gets
  JSON-RPC error -32601; ``eth_accounts`` is answered ``[]`` here;
* raw transactions are decoded, their sender recovered and admitted only if
  :class:`~ledger.devnet._permissions.Permissions` says so; an admitted transaction is
  appended (fsync) to the journal *before* it is forwarded;
* limits: body size (HTTP 413), batch length, a token bucket per client address (HTTP 429);
* calls that execute code (``eth_call``, ``eth_estimateGas``, ``eth_createAccessList``): state
  and block overrides are refused, their gas is capped, at most a few run at once, and a
  request (single or batch) stops starting them after its time budget, so a batch of
  infinite loops cannot keep anvil from producing blocks.

The proxy path is plain asyncio (uvloop when run by the CLI) with a minimal httptools-based
HTTP/1.1 server (:mod:`ledger.devnet._http`), orjson, and persistent IPC connections; no web
framework, no web3.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Any

import orjson

from ledger.devnet._http import HttpServer
from ledger.devnet._ipc import IpcPool, UpstreamUnavailable
from ledger.devnet._journal import Journal, JournalContents
from ledger.devnet._permissions import Permissions
from ledger.chain.rawtx import decode_transaction
from ledger.devnet._settings import GatewaySettings
from ledger.exceptions import InvalidTransaction

log = logging.getLogger("ledger.devnet.gateway")

#: Methods proxied to the node as they are.
ALLOWED_METHODS = frozenset({
    "web3_clientVersion", "web3_sha3", "net_version", "net_listening", "net_peerCount",
    "eth_chainId", "eth_protocolVersion", "eth_syncing", "eth_blockNumber", "eth_gasPrice",
    "eth_maxPriorityFeePerGas", "eth_feeHistory", "eth_blobBaseFee", "eth_getBalance", "eth_getCode",
    "eth_getStorageAt", "eth_getTransactionCount", "eth_getProof", "eth_call", "eth_estimateGas",
    "eth_createAccessList", "eth_getLogs", "eth_getBlockByHash", "eth_getBlockByNumber",
    "eth_getBlockReceipts", "eth_getBlockTransactionCountByHash", "eth_getBlockTransactionCountByNumber",
    "eth_getUncleCountByBlockHash", "eth_getUncleCountByBlockNumber", "eth_getUncleByBlockHashAndIndex",
    "eth_getUncleByBlockNumberAndIndex", "eth_getTransactionByHash", "eth_getTransactionByBlockHashAndIndex",
    "eth_getTransactionByBlockNumberAndIndex", "eth_getTransactionReceipt", "eth_newFilter",
    "eth_newBlockFilter", "eth_newPendingTransactionFilter", "eth_getFilterChanges", "eth_getFilterLogs",
    "eth_uninstallFilter", "eth_mining", "eth_hashrate", "txpool_status",
})
#: Answered by the gateway itself.
LOCAL_RESULTS: dict[str, Any] = {"eth_accounts": []}
SEND_RAW = "eth_sendRawTransaction"
#: Methods that run EVM code for the caller: overrides refused, gas capped, concurrency and time bounded.
EXECUTING_METHODS = frozenset({"eth_call", "eth_estimateGas", "eth_createAccessList"})

# JSON-RPC error codes (EIP-1474).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_ALLOWED = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
TX_REJECTED = -32003
LIMIT_EXCEEDED = -32005

_DUPLICATE_MARKERS = ("already imported", "already known")
# Recent hashes remembered to journal a resubmitted transaction only once; an older duplicate
# is journaled again, which costs a line and nothing else (recovery skips what has a receipt).
_DEDUP_LIMIT = 200_000


def _error(request_id: Any, code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


class _RateLimiter:
    """Token bucket per client address."""

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = float(burst)
        self.buckets: dict[str, list[float]] = {}

    def take(self, key: str, cost: int) -> bool:
        now = time.monotonic()
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) > 10_000:
                self.buckets.clear()
            bucket = self.buckets[key] = [self.burst, now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens < cost:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - cost
        return True


class _RefusalLog:
    """Logs refusals, at most ``per_second`` lines a second so a flood cannot fill the disk."""

    def __init__(self, per_second: int = 20):
        self.per_second = per_second
        self.window = 0
        self.count = 0
        self.suppressed = 0

    def __call__(self, message: str, *args: Any) -> None:
        window = int(time.monotonic())
        if window != self.window:
            if self.suppressed:
                log.warning("%d more refusals not logged", self.suppressed)
            self.window, self.count, self.suppressed = window, 0, 0
        self.count += 1
        if self.count <= self.per_second:
            log.warning("refused: " + message, *args)
        else:
            self.suppressed += 1


class Gateway:
    def __init__(self, settings: GatewaySettings, upstream: IpcPool, permissions: Permissions, journal: Journal,
                 *, chain_id: int, journal_contents: JournalContents | None = None):
        self.settings = settings
        self.upstream = upstream
        self.permissions = permissions
        self.journal = journal
        self.chain_id = chain_id
        self._limiter = _RateLimiter(settings.rate_limit, settings.rate_burst)
        self._refused = _RefusalLog()
        # hash -> (journal seq, future done once the entry is on disk)
        self._journaled: dict[str, tuple[int, asyncio.Future | None]] = {}
        self._rejected: set[int] = set()
        if journal_contents is not None:
            self._rejected = set(journal_contents.rejected)
            for tx in journal_contents.txs[-_DEDUP_LIMIT:]:
                if tx.seq not in self._rejected:
                    self._journaled[tx.hash] = (tx.seq, None)
        self._server: HttpServer | None = None
        self._executing = asyncio.Semaphore(settings.max_concurrent_calls)
        self.port: int | None = None
        self.stats = {"requests": 0, "refused": 0, "transactions": 0}

    # -- HTTP ----------------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> int:
        self._server = HttpServer(self.handle_body, max_body=self.settings.max_body_bytes)
        self.port = await self._server.start(host, port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None
            log.info("gateway served %(requests)d requests, %(transactions)d transactions, refused %(refused)d",
                     self.stats)

    async def handle_body(self, body: bytes, remote: str) -> tuple[int, bytes | None]:
        """(HTTP status, response body) for one POSTed JSON-RPC body."""
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return 200, orjson.dumps(_error(None, PARSE_ERROR, "parse error"))
        budget = _Budget(asyncio.get_running_loop().time() + self.settings.request_time_budget)
        cost = len(payload) if isinstance(payload, list) else 1
        if not self._limiter.take(remote, max(cost, 1)):
            self._refused("rate limit exceeded by %s", remote)
            return 429, orjson.dumps(_error(None, LIMIT_EXCEEDED, "rate limit exceeded"))
        self.stats["requests"] += max(cost, 1)
        if isinstance(payload, list):
            if not payload:
                return 200, orjson.dumps(_error(None, INVALID_REQUEST, "empty batch"))
            if len(payload) > self.settings.max_batch:
                self._refused("batch of %d from %s", len(payload), remote)
                return 200, orjson.dumps(_error(None, INVALID_REQUEST,
                                                f"batch too large (at most {self.settings.max_batch} requests)"))
            replies = await asyncio.gather(*(self.handle(item, budget) for item in payload))
            replies = [reply for reply, item in zip(replies, payload) if not _is_notification(item)]
            return (200, orjson.dumps(replies)) if replies else (204, None)
        reply = await self.handle(payload, budget)
        if _is_notification(payload):
            return 204, None
        return 200, orjson.dumps(reply)

    # -- JSON-RPC ------------------------------------------------------------------------------

    async def handle(self, request: Any, budget: "_Budget | None" = None) -> dict:
        """The reply to one JSON-RPC request object (executing calls within the HTTP request's ``budget``)."""
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return _error(request.get("id") if isinstance(request, dict) else None, INVALID_REQUEST,
                          "invalid request")
        request_id = request.get("id")
        method = request["method"]
        params = request.get("params", [])
        if not isinstance(params, (list, dict)):
            return _error(request_id, INVALID_PARAMS, "params must be an array or object")
        if method in EXECUTING_METHODS:
            return await self._execute(request_id, method, params, budget)
        if method in ALLOWED_METHODS:
            try:
                reply = await self.upstream.send(method, params)
            except UpstreamUnavailable:
                return _error(request_id, INTERNAL_ERROR, "devnet node unavailable")
            reply["id"] = request_id
            return reply
        if method == SEND_RAW:
            return await self._send_raw(request_id, params)
        if method in LOCAL_RESULTS:
            return {"jsonrpc": "2.0", "id": request_id, "result": LOCAL_RESULTS[method]}
        self.stats["refused"] += 1
        self._refused("method %s", method[:64])
        return _error(request_id, METHOD_NOT_ALLOWED, f"method not allowed: {method[:64]}")

    async def _execute(self, request_id: Any, method: str, params: Any, budget: "_Budget | None") -> dict:
        checked = self._checked_call_params(method, params)
        if isinstance(checked, str):
            self.stats["refused"] += 1
            self._refused("%s: %s", method, checked)
            return _error(request_id, INVALID_PARAMS, checked)
        loop = asyncio.get_running_loop()
        if budget is None:
            budget = _Budget(loop.time() + self.settings.request_time_budget)
        over_budget = _error(request_id, LIMIT_EXCEEDED, f"{method} not run: the request's time budget of "
                                                         f"{self.settings.request_time_budget:g} s is used up "
                                                         f"(batch time budget)")
        try:
            # One executing call at a time per HTTP request, so a batch queues once for the shared
            # slots instead of a thousand times ahead of everyone else's calls.
            async with asyncio.timeout_at(budget.deadline):
                await budget.turn.acquire()
                try:
                    await self._executing.acquire()
                except BaseException:
                    budget.turn.release()
                    raise
        except TimeoutError:
            self.stats["refused"] += 1
            return over_budget
        try:
            if loop.time() >= budget.deadline:
                self.stats["refused"] += 1
                return over_budget
            reply = await self.upstream.send(method, checked)
        except UpstreamUnavailable:
            return _error(request_id, INTERNAL_ERROR, "devnet node unavailable")
        finally:
            self._executing.release()
            budget.turn.release()
        reply["id"] = request_id
        return reply

    def _checked_call_params(self, method: str, params: Any) -> list | str:
        """``[call, block]`` with the gas capped, or why the request is refused."""
        if not isinstance(params, list) or not params or not isinstance(params[0], dict):
            return f"{method} takes [call object, block]"
        if any(extra not in (None, {}) for extra in params[2:]):
            return f"{method}: state and block overrides are not accepted by this gateway"
        call = dict(params[0])
        cap = self.settings.call_gas_cap
        gas = call.get("gas")
        if gas is None:
            call["gas"] = hex(cap)  # anvil would otherwise allow the whole block gas limit (or more)
        else:
            try:
                gas_int = int(gas, 16) if isinstance(gas, str) else int(gas)
            except (TypeError, ValueError):
                return f"{method}: gas must be a hex quantity"
            if gas_int > cap:
                return f"{method}: gas {gas_int} is above the call gas cap of {cap}"
        return [call, *params[1:2]]

    async def _send_raw(self, request_id: Any, params: Any) -> dict:
        if not (isinstance(params, list) and len(params) == 1 and isinstance(params[0], str)):
            return _error(request_id, INVALID_PARAMS, "expected one hex-encoded signed transaction")
        raw_hex = params[0]
        if len(raw_hex) > 2 + 2 * self.settings.max_tx_bytes:
            self._refused("oversized transaction (%d hex chars)", len(raw_hex))
            return _error(request_id, TX_REJECTED, f"transaction larger than {self.settings.max_tx_bytes} bytes")
        try:
            raw = bytes.fromhex(raw_hex[2:] if raw_hex[:2] in ("0x", "0X") else raw_hex)
            tx = decode_transaction(raw, self.chain_id)
        except (ValueError, InvalidTransaction) as exc:
            self._refused("undecodable transaction: %s", exc)
            return _error(request_id, INVALID_PARAMS, f"invalid transaction: {exc}")
        try:
            allowed, reason = await self.permissions.check(tx)
        except UpstreamUnavailable:
            return _error(request_id, INTERNAL_ERROR, "devnet node unavailable")
        if not allowed:
            self.stats["refused"] += 1
            self._refused("transaction %s: %s", tx.hash, reason)
            return _error(request_id, TX_REJECTED, f"transaction not permitted: {reason}")

        journaled_here = False
        entry = self._journaled.get(tx.hash)
        if entry is None:
            seq = self.journal.next_seq()
            future = asyncio.get_running_loop().create_future()
            if len(self._journaled) >= _DEDUP_LIMIT:
                for old in list(itertools.islice(self._journaled, _DEDUP_LIMIT // 4)):
                    if self._journaled[old][1] is None:
                        del self._journaled[old]
            self._journaled[tx.hash] = (seq, future)
            journaled_here = True
            try:
                await self.journal.append({"k": "tx", "seq": seq, "h": tx.hash, "raw": "0x" + raw.hex(),
                                           "ts": round(time.time(), 3)})
            except OSError as exc:
                del self._journaled[tx.hash]
                future.set_exception(exc)
                future.exception()  # retrieved: a concurrent duplicate reports its own error
                return _error(request_id, INTERNAL_ERROR, "transaction journal unavailable")
            future.set_result(None)
            self._journaled[tx.hash] = (seq, None)
        else:
            seq, future = entry
            if future is not None:  # the same transaction is being journaled by another request
                try:
                    await asyncio.shield(future)
                except OSError:
                    return _error(request_id, INTERNAL_ERROR, "transaction journal unavailable")

        self.stats["transactions"] += 1
        try:
            reply = await self.upstream.send(SEND_RAW, ["0x" + raw.hex()])
        except UpstreamUnavailable:
            # Journaled but maybe not delivered: the next start replays it.
            return _error(request_id, INTERNAL_ERROR, "devnet node unavailable; the transaction will be replayed")
        reply["id"] = request_id
        error = reply.get("error")
        if error is not None and journaled_here:
            message = str(error.get("message", ""))
            if not any(marker in message for marker in _DUPLICATE_MARKERS):
                # Refused by the node (nonce too low, insufficient funds...): never replay it.
                self._rejected.add(seq)
                self._journaled.pop(tx.hash, None)
                self.journal.append_later({"k": "rej", "seq": seq, "err": message[:200]})
        return reply


class _Budget:
    """What one HTTP request may use for executing calls: a deadline, and one call at a time."""

    __slots__ = ("deadline", "turn")

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.turn = asyncio.Lock()


def _is_notification(item: Any) -> bool:
    return isinstance(item, dict) and "id" not in item
