"""The subject's inbox over HTTP on the real devnet: accesses (allowed and denied) written for people, consent
grants and endings, newest first, in pages that neither repeat nor skip."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.support.flows import LI, grant, query, revoke

pytestmark = pytest.mark.e2e

RESOURCE = "gaj.household_registration"


def _walk(client, limit: int, stop: set[str]) -> list[dict]:
    """Pages of ``limit`` until every id of ``stop`` was seen (or the inbox ends)."""
    seen, before = [], None
    while True:
        page = client.get("/v1/me/notifications", params={"limit": limit, **({"before": before} if before else {})})
        seen += page["notifications"]
        before = page["next"]
        if before is None or stop <= {n["id"] for n in seen}:
            return seen


def test_the_inbox_shows_accesses_and_consent_changes_in_pages(clients):
    li, security, tax = clients("citizen-li"), clients("dept-public-security"), clients("dept-tax")
    consent = grant(li, security, LI, RESOURCE, ["gender"], purpose="inbox_check")
    allowed = query(security, LI, RESOURCE, ["gender"], purpose="inbox_check").json()["audit"]["seq"]
    denied = query(tax, LI, RESOURCE, ["gender"], purpose="inbox_check").json()["audit"]["seq"]
    revoke(li, consent)
    expected = {f"access:{allowed}", f"access:{denied}", f"consent:{consent}:0", f"consent:{consent}:1"}

    seen = _walk(li, 2, expected)
    ids = [n["id"] for n in seen]
    assert len(ids) == len(set(ids)), "a page repeated an item"
    assert expected <= set(ids)
    times = [datetime.fromisoformat(n["time"].replace("Z", "+00:00")) for n in seen]
    assert times == sorted(times, reverse=True)  # newest first across pages (blocks are stamped in whole seconds)
    by_id = {n["id"]: n for n in seen}

    ok = by_id[f"access:{allowed}"]
    assert ok["kind"] == "ACCESS" and ok["access"]["decision"] == "ALLOW" and ok["access"]["fields"] == ["gender"]
    assert ok["access"]["department"] == {"address": security.address, "code": "jn.gaj",
                                          "name": "济南市公安局 Public Security Bureau"}
    assert ok["access"]["resource_name"] == "Household registration (户籍信息)"
    assert "Public Security Bureau (jn.gaj) received gender of Household registration" in ok["summary"]
    refusal = by_id[f"access:{denied}"]["access"]
    assert refusal["decision"] == "DENY" and refusal["reason"] != "OK" and refusal["reason_text"]
    assert by_id[f"consent:{consent}:0"]["consent"]["status"] == "granted"
    ended = by_id[f"consent:{consent}:1"]["consent"]
    assert ended["status"] == "revoked" and ended["by"] == li.address

    # The same items come back whatever the page size.
    assert [n["id"] for n in _walk(li, 50, expected) if n["id"] in expected] == \
        [i for i in ids if i in expected]


def test_the_inbox_is_for_subjects_and_refuses_a_forged_cursor(clients):
    assert clients("dept-tax").request("GET", "/v1/me/notifications").status_code == 403
    li = clients("citizen-li")
    for cursor in ("bm90LWpzb24", "WzEsMl0", "W251bGwsWzEsMiwzXV0"):  # not JSON; no chain part; a number as the id
        reply = li.request("GET", "/v1/me/notifications", params={"before": cursor})
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_INPUT", reply.text
