"""Transactions another party signs: prepared by the API, checked and relayed once signed.

The signer (a department, the identity attester) gets the exact transaction to sign, with the
platform's one fee policy; the API relays a signed one only if it is from the signed-in account
and says exactly what was asked (contract, calldata, no value).
"""

from __future__ import annotations

from api.core.security import Principal
from api.schemas.common import UnsignedTransaction
from ledger import domain_errors as refused
from ledger.chain.client import Chain
from ledger.chain.errors import revert_data
from ledger.chain.rawtx import decode_transaction
from ledger.chain.sender import Receipt
from ledger.exceptions import FeeCapExceeded, InvalidTransaction, RpcError, TransactionFailed
from ledger.indexer import Indexer


class TransactionRelay:
    def __init__(self, chain: Chain, indexer: Indexer):
        self._chain = chain
        self._indexer = indexer

    def unsigned(self, sender: str, to: str, data: str, *, action: str) -> dict:
        """The transaction ``sender`` should sign, with gas estimated (a revert is answered now)."""
        rpc = self._chain.rpc
        try:
            gas = int(rpc.call("eth_estimateGas", [{"from": sender, "to": to, "data": data}]), 16)
        except RpcError as exc:
            raise self._chain.errors.failure(action, revert_data(exc)) from None
        nonce = int(rpc.call("eth_getTransactionCount", [sender, "pending"]), 16)
        try:
            fees = self._chain.sender.current_fees()
        except FeeCapExceeded as exc:
            raise refused.FeesAboveCap("the chain's fees are above the platform's cap; try again later") from exc
        return {"from": sender, "to": to, "data": data, "value": "0x0", "chainId": self._chain.chain_id,
                "nonce": nonce, "gas": gas + gas // 5, **fees.fields()}

    def relay(self, principal: Principal, signed: str, to: str, expected_data: str, *, action: str) -> Receipt:
        """Relay ``signed`` if it is the principal's and calls ``to`` with exactly ``expected_data``;
        returns once the projection has folded its block."""
        try:
            tx = decode_transaction(bytes.fromhex(signed[2:]), self._chain.chain_id)
        except (InvalidTransaction, ValueError):
            raise refused.TransactionMismatch("not a signed transaction for this chain") from None
        if tx.sender != principal.address.lower():
            raise refused.NotYourTransaction("the transaction is not signed by the signed-in account")
        if (tx.to or "").lower() != to.lower() or "0x" + tx.data.hex() != expected_data or tx.value:
            raise refused.TransactionMismatch("the signed transaction does not match this request")
        try:
            tx_hash = self._chain.rpc.call("eth_sendRawTransaction", [signed])
            receipt = self._chain.sender.wait(tx_hash, action=action)
        except RpcError as exc:
            raise TransactionFailed(f"{action} refused by the node: {exc.rpc_message}") from None
        self._indexer.sync(receipt.block_number)
        return receipt

    def acts(self, to: str, action: str) -> SignedActs:
        """The transactions to contract ``to`` that a party signs itself, as one ``action``."""
        return SignedActs(self, to, action)


class SignedActs:
    """One contract's transactions signed by the party that acts: prepared for it, then relayed."""

    def __init__(self, relay: TransactionRelay, to: str, action: str):
        self._relay = relay
        self._to = to
        self._action = action

    def prepare(self, sender: str, data: str) -> UnsignedTransaction:
        return UnsignedTransaction(transaction=self._relay.unsigned(sender, self._to, data, action=self._action))

    def relay(self, principal: Principal, signed: str, data: str) -> Receipt:
        return self._relay.relay(principal, signed, self._to, data, action=self._action)
