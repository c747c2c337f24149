"""A chain made of already-decoded event logs: what the indexer reads of a chain, for folding tests."""

from __future__ import annotations

from types import SimpleNamespace

CONTRACTS = ("Participants", "Subjects", "Catalog", "Consents", "Objections", "AuditAnchor")


class EventAbi:
    """Each log carries its decoded event under ``_event``."""

    @staticmethod
    def decode_log(log: dict):
        return log["_event"]


class BlockTimes:
    """The RPC calls the indexer makes for a chunk: block headers, timestamped from the block number."""

    url = "http://unused"

    @staticmethod
    def batch(calls):
        return [{"timestamp": hex(1_700_000_000 + int(params[0], 16))} for _, params in calls]


class LogChain:
    def __init__(self, logs: list[dict], contract: str, *, deploy_block: int = 1, rpc=None):
        self.logs = logs
        self.rpc = rpc or BlockTimes()
        self.deployment = SimpleNamespace(contracts={n: contract for n in CONTRACTS}, deploy_block=deploy_block)
        self.abis = {n: EventAbi() for n in CONTRACTS}

    def get_logs(self, addresses, start, end):
        return [lg for lg in self.logs if start <= int(lg["blockNumber"], 16) <= end]

    def block_number(self) -> int:
        return max(int(lg["blockNumber"], 16) for lg in self.logs)
