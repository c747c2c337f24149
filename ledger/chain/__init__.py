"""Chain access: JSON-RPC, ABI coding, transaction sending and the deployed contracts."""

from ledger.chain.client import BoundContract, Chain, Deployment
from ledger.chain.rpc import RpcClient, RpcError
from ledger.chain.sender import Receipt, TransactionSender

__all__ = ["BoundContract", "Chain", "Deployment", "Receipt", "RpcClient", "RpcError", "TransactionSender"]
