"""Finding 10: eth_call / eth_estimateGas with state overrides or unbounded gas could stall the chain.

A batch of 1000 calls that each run an infinite loop (given to an address by a state override,
or as the init code of a create-call) kept anvil busy for as long as the gas allowed. The
gateway refuses overrides, caps the gas of a call and the time a batch may take, and keeps
the chain producing blocks meanwhile.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.support.devnet import devnet, keystore_template, make_devnet, rpc  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.redteam, pytest.mark.integration]

LOOP = "0x5b5f56"  # JUMPDEST PUSH0 JUMP: runs until the gas is gone
TARGET = "0x" + "ee" * 20
INVALID_PARAMS = -32602
LIMIT_EXCEEDED = -32005


def _batch(rpc, calls: list[tuple[str, list]], timeout: float = 300) -> tuple[list[dict], float]:
    body = [{"jsonrpc": "2.0", "id": i, "method": method, "params": params} for i, (method, params) in enumerate(calls)]
    started = time.monotonic()
    replies = httpx.post(rpc.url, json=body, timeout=timeout).json()
    return sorted(replies, key=lambda r: r["id"]), time.monotonic() - started


@pytest.mark.parametrize("method", ["eth_call", "eth_estimateGas", "eth_createAccessList"])
def test_state_and_block_overrides_are_refused(rpc, method):
    state_override = {TARGET: {"code": LOOP}}
    calls = [(method, [{"to": TARGET, "data": "0x"}, "latest", state_override])] * 500
    calls += [(method, [{"to": TARGET, "data": "0x"}, "latest", None, {"gasLimit": hex(10**12)}])] * 500
    replies, _ = _batch(rpc, calls)
    for reply in replies:
        assert reply["error"]["code"] == INVALID_PARAMS, reply
        assert "overrides are not accepted" in reply["error"]["message"], reply


@pytest.mark.parametrize("method", ["eth_call", "eth_estimateGas", "eth_createAccessList"])
def test_gas_above_the_call_cap_is_refused(rpc, method):
    reply = rpc.request(method, [{"data": LOOP, "gas": hex(10**12)}, "latest"])
    assert reply["error"]["code"] == INVALID_PARAMS, reply
    assert "call gas cap" in reply["error"]["message"], reply


def test_a_batch_of_infinite_loops_is_cut_short_and_blocks_keep_coming(rpc, devnet):
    """1000 create-calls that loop until their gas runs out: the batch ends within its time budget,
    the calls beyond it are refused by name, a transaction sent meanwhile is mined promptly and
    another client's call does not queue behind the batch."""
    calls = [("eth_call", [{"data": LOOP}, "latest"])] * 1000
    result: dict = {}
    attack = threading.Thread(target=lambda: result.update(zip(("replies", "elapsed"), _batch(rpc, calls))))
    attack.start()
    time.sleep(0.5)
    admin = devnet.account("admin")
    sent = time.monotonic()
    rpc.receipt(rpc.send(admin, to="0x" + "12" * 20, value=1), timeout=60)
    mined_after = time.monotonic() - sent
    asked = time.monotonic()
    assert "result" in rpc.request("eth_call", [{"to": TARGET, "data": "0x"}, "latest"])
    answered_after = time.monotonic() - asked
    attack.join()
    cut = [r for r in result["replies"] if r.get("error", {}).get("code") == LIMIT_EXCEEDED]
    print(f"batch answered in {result['elapsed']:.2f} s, {len(cut)} of 1000 calls cut by the time budget; "
          f"a transaction sent meanwhile was mined in {mined_after:.2f} s, another client's eth_call answered in "
          f"{answered_after:.2f} s")
    assert mined_after < 3.0, f"a transaction took {mined_after:.1f} s to be mined during the attack"
    assert answered_after < 1.0, f"another client's eth_call waited {answered_after:.1f} s behind the attack"
    assert result["elapsed"] < 15.0, f"the batch held the gateway for {result['elapsed']:.1f} s"
    assert cut, "no call was cut by the batch time budget"
    assert all("batch time budget" in r["error"]["message"] for r in cut)
