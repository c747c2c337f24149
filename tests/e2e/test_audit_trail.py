"""The citizen's access log with inclusion proofs, anchors on-chain, and tamper detection."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace

import httpx
import pytest

from ledger.audit.entry import decode_leaf, encode_leaf
from ledger.audit.hasher import hash_leaf
from ledger.audit.verify import verify_inclusion
from tests.support.flows import LI, ZHANG, grant, query, verification
from tests.support.system import running_system, signed_in

pytestmark = pytest.mark.e2e


def _wait_anchored(regulator, size: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if regulator.get(f"/v1/audit/anchors?after={size - 1}&limit=1")["anchors"]:  # an anchor covers them
            return
        time.sleep(0.2)
    raise AssertionError(f"tree size {size} not anchored within {timeout}s")


def _on_chain_root(system, tx_hash: str) -> tuple[int, bytes]:
    """Tree size and root from the anchor transaction's own event, read straight from the chain."""
    receipt = httpx.post(system.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionReceipt",
                                               "params": [tx_hash]}).json()["result"]
    data = bytes.fromhex(receipt["logs"][0]["data"][2:])
    return int.from_bytes(data[0:32], "big"), data[32:64]


def test_access_log_lists_every_access_with_valid_proof(clients, system):
    li, security = clients("citizen-li"), clients("dept-public-security")
    grant(li, security, LI, "gaj.household_registration", ["household_head"], purpose="access_log_check")
    seqs = [query(security, LI, "gaj.household_registration", ["household_head"],
                  purpose="access_log_check").json()["audit"]["seq"] for _ in range(3)]
    seqs.append(query(clients("dept-tax"), LI, "gaj.household_registration", ["name"]).json()["audit"]["seq"])
    regulator = clients("regulator")
    _wait_anchored(regulator, max(seqs) + 1)

    log = li.get("/v1/me/access-log?limit=500")["entries"]
    logged = {e["seq"]: e for e in log}
    assert set(seqs) <= set(logged)
    assert all(e["subject_id"] == log[0]["subject_id"] for e in log)  # only Li's own entries
    assert logged[seqs[-1]]["decision"] == "DENY" and logged[seqs[0]]["decision"] == "ALLOW"

    for seq in seqs:
        proof = li.get(logged[seq]["proof"])
        leaf_hash = hash_leaf(proof["leaf"].encode())
        assert "0x" + leaf_hash.hex() == proof["leaf_hash"]
        size, root = _on_chain_root(system, proof["anchor"]["tx_hash"])
        assert size == proof["tree_size"]
        verify_inclusion(leaf_hash, seq, size, [bytes.fromhex(h[2:]) for h in proof["audit_path"]], root)


def test_access_log_of_another_subject_is_forbidden(clients):
    zhang_entry = query(clients("dept-tax"), ZHANG, "hrss.social_insurance", ["name"]).json()["audit"]["seq"]
    reply = clients("citizen-li").request("GET", f"/v1/audit/entries/{zhang_entry}/proof")
    assert reply.status_code == 403


class TestTampering:
    """Edit the API's database behind its back; the regulator's verification must name the change.

    On a system of their own: a forged row the integrator took into the tiles stays in the signed
    tree (and its anchor) for good, as it should, so the shared system would stay broken after them.
    """

    @pytest.fixture(scope="class")
    def system(self, tmp_path_factory):
        with running_system(tmp_path_factory.mktemp("tamper-home")) as running:
            yield running

    @pytest.fixture(scope="class")
    def clients(self, system):
        with signed_in(system) as get:
            yield get

    @pytest.fixture()
    def db(self, system, clients):
        li, security = clients("citizen-li"), clients("dept-public-security")
        grant(li, security, LI, "gaj.household_registration", ["birth_date"], purpose="tamper_check")
        for _ in range(4):
            query(security, LI, "gaj.household_registration", ["birth_date"], purpose="tamper_check")
        regulator = clients("regulator")
        assert verification(regulator, full=True)["report"]["ok"]
        connection = sqlite3.connect(system.home / "ledger.db", timeout=30)
        columns = "seq, leaf, leaf_hash, requester, subject_id, consent_id, decision"
        rows = connection.execute(f"SELECT {columns} FROM audit_entries ORDER BY seq").fetchall()
        _wait_anchored(regulator, len(rows))
        yield connection, rows
        # Put every row back exactly as it was.
        connection.execute("DELETE FROM audit_entries")
        connection.executemany(f"INSERT INTO audit_entries ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        connection.commit()
        connection.close()

    def _problems(self, clients) -> list[dict]:
        job = verification(clients("regulator"), full=True)
        assert job["status"] == "done", job
        report = job["report"]
        assert report["ok"] is False
        return report["problems"]

    def test_changed_row_is_reported(self, db, clients):
        connection, rows = db
        seq, leaf = rows[-2][:2]
        connection.execute("UPDATE audit_entries SET leaf = ? WHERE seq = ?",
                           (leaf.replace(b'"birth_date"', b'"address"'), seq))
        connection.commit()
        kinds = {(p["kind"], p["seq"]) for p in self._problems(clients)}
        assert ("ENTRY_ALTERED", seq) in kinds

    def test_deleted_row_is_reported(self, db, clients):
        connection, rows = db
        seq = rows[-3][0]
        connection.execute("DELETE FROM audit_entries WHERE seq = ?", (seq,))
        connection.commit()
        kinds = {(p["kind"], p["seq"]) for p in self._problems(clients)}
        assert ("ENTRY_MISSING", seq) in kinds

    def test_reordered_rows_are_reported(self, db, clients):
        connection, rows = db
        (a, leaf_a, hash_a), (b, leaf_b, hash_b) = rows[-3][:3], rows[-2][:3]
        connection.execute("UPDATE audit_entries SET leaf = ?, leaf_hash = ? WHERE seq = ?", (leaf_b, hash_b, a))
        connection.execute("UPDATE audit_entries SET leaf = ?, leaf_hash = ? WHERE seq = ?", (leaf_a, hash_a, b))
        connection.commit()
        kinds = {p["kind"] for p in self._problems(clients)}
        assert "ENTRY_OUT_OF_ORDER" in kinds

    def test_inserted_allow_without_consent_is_a_policy_violation(self, db, clients):
        connection, rows = db
        genuine = decode_leaf(rows[-1][1])
        assert genuine.decision == "ALLOW"
        # The same release, claimed for a department that holds no consent from this subject.
        forged = replace(genuine, seq=len(rows), requester=clients("dept-tax").address)
        leaf = encode_leaf(forged)
        connection.execute("INSERT INTO audit_entries (seq, leaf, leaf_hash, requester, subject_id, consent_id, "
                           "decision) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (forged.seq, leaf, hash_leaf(leaf), forged.requester, forged.subject_id,
                            forged.consent_id, "ALLOW"))
        connection.commit()
        problems = self._problems(clients)
        assert [p["kind"] for p in problems if p["seq"] == forged.seq] == ["POLICY_VIOLATION"]
