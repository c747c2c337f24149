"""Transactions another party signs: prepared by the API, checked and relayed once signed.

The signer (a department, the identity attester) gets the exact transaction to sign; the API
relays a signed one only if it is from the signed-in account and says exactly what was asked
(contract, calldata, no value). See :mod:`api.services.sharing` for the department workflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.core.errors import ApiError
from api.core.security import Principal
from ledger.chain.sender import Receipt
from ledger.chain.errors import revert_data
from ledger.chain.rawtx import InvalidTransaction, decode_transaction
from ledger.chain.rpc import RpcError
from ledger.exceptions import TransactionFailed

if TYPE_CHECKING:
    from api.services.context import AppServices

#: Contract errors that mean "already so": answered 409 instead of 422.
CONFLICTS = {"SubjectsAlreadyRegistered": "ALREADY_REGISTERED", "SubjectsChangeNotPending": "CHANGE_NOT_PENDING",
             "SubjectsChangeNotDue": "CHANGE_NOT_DUE", "SubjectsInvalidChangeNonce": "CHANGE_NONCE_USED"}


def ledger_refusal(exc: TransactionFailed) -> ApiError:
    code = CONFLICTS.get(exc.error_name or "")
    if code:
        return ApiError(409, code, f"the ledger refused: {exc.error_name}")
    return ApiError(422, "LEDGER_REJECTED", str(exc))


def unsigned(services: "AppServices", sender: str, to: str, data: str, *, action: str) -> dict:
    """The transaction ``sender`` should sign, with gas estimated (a revert is answered now)."""
    rpc = services.chain.rpc
    try:
        gas = int(rpc.call("eth_estimateGas", [{"from": sender, "to": to, "data": data}]), 16)
    except RpcError as exc:
        raise ledger_refusal(services.chain.errors.failure(action, revert_data(exc))) from None
    nonce = int(rpc.call("eth_getTransactionCount", [sender, "pending"]), 16)
    gas_price = int(rpc.call("eth_gasPrice"), 16)
    return {"from": sender, "to": to, "data": data, "value": "0x0", "chainId": services.chain_id, "nonce": nonce,
            "gas": gas + gas // 5, "gasPrice": gas_price * 2}


def relay(services: "AppServices", principal: Principal, signed: str, to: str, expected_data: str, *,
          action: str) -> Receipt:
    """Relay ``signed`` if it is the principal's and calls ``to`` with exactly ``expected_data``."""
    try:
        tx = decode_transaction(bytes.fromhex(signed[2:]), services.chain_id)
    except (InvalidTransaction, ValueError) as exc:
        raise ApiError(422, "INVALID_TRANSACTION", f"not a signed transaction for this chain: {exc}") from None
    if tx.sender != principal.address.lower():
        raise ApiError(403, "NOT_YOUR_TRANSACTION", "the transaction is not signed by the signed-in account")
    if (tx.to or "").lower() != to.lower() or "0x" + tx.data.hex() != expected_data or tx.value:
        raise ApiError(422, "INVALID_TRANSACTION", "the signed transaction does not match this request")
    try:
        tx_hash = services.chain.rpc.call("eth_sendRawTransaction", [signed])
        receipt = services.chain.sender.wait(tx_hash, action=action)
    except RpcError as exc:
        raise ApiError(422, "LEDGER_REJECTED", f"the ledger refused the transaction: {exc.rpc_message}") from None
    except TransactionFailed as exc:
        raise ledger_refusal(exc) from None
    services.indexer.sync(receipt.block_number)
    return receipt
