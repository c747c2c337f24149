"""Finding 4: an ALLOW with ``consent_id: null`` for a sensitive resource got past ``max_uses``.

The operator appends one more release under a used-up consent, naming no consent so it is not
counted; the verifier must say the release did not name its consent.
"""

from __future__ import annotations

from tests.redteam import forgery
from tests.redteam.conftest import verify_export
from tests.support.flows import ZHANG, grant, query


def test_release_without_its_consent_is_named(fresh_system, fresh_clients, tmp_path):
    running = fresh_system()
    login = fresh_clients(running)
    zhang, hrss = login("citizen-zhang"), login("dept-hrss")
    grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="finding04", max_uses=1)
    released = query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="finding04")
    assert released.status_code == 200
    exhausted = query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="finding04")
    assert exhausted.json()["error"]["code"] == "USES_EXHAUSTED"
    log = forgery.entries(running)
    forgery.wait_anchored(running, len(log))
    head, _ = forgery.head(running)

    genuine = log[released.json()["audit"]["seq"]]
    (forged,) = forgery.append_forged(running, forgery.forge(genuine, consent_id=None, time=forgery.now(),
                                                             block_number=head))
    report = verify_export(running, tmp_path)
    named = {(p["kind"], p["seq"]) for p in report["problems"]}
    assert ("CONSENT_NOT_NAMED", forged) in named, report["problems"]
    assert all(p["seq"] == forged for p in report["problems"]), report["problems"]
