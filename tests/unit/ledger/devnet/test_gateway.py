"""Devnet pieces without a node: keystore, journal, raw transaction decoding, gateway limits."""

from __future__ import annotations

import asyncio
import json
import stat

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from ledger.devnet._journal import Journal, read_journal
from ledger.chain.rawtx import InvalidTransaction, decode_transaction
from ledger.devnet._settings import DevnetSettings, GatewaySettings
from ledger.exceptions import ConfigurationError, KeystoreError

from tests.support.keys import PASSWORD, data_home, keystore_template  # noqa: F401  (keystore_template: a fixture)

pytestmark = pytest.mark.unit

TO = to_checksum_address("0x" + "ab" * 20)


# -- keystore ------------------------------------------------------------------------------------

def test_keystore_files_and_round_trip(tmp_path):
    from ledger import keystore

    with data_home(tmp_path):
        account = keystore.new_key("dept-7")
        path = tmp_path / "keystore" / "dept-7.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        keyfile = json.loads(path.read_text())
        assert keyfile["crypto"]["kdf"] == "pbkdf2" and keyfile["version"] == 3
        assert keystore.load_key("dept-7").key == account.key
        assert keystore.address_of("dept-7") == account.address
        assert keystore.list_keys() == {"dept-7": account.address}
        with pytest.raises(KeystoreError, match="already exists"):
            keystore.new_key("dept-7")
        with pytest.raises(KeystoreError, match="wrong"):
            keystore.load_key("dept-7", password=PASSWORD + "x")
        with pytest.raises(KeystoreError, match="invalid key name"):
            keystore.new_key("../escape")
        with pytest.raises(KeystoreError, match="no key"):
            keystore.load_key("nobody")


def test_authority_keys_are_created_once(keystore_template, tmp_path):
    import shutil

    from ledger import keystore

    shutil.copytree(keystore_template, tmp_path / "keystore")
    with data_home(tmp_path):
        first = keystore.ensure_authority_keys()
        assert list(first) == list(keystore.AUTHORITY_KEYS)
        assert keystore.ensure_authority_keys() == first
        (tmp_path / "keystore" / "relayer-3.json").unlink()
        again = keystore.ensure_authority_keys()
        assert again["admin"] == first["admin"] and again["relayer-3"] != first["relayer-3"]


def test_keys_cli(tmp_path):
    from click.testing import CliRunner

    from ledger.cli.keys import command

    runner = CliRunner()
    with data_home(tmp_path):
        created = runner.invoke(command, ["new", "citizen-1"])
        assert created.exit_code == 0, created.output
        name, address = created.output.split()
        exported = runner.invoke(command, ["export", "citizen-1"]).output.strip()
        assert Account.from_key(exported).address == address
        assert json.loads(runner.invoke(command, ["list", "--json"]).output) == {"citizen-1": address}
        assert runner.invoke(command, ["new", "citizen-1"]).exit_code != 0


# -- journal -------------------------------------------------------------------------------------

def test_journal_group_commit_and_torn_tail(tmp_path):
    path = tmp_path / "tx-journal.jsonl"

    async def write():
        journal = Journal(path)
        await asyncio.gather(*(journal.append({"k": "tx", "seq": journal.next_seq(), "h": f"0x{i:064x}",
                                               "raw": "0x00", "ts": 1.0}) for i in range(50)))
        journal.append_later({"k": "rej", "seq": 3, "err": "nonce too low"})
        await journal.append({"k": "blk", "n": 7, "ts": 100, "bf": "0x7", "txs": ["0x" + "01" * 32]})
        await journal.close()

    asyncio.run(write())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open("ab") as fh:
        fh.write(b'{"k":"tx","seq":51,"h":"0x')  # crash in the middle of an append
    contents = read_journal(path)
    assert [tx.seq for tx in contents.txs] == list(range(1, 51))
    assert contents.rejected == {3}
    assert contents.blocks[7].base_fee == 7 and contents.recorded_to == 7
    assert contents.next_seq == 51
    assert path.read_bytes().endswith(b"\n")  # the torn record was cut off


# -- raw transactions ----------------------------------------------------------------------------

@pytest.mark.parametrize("fields", [
    {"to": TO, "value": 5, "gas": 21000, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 1, "data": b"\x01"},
    {"to": TO, "value": 0, "gas": 50000, "gasPrice": 2 * 10**9},
    {"gas": 90000, "gasPrice": 3 * 10**9, "data": b"\x60\x00", "value": 0,
     "accessList": [{"address": TO, "storageKeys": ["0x" + "00" * 32]}]},
    {"gas": 90000, "maxFeePerGas": 4 * 10**9, "maxPriorityFeePerGas": 2, "data": b"\x60\x00", "value": 0},
])
def test_decode_recovers_sender_and_fields(fields):
    account = Account.create()
    signed = account.sign_transaction({"nonce": 3, "chainId": 16211, **fields})
    tx = decode_transaction(bytes(signed.raw_transaction), 16211)
    assert tx.sender == account.address.lower()
    assert tx.hash == "0x" + bytes(signed.hash).hex()
    assert tx.to == (fields["to"].lower() if "to" in fields else None)
    assert tx.value == fields["value"] and tx.gas == fields["gas"] and tx.nonce == 3
    assert tx.gas_price == fields.get("gasPrice", fields.get("maxFeePerGas"))
    assert tx.data == fields.get("data", b"")


