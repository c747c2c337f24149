"""Chain access: JSON-RPC, ABI coding, transaction sending and the deployed contracts."""

from ledger.chain.client import BoundContract, Chain, Deployment
from ledger.chain.rpc import RpcClient
from ledger.chain.sender import Receipt, TransactionSender
from ledger.exceptions import RpcError

__all__ = ["BoundContract", "Chain", "Deployment", "Receipt", "RpcClient", "RpcError", "TransactionSender"]
