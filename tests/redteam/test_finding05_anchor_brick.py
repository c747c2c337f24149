"""Finding 5 (contract part): one anchor from the anchorer key must not brick anchoring for good.

Tree sizes must strictly increase, so an anchor of size 2**64-1 would leave no valid next anchor:
the API's anchorer would fail for ever and releases stop. The attack sends it with the operator's
own anchorer key; the contract must refuse it by name, and the API must keep anchoring.
"""

from __future__ import annotations

import time

import pytest

from ledger import keystore
from ledger.exceptions import TransactionFailed
from tests.redteam.conftest import operator_chain, ops_headers
from tests.support.flows import ZHANG, query

pytestmark = pytest.mark.redteam

UINT64_MAX = 2**64 - 1


def test_anchor_of_max_tree_size_is_refused_and_anchoring_goes_on(fresh_system, fresh_clients):
    running = fresh_system()
    clients = fresh_clients(running)
    anchorer = keystore.load_key("anchorer")
    chain = operator_chain(running, "anchorer")
    contract = chain.contract("AuditAnchor")
    try:
        _, before, _, _ = contract.call("latest")
        with pytest.raises(TransactionFailed) as refused:
            contract.transact("anchor", UINT64_MAX, b"\x11" * 32, sender=anchorer.address)
        assert refused.value.error_name == "AuditAnchorTreeSizeStepTooLarge"
        step = contract.call("maxTreeSizeStep")
        assert tuple(refused.value.error_args) == (before, UINT64_MAX, step)
        # The bound is exact: one entry past it is refused too.
        with pytest.raises(TransactionFailed) as refused:
            contract.transact("anchor", before + step + 1, b"\x11" * 32, sender=anchorer.address)
        assert refused.value.error_name == "AuditAnchorTreeSizeStepTooLarge"

        # The API goes on anchoring: a new audit entry gets covered by an on-chain tree head.
        reply = query(clients("dept-tax"), ZHANG, "hrss.social_insurance", ["name"])
        seq = reply.json()["audit"]["seq"]
        deadline = time.monotonic() + 30
        while contract.call("latest")[1] <= seq and time.monotonic() < deadline:
            time.sleep(0.2)
        assert contract.call("latest")[1] > seq, "the API stopped anchoring"
        ready = clients("regulator").http.get("/readyz", headers=ops_headers(running)).json()
        assert ready["checks"]["anchoring"]["ok"], ready
    finally:
        chain.close()
