"""Finding 11: a decision could use state of block H+1 while recording H (a false POLICY_VIOLATION).

The indexer's background thread folds block H+1 while a query is being decided. Interleaved
deterministically: the query has read the watermark (H) and its first row when the fold of a
consent granted at H+1 commits; the query's next reads see that consent. A release under it must
cite a block at which the consent existed (>= H+1).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import UTC, datetime

from eth_utils import keccak

from api.core.security import Principal
from api.schemas.records import RecordQuery
from api.services.catalog import ResourceMeta
from api.services.release import ReleaseService
from ledger import policy
from ledger.audit.log import Slot
from ledger.identity import subject_id
import ledger.projection_tables as projection_tables
from ledger.indexer import Indexer
from ledger.storage.database import make_engine, make_sessionmaker, migrate
from tests.support.log_chain import BlockTimes, LogChain

PEPPER = b"p" * 32
DEPARTMENT = "0x" + "11" * 20
CONTRACT = "0x" + "22" * 20
SLUG, FIELDS, PURPOSE = "hrss.social_insurance", ("name", "employer"), "race"
ID = {"id_type": "resident_id", "id_number": "370102198506124536"}
SUBJECT = subject_id(PEPPER, ID["id_type"], ID["id_number"])
H = 10


def _log(block: int, index: int, name: str, args: dict) -> dict:
    return {"blockNumber": hex(block), "logIndex": hex(index), "transactionHash": "0x" + f"{block:064x}",
            "address": CONTRACT, "_event": (name, args)}


WORLD_AT_H = [  # a department, a sensitive resource and a subject, all before H
    _log(H, 0, "DepartmentRegistered", {"account": DEPARTMENT, "code": b"d" * 32, "name": "hrss"}),
    _log(H, 1, "RoleGranted", {"role": keccak(text="DEPARTMENT_ROLE"), "account": DEPARTMENT}),
    _log(H, 2, "ResourceRegistered", {"resourceId": keccak(text=SLUG), "provider": DEPARTMENT, "sharingClass": 0,
                                      "sensitive": True, "fieldCount": 2, "schemaHash": policy.schema_hash(FIELDS)}),
    _log(H, 3, "SubjectRegistered", {"subjectId": SUBJECT, "kind": 1, "threshold": 1}),
]
AT_H_PLUS_1 = [  # the consent, and another event of the same block after it
    _log(H + 1, 0, "ConsentGranted", {
        "consentId": b"c" * 32, "subject": SUBJECT, "grantee": DEPARTMENT, "resources": [keccak(text=SLUG)],
        "fieldMasks": [1], "purposeHash": keccak(text=PURPOSE), "validFrom": 0, "validUntil": 2 ** 40,
        "maxUses": 0, "nonce": 1}),
    _log(H + 1, 1, "RegulatorRegistered", {"account": "0x" + "33" * 20, "name": "regulator"}),
]


class _Rpc(BlockTimes):
    @staticmethod
    async def call(method, params=None):
        assert method == "eth_blockNumber"
        return hex(H)  # the query's fresh head: H+1 was not mined yet when it asked


class _Audit:
    async def append_async(self, decide, *, cites=()):
        return decide(Slot(0, datetime.min.replace(tzinfo=UTC), lambda consent_id: 0))


class _Resources:
    by_slug = {SLUG: ResourceMeta(SLUG, "0x" + keccak(text=SLUG).hex(), "social insurance", FIELDS,
                                  "0x" + policy.schema_hash(FIELDS).hex())}


def _release_service(indexer: Indexer) -> ReleaseService:
    return ReleaseService(pepper=PEPPER, salt_key=b"salt" * 8, indexer=indexer, audit=_Audit(),
                          anchorer=type("Anchorer", (), {"lag_seconds": staticmethod(lambda: 0.0)})(),
                          max_anchor_lag_seconds=10.0, resources=_Resources(), engine=None, sessions=None,
                          sealer=None)


def test_a_decision_never_cites_a_block_older_than_the_state_it_used(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    migrate(engine)
    indexer = Indexer(LogChain(WORLD_AT_H + AT_H_PLUS_1, CONTRACT, deploy_block=H, rpc=_Rpc()),
                      make_sessionmaker(engine))
    indexer.load()
    indexer.sync(H)
    indexer._async_rpc = _Rpc()
    service = _release_service(indexer)
    service._open_record = lambda resource_id, sid, fields: {"name": "张伟"}

    folded = threading.Event()
    read_department = projection_tables.read_department

    def fold_midway(session, address):  # the query's first row read: the fold of H+1 commits now
        found = read_department(session, address)
        if not folded.is_set():
            fold = threading.Thread(target=indexer.sync, args=(H + 1,))
            fold.start()
            fold.join(10)
            folded.set()
        return found

    monkeypatch.setattr(projection_tables, "read_department", fold_midway)
    outcome = asyncio.run(service.query(Principal(DEPARTMENT, frozenset({"DEPARTMENT"})),
                                        RecordQuery(**ID, resource_id=SLUG, fields=["name"], purpose=PURPOSE)))
    engine.dispose()

    assert folded.is_set() and indexer.projection.block == H + 1
    assert outcome.released, outcome.entry
    assert outcome.entry.block_number >= H + 1, (
        f"released under a consent granted at block {H + 1} but cites block {outcome.entry.block_number}")


def test_releases_decided_while_grants_are_folded_all_verify(system, clients, tmp_path):
    """The real system: departments query for the consent being granted right now, so decisions
    race the folds of its block; afterwards every release re-verifies at the block it cites."""
    from ledger.client import ApiClient
    from ledger import keystore
    from tests.redteam.conftest import verify_export
    from tests.support.flows import ZHANG, grant, query

    zhang, hrss = clients("citizen-zhang"), clients("dept-hrss")
    current = ["finding11_0"]
    stop = threading.Event()
    statuses: Counter = Counter()

    key = keystore.load_key("dept-hrss")

    def hammer():
        client = ApiClient(system.api_url, key)
        client.token = hrss.token
        while not stop.is_set():
            statuses[query(client, ZHANG, "hrss.social_insurance", ["name"], purpose=current[0]).status_code] += 1
        client.close()

    workers = [threading.Thread(target=hammer) for _ in range(4)]
    for worker in workers:
        worker.start()
    while not statuses and all(worker.is_alive() for worker in workers):
        time.sleep(0.05)
    try:
        for round_ in range(6):
            current[0] = f"finding11_{round_}"
            grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"], purpose=current[0])
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert statuses[200] and statuses[403], statuses
    report = verify_export(system, tmp_path)
    false_alarms = [p for p in report["problems"] if p["kind"] in (
        "POLICY_VIOLATION", "CONSENT_NOT_NAMED", "ENTRY_BLOCK_STALE", "ENTRY_BEFORE_BLOCK", "TIME_NOT_MONOTONIC",
        "ENTRY_AFTER_ANCHOR")]
    assert false_alarms == [], false_alarms[:10]
