"""Finding 12: a resource's field list is off-chain; only its keccak schema hash is on-chain.

Field masks (in consents and agreements) mean field *positions*, so whoever controls the field list
decides what a mask releases. The attacks: leave a field list behind from a registration whose
transaction reverted, and rewrite a field list in the database (the operator holds it) so that a
consent for one field releases another. Neither list may be used for a decision.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from itertools import permutations

import orjson
import pytest
from eth_utils import keccak
from sqlalchemy import select

from ledger import keystore
from ledger.client import ApiClient
from ledger.policy import resource_key
from ledger.storage.database import make_engine, make_sessionmaker
from ledger.storage.models import ResourceRow
from tests.redteam.conftest import operator_chain
from tests.support.flows import LI, grant, query

pytestmark = pytest.mark.redteam


def _stored_fields(resource_id: str) -> list[str] | None:
    engine = make_engine()
    try:
        with make_sessionmaker(engine)() as session:
            row = session.scalar(select(ResourceRow).where(ResourceRow.resource_id == resource_id))
            return None if row is None else list(row.fields)
    finally:
        engine.dispose()


def test_reverted_registration_leaves_no_field_list(system, clients):
    """Concurrent registrations of one slug with different field orders: exactly one is mined; the
    field list kept must be the mined one's, not that of a registration whose transaction reverted."""
    slug = f"f12.race_{secrets.token_hex(4)}"
    provider = clients("dept-tax").address
    orders = [list(p) for p in permutations(["alpha", "beta", "gamma"])]
    admins = [ApiClient(system.api_url, keystore.load_key("admin")).login() for _ in orders]

    def register(pair):
        admin, fields = pair
        return admin.request("POST", "/v1/admin/resources", {
            "resource_id": slug, "name": "race", "provider": provider, "sharing_class": "UNCONDITIONAL",
            "sensitive": False, "fields": fields})

    try:
        with ThreadPoolExecutor(len(orders)) as pool:
            replies = list(pool.map(register, zip(admins, orders)))
    finally:
        for admin in admins:
            admin.close()
    assert sorted(r.status_code for r in replies)[0] == 201
    assert [r.status_code for r in replies].count(201) == 1, [r.text for r in replies]

    chain = operator_chain(system)
    try:
        on_chain = chain.contract("Catalog").call("resource", resource_key(slug))
    finally:
        chain.close()
    stored = _stored_fields(slug)
    assert stored is not None
    assert keccak(orjson.dumps(stored)) == on_chain[5], (
        f"the field list kept, {stored}, is not the one registered on-chain")


def test_field_list_rewritten_in_database_is_not_used(fresh_system, fresh_clients):
    """The operator swaps two field names in the database, and rewrites the stored schema hash to match:
    a consent for ``name`` (bit 0) would then release ``monthly_base``. The API must refuse to decide on
    a list the chain does not vouch for."""
    running = fresh_system()
    clients = fresh_clients(running)
    li, hrss = clients("citizen-li"), clients("dept-hrss")
    grant(li, hrss, LI, "hrss.social_insurance", ["name"], purpose="f12_check")
    assert query(hrss, LI, "hrss.social_insurance", ["name"], purpose="f12_check").status_code == 200

    running.stop("api")
    engine = make_engine()
    try:
        with make_sessionmaker(engine).begin() as session:
            row = session.get(ResourceRow, "hrss.social_insurance")
            fields = list(row.fields)
            i, j = fields.index("name"), fields.index("monthly_base")
            fields[i], fields[j] = fields[j], fields[i]
            row.fields = fields
            row.schema_hash = "0x" + keccak(orjson.dumps(fields)).hex()
    finally:
        engine.dispose()
    running.start_api()

    swapped = query(hrss, LI, "hrss.social_insurance", ["monthly_base"], purpose="f12_check")
    assert swapped.status_code == 403, f"released under a rewritten field list: {swapped.text}"
    assert swapped.json()["error"]["code"] == "UNKNOWN_RESOURCE"
    assert "data" not in swapped.json()
    log = (running.home / "api.log").read_text()
    assert "schema hash" in log and "hrss.social_insurance" in log
