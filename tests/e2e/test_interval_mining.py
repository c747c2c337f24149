"""The same consent lifecycle on a devnet that mines a block every second instead of per transaction."""

from __future__ import annotations

import pytest

from ledger import keystore
from ledger.client import ApiClient
from tests.support.flows import ZHANG, grant, query, revoke
from tests.support.system import running_system

pytestmark = pytest.mark.e2e


def test_grant_query_revoke_with_one_second_blocks(tmp_path):
    with running_system(tmp_path, devnet_args=("--block-time", "1")) as system:
        zhang = ApiClient(system.api_url, keystore.load_key("citizen-zhang")).login()
        hrss = ApiClient(system.api_url, keystore.load_key("dept-hrss")).login()
        consent_id = grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["employer"], purpose="interval_check")
        assert query(hrss, ZHANG, "hrss.social_insurance", ["employer"], purpose="interval_check").status_code == 200
        revoke(zhang, consent_id)
        denied = query(hrss, ZHANG, "hrss.social_insurance", ["employer"], purpose="interval_check")
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "REVOKED"
