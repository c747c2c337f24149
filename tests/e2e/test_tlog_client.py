"""An independent tlog client follows the audit log by the C2SP rules alone: fetch the checkpoint,
check its Ed25519 note signature, fetch the tiles, recompute the root, and hold it against the
on-chain anchor. Nothing here uses the library's tree, tile or note code: hashing, tile paths and
note parsing are written out below from c2sp.org/tlog-tiles, tlog-checkpoint and signed-note."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_utils import keccak

from tests.support.flows import LI, grant, query

pytestmark = pytest.mark.e2e


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 2.1 over leaf hashes, recursively, the slow and obvious way."""
    if not hashes:
        return sha256(b"")
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return sha256(b"\x01" + mth(hashes[:k]) + mth(hashes[k:]))


def tile_url(level: int | str, index: int, width: int) -> str:
    groups = [index % 1000]
    while index >= 1000:
        index //= 1000
        groups.insert(0, index % 1000)
    path = "/".join([f"x{g:03d}" for g in groups[:-1]] + [f"{groups[-1]:03d}"])
    return f"/log/tile/{level}/{path}" + ("" if width == 256 else f".p/{width}")


def verifier_key(name: str, public_key: bytes) -> tuple[bytes, bytes]:
    """(key id, public key) as signed-note defines the key id."""
    return sha256(name.encode() + b"\n\x01" + public_key)[:4], public_key


def open_checkpoint(note: str, name: str, key_id: bytes, public_key: bytes) -> tuple[str, int, bytes]:
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    verified = False
    for line in signatures.rstrip("\n").split("\n"):
        dash, signer, blob = line.split(" ")
        assert dash == "\u2014"
        raw = base64.b64decode(blob)
        if signer == name and raw[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(public_key).verify(raw[4:], text.encode())  # raises if forged
            verified = True
    assert verified, "no signature by the log's key"
    origin, size, root = text.split("\n")[:3]
    return origin, int(size), base64.b64decode(root)


def fetch_leaf_hashes(api: httpx.Client, size: int) -> list[bytes]:
    hashes: list[bytes] = []
    for index in range((size + 255) // 256):
        width = min(256, size - index * 256)
        reply = api.get(tile_url(0, index, width))
        assert reply.status_code == 200, (reply.status_code, reply.text)
        assert reply.headers["content-type"] == "application/octet-stream"
        assert "immutable" in reply.headers["cache-control"]
        assert len(reply.content) == 32 * width
        hashes += [reply.content[i:i + 32] for i in range(0, len(reply.content), 32)]
    return hashes


def on_chain_latest(rpc_url: str, anchor: str) -> tuple[int, bytes]:
    data = "0x" + keccak(text="latest()")[:4].hex()
    result = httpx.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                                       "params": [{"to": anchor, "data": data}, "latest"]}).json()["result"]
    raw = bytes.fromhex(result[2:])  # latest() returns (index, treeSize, rootHash, anchorHash)
    return int.from_bytes(raw[32:64], "big"), raw[64:96]


def test_an_independent_client_follows_the_log_by_the_c2sp_rules(system, clients):
    li, security = clients("citizen-li"), clients("dept-public-security")
    grant(li, security, LI, "gaj.household_registration", ["household_head"], purpose="tlog_follow")
    for _ in range(300):  # more than a full tile
        query(security, LI, "gaj.household_registration", ["household_head"], purpose="tlog_follow")

    seed = (system.home / "secrets" / "log-ed25519.key").read_bytes()  # the log key, configured out of band
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with httpx.Client(base_url=system.api_url, timeout=10) as api:
        deadline = time.monotonic() + 20
        while True:
            reply = api.get("/log/checkpoint")
            assert reply.status_code == 200
            origin = reply.text.split("\n", 1)[0]
            key_id, key = verifier_key(origin, public)
            _, size, root = open_checkpoint(reply.text, origin, key_id, key)
            if size > 256 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert reply.headers["content-type"] == "text/plain; charset=utf-8"
        assert "no-cache" in reply.headers["cache-control"] or "max-age" in reply.headers["cache-control"]
        assert size > 256

        leaves = fetch_leaf_hashes(api, size)
        assert mth(leaves) == root

        # Level 1 holds the MTH of each full level-0 tile.
        level1 = api.get(tile_url(1, 0, size // 256))
        assert level1.status_code == 200
        assert [level1.content[i:i + 32] for i in range(0, len(level1.content), 32)] == \
               [mth(leaves[t * 256:(t + 1) * 256]) for t in range(size // 256)]

        # Entry bundles are for regulators: each entry hashes to its level-0 tile hash. (The newest full
        # bundle holds this test's own queries; other tests of the session tamper with older entries.)
        last_full = size // 256 - 1
        assert api.get(tile_url("entries", last_full, 256)).status_code in (401, 403)
        regulator = clients("regulator")
        bundle = regulator.request("GET", tile_url("entries", last_full, 256))
        assert bundle.status_code == 200, bundle.text
        entries, pos = [], 0
        while pos < len(bundle.content):
            length = int.from_bytes(bundle.content[pos:pos + 2], "big")
            entries.append(bundle.content[pos + 2:pos + 2 + length])
            pos += 2 + length
        assert [sha256(b"\x00" + e) for e in entries] == leaves[last_full * 256:(last_full + 1) * 256]

        # Not-yet-existing and non-canonical tiles are refused, not guessed.
        assert api.get(tile_url(0, (size + 255) // 256 + 5, 256)).status_code == 404
        assert api.get("/log/tile/0/0.p/1").status_code == 404
        assert api.get("/log/tile/0/000.p/256").status_code == 404

        # The anchor on-chain commits to this same tree at its size.
        deployment = json.loads((system.home / "deployment.json").read_text())
        anchored_size, anchored_root = on_chain_latest(system.rpc_url, deployment["contracts"]["AuditAnchor"])
        assert anchored_size > 0
        if anchored_size > len(leaves):  # anchored since the checkpoint was read
            leaves = fetch_leaf_hashes(api, anchored_size)
        assert mth(leaves[:anchored_size]) == anchored_root
