"""The Participants contract's permissioning, read one way by the devnet gateway, the Besu allow-list
and the projection: the ``transactionAllowed(...)`` call and the fold of the role events.

``transactionAllowed(sender, target, value, gasPrice, gasLimit, payload)`` is the AccountRules
interface Besu's on-chain permissioning calls; the gateway asks it for every raw transaction, so
its call data is built here by hand (a fixed head and one dynamic ``bytes``), not through eth_abi.
"""

from __future__ import annotations

from collections.abc import Hashable

from eth_hash.auto import keccak

__all__ = ["TRANSACTION_ALLOWED", "decode_allowed", "fold_role_event", "transaction_allowed_call"]

#: Selector of ``transactionAllowed(address,address,uint256,uint256,uint256,bytes)``.
TRANSACTION_ALLOWED = keccak(b"transactionAllowed(address,address,uint256,uint256,uint256,bytes)")[:4]


def transaction_allowed_call(sender: str, target: str | None, value: int, gas_price: int, gas: int,
                             payload: bytes) -> bytes:
    """ABI-encoded call data of ``transactionAllowed`` (``target`` None or empty: contract creation, address 0)."""
    padded = payload + b"\0" * (-len(payload) % 32)
    return (
        TRANSACTION_ALLOWED
        + bytes.fromhex(sender[2:]).rjust(32, b"\0")
        + (bytes.fromhex(target[2:]) if target else b"").rjust(32, b"\0")
        + value.to_bytes(32, "big")
        + gas_price.to_bytes(32, "big")
        + gas.to_bytes(32, "big")
        + (6 * 32).to_bytes(32, "big")
        + len(payload).to_bytes(32, "big")
        + padded
    )


def decode_allowed(result: object) -> bool | None:
    """The boolean an ``eth_call`` of ``transactionAllowed`` returned; None if the answer is no ABI word."""
    if not isinstance(result, str) or len(result) < 66:
        return None
    return int(result[2:66], 16) != 0


def fold_role_event(roles: dict[str, set], event: str, account: str, role: Hashable) -> bool:
    """Fold one ``RoleGranted`` (adds ``role`` to the roles ``account`` holds) or ``RoleRevoked`` (takes it
    away) into ``roles``; True if ``event`` is one of the two. ``role`` is whatever the caller keys roles by."""
    if event == "RoleGranted":
        roles.setdefault(account, set()).add(role)
    elif event == "RoleRevoked":
        roles.setdefault(account, set()).discard(role)
    else:
        return False
    return True