def test_decode_refuses_what_cannot_be_admitted():
    account = Account.create()
    base = {"to": TO, "value": 0, "gas": 21000, "gasPrice": 10**9, "nonce": 0}
    with pytest.raises(InvalidTransaction, match="chain id"):
        decode_transaction(bytes(account.sign_transaction({**base, "chainId": 1}).raw_transaction), 16211)
    with pytest.raises(InvalidTransaction, match="EIP-155"):
        decode_transaction(bytes(account.sign_transaction(base).raw_transaction), 16211)
    for raw in (b"", b"\x03\xc0", b"\x04\xc0", b"\x02\xc0", b"\xc3\x01\x02\x03", b"\x02\x85abc"):
        with pytest.raises(InvalidTransaction):
            decode_transaction(raw, 16211)


# -- settings ------------------------------------------------------------------------------------

def test_settings_file_and_overrides():
    settings = DevnetSettings.load(block_time=2, port=0)
    assert settings.chain_id == 16211 and settings.block_time == 2 and settings.gateway.port == 0
    assert settings.gateway.max_body_bytes == 1 << 20
    with pytest.raises(ConfigurationError):
        DevnetSettings.load(isolation="none")


# -- gateway limits, in process with a stub node ------------------------------------------------

class _StubUpstream:
    def __init__(self):
        self.sent = []

    async def send(self, method, params):
        self.sent.append(method)
        return {"jsonrpc": "2.0", "id": 0, "result": "0x3f53" if method == "eth_chainId" else "0x0"}


class _StubPermissions:
    async def check(self, tx):
        return False, "nobody may"


async def _gateway(tmp_path, **limits):
    from ledger.devnet.gateway import Gateway

    journal = Journal(tmp_path / "j.jsonl")
    gateway = Gateway(GatewaySettings(**limits), _StubUpstream(), _StubPermissions(), journal, chain_id=16211)
    port = await gateway.start("127.0.0.1", 0)
    return gateway, journal, f"http://127.0.0.1:{port}"


def test_rate_limit_per_client(tmp_path):
    import httpx

    async def scenario():
        gateway, journal, url = await _gateway(tmp_path, rate_limit=1.0, rate_burst=5)
        try:
            async with httpx.AsyncClient() as client:
                codes = [(await client.post(url, json={"jsonrpc": "2.0", "id": i, "method": "eth_chainId"})).status_code
                         for i in range(8)]
                batch = await client.post(url, json=[{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}] * 3)
        finally:
            await gateway.stop()
            await journal.close()
        return codes, batch

    codes, batch = asyncio.run(scenario())
    assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
    assert batch.status_code == 429 and batch.json()["error"]["code"] == -32005


def test_refused_transaction_is_not_journaled_nor_forwarded(tmp_path):
    import httpx

    account = Account.create()
    raw = account.sign_transaction({"to": TO, "value": 0, "gas": 21000, "gasPrice": 10**9, "nonce": 0,
                                    "chainId": 16211}).raw_transaction

    async def scenario():
        gateway, journal, url = await _gateway(tmp_path)
        try:
            async with httpx.AsyncClient() as client:
                reply = (await client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction",
                                                      "params": ["0x" + bytes(raw).hex()]})).json()
                notification = await client.post(url, json={"jsonrpc": "2.0", "method": "eth_chainId"})
        finally:
            await gateway.stop()
            await journal.close()
        return reply, notification, gateway.upstream.sent

    reply, notification, sent = asyncio.run(scenario())
    assert reply["error"] == {"code": -32003, "message": "transaction not permitted: nobody may"}
    assert "eth_sendRawTransaction" not in sent
    assert (tmp_path / "j.jsonl").read_bytes() == b""
    assert notification.status_code == 204


def test_http_server_edge_cases(tmp_path):
    import socket
    import time

    def exchange(port: int, data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.settimeout(2)
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            received, deadline = b"", time.monotonic() + 1
            while time.monotonic() < deadline:
                try:
                    chunk = sock.recv(65536)
                except (TimeoutError, ConnectionResetError):
                    break
                if not chunk:
                    break
                received += chunk
            return received

    body = b'{"jsonrpc":"2.0","id":%d,"method":"eth_chainId","params":[]}'

    def post(i: int, extra: bytes = b"") -> bytes:
        payload = body % i
        return b"POST / HTTP/1.1\r\nHost: x\r\n" + extra + b"Content-Length: %d\r\n\r\n" % len(payload) + payload

    async def scenario():
        gateway, journal, url = await _gateway(tmp_path, max_body_bytes=1000)
        port = int(url.rsplit(":", 1)[1])
        try:
            return await asyncio.gather(*(asyncio.to_thread(exchange, port, data) for data in (
                post(1) + post(2) + post(3),                                                  # pipelined
                b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"%x\r\n%s\r\n0\r\n\r\n" % (len(body % 4), body % 4),                          # chunked
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000,   # too large
                b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",                                           # not POST
                b"NOT HTTP AT ALL\r\n\r\n",                                                     # garbage
                post(5, b"Expect: 100-continue\r\n"),
            )))
        finally:
            await gateway.stop()
            await journal.close()

    pipelined, chunked, too_large, get, garbage, expect = asyncio.run(scenario())
    assert pipelined.count(b"HTTP/1.1 200 OK") == 3
    assert pipelined.index(b'"id":1') < pipelined.index(b'"id":2') < pipelined.index(b'"id":3')
    assert b'"id":4,"result":"0x3f53"' in chunked
    assert too_large.startswith(b"HTTP/1.1 413") and b"Connection: close" in too_large
    assert get.startswith(b"HTTP/1.1 405") and b"Allow: POST" in get
    assert garbage.startswith(b"HTTP/1.1 400")
    assert expect.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")
