"""The gateway in process with a stub node: rate limits, refused transactions, HTTP edge cases."""

from __future__ import annotations

import asyncio

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from ledger.devnet._journal import Journal
from ledger.devnet._settings import GatewaySettings

pytestmark = pytest.mark.unit

TO = to_checksum_address("0x" + "ab" * 20)


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
