"""A JSON-RPC node stand-in for the transaction sender and the funds monitor (no chain)."""

from __future__ import annotations


class FakeRpc:
    """Answers what the sender and the funds monitor ask; eth_gasPrice doubles at every call (the runaway)."""

    def __init__(self, base_fee: int = 8):
        self.base_fee = base_fee
        self.gas_price = 10**9
        self.sent: list[bytes] = []
        self.calls: list[str] = []
        self.balances: dict[str, int] = {}

    def call(self, method, params=None):
        self.calls.append(method)
        if method == "eth_gasPrice":
            self.gas_price *= 2
            return hex(self.gas_price)
        if method == "eth_getBlockByNumber":
            return {"number": "0x10", "baseFeePerGas": hex(self.base_fee)}
        if method == "eth_getTransactionCount":
            return "0x0"
        if method == "eth_sendRawTransaction":
            self.sent.append(bytes.fromhex(params[0][2:]))
            return "0x" + "00" * 32
        raise AssertionError(method)

    def batch(self, calls):
        return [hex(self.balances[params[0]]) for _, params in calls]
