"""Besu production path: QBFT extraData, genesis, node configs and the registry-driven allow-list.

The allow-list generator is exercised against a fake JSON-RPC node (a tiny http.server on
127.0.0.1) that answers eth_getLogs / eth_call with ABI-encoded canned data; a real chain comes
with the integration tests.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import rlp
from click.testing import CliRunner
from eth_abi import decode as abi_decode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from ledger import besu_allowlist as ba
from ledger.domain import ROLE_NAMES
from ledger.participants import TRANSACTION_ALLOWED
from ledger.exceptions import ConfigurationError

pytestmark = pytest.mark.unit

BESU_DIR = Path(__file__).resolve().parents[3] / "hardhat-free-devnet" / "besu"
NODES = [BESU_DIR / f"node-{n}" for n in range(1, 5)]


def _addresses(n: int) -> list[str]:
    return [Account.create().address for _ in range(n)]


# --------------------------------------------------------------------------- extraData


def test_extra_data_round_trip_decodes_with_rlp():
    validators = _addresses(4)
    extra = ba.extra_data_for_validators(validators)

    vanity, decoded, vote, round_, seals = rlp.decode(bytes.fromhex(extra[2:]))
    assert vanity == b"\x00" * 32
    assert decoded == sorted(bytes.fromhex(v[2:]) for v in validators)
    assert vote == [] and round_ == b"" and seals == []  # no vote, round 0 (empty scalar), no seals

    assert ba.decode_extra_data(extra) == (b"\x00" * 32, sorted(validators, key=str.lower), [], 0, [])


def test_extra_data_byte_layout_and_order_independence():
    validators = _addresses(4)
    extra = ba.extra_data_for_validators(validators)
    body = "".join("94" + v[2:].lower() for v in sorted(validators, key=str.lower))
    # list(0x7a bytes) = vanity (0xa0 + 32 bytes) + validators list (0xf854 + 4 x 21 bytes) + c0 80 c0
    assert extra == "0xf87a" + "a0" + "00" * 32 + "f854" + body + "c0" + "80" + "c0"
    assert ba.extra_data_for_validators(list(reversed(validators))) == extra


@pytest.mark.parametrize("bad", [[], ["0x1234"], ["not-an-address"]])
def test_extra_data_rejects_bad_input(bad):
    with pytest.raises(ConfigurationError):
        ba.extra_data_for_validators(bad)


def test_extra_data_rejects_duplicates_and_bad_checksums():
    a = _addresses(1)[0]
    with pytest.raises(ConfigurationError):
        ba.extra_data_for_validators([a, a.lower()])
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55 example
    ba.extra_data_for_validators([good, good.lower()[:-1] + "0"])
    with pytest.raises(ConfigurationError, match="checksum"):
        ba.extra_data_for_validators(["0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"])  # one letter's case flipped


# --------------------------------------------------------------------------- genesis and node files


def test_genesis_template_is_the_documented_qbft_network():
    template = json.loads(ba.GENESIS_TEMPLATE.read_text())
    config = template["config"]
    assert config["chainId"] == 16212  # distinct from the embedded devnet's 16211
    assert config["qbft"] == {"blockperiodseconds": 2, "epochlength": 30000, "requesttimeoutseconds": 4}
    assert (config["berlinBlock"], config["londonBlock"], config["shanghaiTime"], config["cancunTime"]) == (0, 0, 0, 0)
    assert config["zeroBaseFee"] is True
    assert template["extraData"] == ba.EXTRA_DATA_PLACEHOLDER
    assert template["difficulty"] == "0x1"
    assert template["mixHash"] == "0x" + b"ctical byzantine fault tolerance".hex()  # Istanbul/QBFT marker


def test_build_genesis_fills_extra_data_and_funds_operators(tmp_path):
    validators, operators = _addresses(4), _addresses(6)
    out = tmp_path / "genesis.json"
    ba.write_genesis(validators, out, fund=operators)
    genesis = json.loads(out.read_text())
    assert ba.decode_extra_data(genesis["extraData"])[1] == sorted(validators, key=str.lower)
    assert set(genesis["alloc"]) == {a[2:].lower() for a in operators}
    assert all(int(v["balance"], 16) == ba.GENESIS_BALANCE for v in genesis["alloc"].values())
    assert genesis["config"] == json.loads(ba.GENESIS_TEMPLATE.read_text())["config"]


def test_build_genesis_refuses_a_template_without_the_placeholder(tmp_path):
    bad = tmp_path / "t.json"
    bad.write_text(json.dumps({"config": {"qbft": {}}, "extraData": "0x00"}))
    with pytest.raises(ConfigurationError):
        ba.build_genesis(_addresses(4), template=bad)


# Option names checked against the Besu CLI reference (public and private network options).
KNOWN_BESU_OPTIONS = {
    "data-path", "node-private-key-file", "genesis-file", "identity", "sync-mode", "data-storage-format",
    "p2p-host", "p2p-port", "nat-method", "discovery-enabled", "bootnodes", "rpc-http-enabled",
    "rpc-http-host", "rpc-http-port", "rpc-http-api", "host-allowlist", "rpc-max-logs-range",
    "revert-reason-enabled", "rpc-ws-enabled", "graphql-http-enabled", "metrics-enabled", "min-gas-price",
    "tx-pool-min-gas-price", "permissions-accounts-config-file-enabled", "permissions-accounts-config-file",
    "permissions-nodes-config-file-enabled", "permissions-nodes-config-file", "tx-pool",
    "tx-pool-max-future-by-sender", "tx-pool-max-prioritized", "tx-pool-layer-max-capacity",
    "tx-pool-priority-senders",
}


def _node_configs() -> list[dict]:
    return [tomllib.loads((node / "config.toml").read_text()) for node in NODES]


def test_node_configs_are_consistent():
    configs = _node_configs()
    for n, config in enumerate(configs, start=1):
        assert set(config) <= KNOWN_BESU_OPTIONS, set(config) - KNOWN_BESU_OPTIONS
        assert config["rpc-http-enabled"] is True and config["rpc-http-host"] == "127.0.0.1"
        assert config["rpc-http-api"] == ["ETH", "NET", "WEB3", "QBFT"]
        assert set(config["host-allowlist"]) <= {"localhost", "127.0.0.1"}
        assert config["permissions-accounts-config-file-enabled"] is True
        assert config["permissions-nodes-config-file-enabled"] is True
        assert config["permissions-accounts-config-file"] == f"node-{n}/permissions_config.toml"
        assert config["permissions-nodes-config-file"] == f"node-{n}/permissions_config.toml"
        assert config["data-path"] == f"node-{n}/data"
        assert config["node-private-key-file"].startswith(f"node-{n}/data/")
        assert config["genesis-file"] == "genesis.json"
        assert config["min-gas-price"] == 0  # free gas: a non-zero minimum silently drops transactions
        assert config["tx-pool"] == "layered" and config["tx-pool-max-future-by-sender"] >= 200
        assert "tx-pool-price-bump" not in config  # rejected by Besu with zeroBaseFee
        assert (NODES[n - 1] / "README.md").read_text().lower().count("never committed") >= 1
    for key in ("p2p-port", "rpc-http-port"):
        assert len({c[key] for c in configs}) == 4
    assert 8545 not in {c["rpc-http-port"] for c in configs}  # the devnet gateway's port
    assert min(c["rpc-http-port"] for c in configs) == 18545


def test_permissions_template_matches_the_nodes():
    template = tomllib.loads((BESU_DIR / "permissions_config.template.toml").read_text())
    assert ba.ACCOUNTS_KEY in template and "nodes-allowlist" in template
    ports = sorted(int(url.rsplit(":", 1)[1]) for url in template["nodes-allowlist"])
    assert ports == sorted(c["p2p-port"] for c in _node_configs())


def test_generated_files_and_keys_are_git_ignored():
    paths = ["node-1/data/key", "node-2/data/key.pub", "node-3/key", "node-4/permissions_config.toml",
             "genesis.json", "networkFiles/keys/0xab/key"]
    ignored = subprocess.run(["git", "check-ignore", *paths], cwd=BESU_DIR, capture_output=True, text=True)
    assert sorted(ignored.stdout.split()) == sorted(paths)
    kept = subprocess.run(["git", "check-ignore", "node-1/config.toml", "node-1/README.md"], cwd=BESU_DIR)
    assert kept.returncode == 1  # nothing committed is ignored


# --------------------------------------------------------------------------- fake JSON-RPC node

ROLE = {name: "0x" + keccak(text=name).hex() for name in ROLE_NAMES} | {"DEFAULT_ADMIN_ROLE": "0x" + "00" * 32}


def _topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


class FakeNode:
    """Answers the JSON-RPC calls the generator makes, from canned registry events and verdicts."""

    def __init__(self, participants: str, head: int = 12_345):
        self.participants = participants
        self.head = head
        self.code = "0x6080"
        self.logs: list[dict] = []
        self.allowed: set[str] = set()
        self.log_ranges: list[tuple[int, int]] = []
        self.call_blocks: list[str] = []
        self.called: list[str] = []
        self._index: dict[int, int] = {}

    def _log(self, block: int, topics: list[str], data: str = "0x", *, address: str | None = None,
             removed: bool = False) -> None:
        index = self._index.get(block, 0)
        self._index[block] = index + 1
        self.logs.append({"address": (address or self.participants).lower(), "topics": topics, "data": data,
                          "blockNumber": hex(block), "logIndex": hex(index), "removed": removed})

    def grant(self, block: int, role: str, account: str, **kw) -> None:
        self._log(block, [ba.ROLE_GRANTED, ROLE[role], _topic(account), _topic(self.participants)], **kw)

    def revoke(self, block: int, role: str, account: str) -> None:
        self._log(block, [ba.ROLE_REVOKED, ROLE[role], _topic(account), _topic(self.participants)])

    def allow(self, block: int, account: str, allowed: bool) -> None:
        self._log(block, [ba.ALLOWANCE_SET, _topic(account)], "0x" + f"{int(allowed):064x}")

    def answer(self, method: str, params: list):
        if method == "eth_chainId":
            return hex(16212)
        if method == "eth_getBlockByNumber":
            assert params == ["latest", False]
            return {"number": hex(self.head), "hash": "0x" + "ab" * 32}
        if method == "eth_getCode":
            return self.code
        if method == "eth_getLogs":
            f = params[0]
            start, end = int(f["fromBlock"], 16), int(f["toBlock"], 16)
            self.log_ranges.append((start, end))
            wanted = set(f["topics"][0])
            hits = [log for log in self.logs if start <= int(log["blockNumber"], 16) <= end
                    and log["topics"][0] in wanted]
            random.shuffle(hits)  # nodes owe no order across a response; the generator sorts
            return hits
        if method == "eth_call":
            call, block = params
            self.call_blocks.append(block)
            assert call["to"].lower() == self.participants.lower()
            data = bytes.fromhex(call["data"][2:])
            assert data[:4] == TRANSACTION_ALLOWED
            sender, target, value, gas_price, gas_limit, payload = abi_decode(
                ["address", "address", "uint256", "uint256", "uint256", "bytes"], data[4:])
            assert target.lower() == self.participants.lower() and value == 0  # plain call, no value
            self.called.append(to_checksum_address(sender))
            return "0x" + f"{int(to_checksum_address(sender) in self.allowed):064x}"
        raise AssertionError(f"unexpected method {method}")


@pytest.fixture
def node():
    participants = _addresses(1)[0]
    fake = FakeNode(participants)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            requests = body if isinstance(body, list) else [body]
            replies = [{"jsonrpc": "2.0", "id": r["id"], "result": fake.answer(r["method"], r["params"])}
                       for r in requests]
            raw = json.dumps(replies if isinstance(body, list) else replies[0]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def registry(node):
    """admin, two relayers (one revoked), a department, allowed and disallowed wallets, a late grant."""
    admin, relayer, revoked, dept, wallet, ex_wallet, late, stray = _addresses(8)
    node.grant(1, "DEFAULT_ADMIN_ROLE", admin)
    node.grant(2, "IDENTITY_ATTESTER_ROLE", admin)
    node.grant(2, "RELAYER_ROLE", relayer)
    node.grant(3, "RELAYER_ROLE", revoked)
    node.revoke(4, "RELAYER_ROLE", revoked)
    node.grant(5, "DEPARTMENT_ROLE", dept)
    node.allow(6, wallet, True)
    node.allow(6, ex_wallet, True)
    node.allow(7, ex_wallet, False)
    node.grant(12_000, "ANCHORER_ROLE", late)  # beyond the first 5000-block range
    node.grant(8, "EMERGENCY_ROLE", stray, removed=True)  # reorged away
    node.grant(9, "REGULATOR_ROLE", stray, address=_addresses(1)[0])  # another contract's event
    node.allowed = {admin, relayer, dept, wallet, late}
    return {"admin": admin, "relayer": relayer, "revoked": revoked, "dept": dept, "wallet": wallet,
            "ex_wallet": ex_wallet, "late": late, "stray": stray}


def test_allowlist_is_generated_from_the_registry(node, registry, tmp_path):
    out = tmp_path / "permissions_config.toml"
    result = ba.write_accounts_allowlist(node.url, node.participants, out)

    expected = sorted([registry[k] for k in ("admin", "relayer", "dept", "wallet", "late")], key=str.lower)
    written = tomllib.loads(out.read_text())
    assert written == {"accounts-allowlist": expected}
    assert all(a == to_checksum_address(a) for a in written["accounts-allowlist"])
    assert result.changed and list(result.accounts) == expected
    snap = result.snapshot
    assert snap.block_number == node.head and snap.chain_id == 16212 and snap.disagreements == ()
    assert snap.roles[registry["admin"]] == ("DEFAULT_ADMIN_ROLE", "IDENTITY_ATTESTER_ROLE")
    assert registry["revoked"] not in snap.roles and registry["stray"] not in node.called

    # every account the events mention is confirmed on-chain, at the block the logs were read to
    mentioned = {registry[k] for k in ("admin", "relayer", "revoked", "dept", "wallet", "ex_wallet", "late")}
    assert set(node.called) == mentioned
    assert set(node.call_blocks) == {hex(node.head)}
    # logs were read in ranges a Besu node accepts, covering genesis to the pinned head
    assert node.log_ranges[0][0] == 0 and node.log_ranges[-1][1] == node.head
    assert all(end - start + 1 <= ba.LOGS_RANGE for start, end in node.log_ranges)
    assert all(b[0] == a[1] + 1 for a, b in zip(node.log_ranges, node.log_ranges[1:]))
    # roles named in the file for the operator's eyes
    assert "RELAYER_ROLE" in out.read_text() and out.read_text().count(ba.BEGIN_MARK) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["permissions_config.toml"]  # no temp file left


def test_rewrite_keeps_nodes_allowlist_and_is_idempotent(node, registry, tmp_path):
    out = tmp_path / "permissions_config.toml"
    shutil.copy(BESU_DIR / "permissions_config.template.toml", out)
    nodes_before = tomllib.loads(out.read_text())["nodes-allowlist"]

    assert ba.write_accounts_allowlist(node.url, node.participants, out).changed
    text = out.read_text()
    assert tomllib.loads(text)["nodes-allowlist"] == nodes_before
    assert "ADMIN_ADDRESS" not in text and "# nodes-allowlist: enode URLs" in text  # comments survive

    stat = out.stat()
    again = ba.write_accounts_allowlist(node.url, node.participants, out)
    assert not again.changed and out.read_text() == text and out.stat().st_mtime_ns == stat.st_mtime_ns

    node.revoke(12_100, "RELAYER_ROLE", registry["relayer"])
    node.allowed.discard(registry["relayer"])
    third = ba.write_accounts_allowlist(node.url, node.participants, out)
    parsed = tomllib.loads(out.read_text())
    assert third.changed and registry["relayer"] not in parsed["accounts-allowlist"]
    assert parsed["nodes-allowlist"] == nodes_before
    assert out.read_text().count(ba.BEGIN_MARK) == 1 and out.read_text().count(ba.END_MARK) == 1


def test_contract_answer_wins_over_the_event_fold(node, registry, tmp_path):
    node.allowed.add(registry["ex_wallet"])  # e.g. events before from_block were skipped
    result = ba.write_accounts_allowlist(node.url, node.participants, tmp_path / "p.toml")
    assert registry["ex_wallet"] in result.accounts
    assert result.snapshot.disagreements == (registry["ex_wallet"],)


def test_refuses_an_empty_allowlist(node, registry, tmp_path):
    node.allowed = set()
    out = tmp_path / "p.toml"
    with pytest.raises(ConfigurationError, match="allows no account"):
        ba.write_accounts_allowlist(node.url, node.participants, out)
    assert not out.exists()


def test_refuses_an_address_without_code(node, tmp_path):
    node.code = "0x"
    with pytest.raises(ConfigurationError, match="no contract"):
        ba.write_accounts_allowlist(node.url, node.participants, tmp_path / "p.toml")


def test_from_block_skips_earlier_logs(node, registry, tmp_path):
    ba.write_accounts_allowlist(node.url, node.participants, tmp_path / "p.toml", from_block=6)
    assert node.log_ranges[0][0] == 6
    assert registry["admin"] not in node.called  # only events from block 6 on are replayed


def test_cli_allowlist_and_genesis(node, registry, tmp_path):
    runner = CliRunner()
    outs = [tmp_path / f"node-{n}.toml" for n in (1, 2)]
    res = runner.invoke(ba.besu_cli, ["allowlist", "--rpc", node.url, "--participants", node.participants,
                                      "--out", str(outs[0]), "--out", str(outs[1])])
    assert res.exit_code == 0, res.output
    assert res.output.count("updated") == 2
    assert outs[0].read_text() == outs[1].read_text()

    validators = _addresses(4)
    genesis = tmp_path / "genesis.json"
    res = runner.invoke(ba.besu_cli, ["genesis", "--validators", ",".join(validators), "--out", str(genesis)])
    assert res.exit_code == 0, res.output
    assert ba.decode_extra_data(json.loads(genesis.read_text())["extraData"])[1] == sorted(validators, key=str.lower)

    res = runner.invoke(ba.besu_cli, ["genesis", "--validators", "0x1234", "--out", str(genesis)])
    assert res.exit_code != 0 and "invalid validator address" in res.output
