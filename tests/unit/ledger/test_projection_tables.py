"""The projection in indexed tables: the same answers as the in-memory fold, a cache that never
serves a stale key, a start-up that reads only the watermark, several indexers on one database,
and migration 0007 keeping existing consents. Real SQLite (and PostgreSQL for the two indexers)."""

from __future__ import annotations

import random
import threading

import pytest
import sqlalchemy as sa
from eth_utils import keccak

import ledger.indexer as indexer_module
from ledger.domain import purpose_hash
from ledger.indexer import Indexer
from ledger.policy_inputs import is_active_department
from ledger.projection import Projection, hex32
from ledger.storage import models as m
from ledger.storage.database import make_engine, make_sessionmaker, migrate
from tests.support.log_chain import LogChain

pytestmark = pytest.mark.unit

CONTRACT = "0x" + "22" * 20
DEPARTMENTS = ["0x" + f"{i:02x}" * 20 for i in (0x11, 0x12, 0x13)]
SIGNERS = ["0x" + f"{i:02x}" * 20 for i in (0x41, 0x42, 0x43, 0x44)]
SUBJECTS = [bytes([i]) * 32 for i in range(1, 7)]
RESOURCES = [keccak(text=f"r{i}") for i in range(3)]
PURPOSES = ["loan", "pension"]
DEPARTMENT_ROLE = keccak(text="DEPARTMENT_ROLE")


def _log(block: int, index: int, name: str, args: dict) -> dict:
    return {"blockNumber": hex(block), "logIndex": hex(index), "transactionHash": "0x" + f"{block:064x}",
            "address": CONTRACT, "_event": (name, args)}


def _world(seed: int, blocks: int = 60) -> list[dict]:
    """Random but valid event history: departments, roles, resources, subjects and their signers,
    consents and revocations, sharing requests, approvals and ends, suspensions and their lifting."""
    rng = random.Random(seed)
    logs, consents, requests, suspended, verifications, registered = [], [], [], [], [], set()
    block = 2
    for d in DEPARTMENTS:
        logs.append(_log(block, len(logs), "DepartmentRegistered", {"account": d, "code": b"d" * 32, "name": d[:6]}))
        logs.append(_log(block, len(logs), "RoleGranted", {"role": DEPARTMENT_ROLE, "account": d}))
    for i, r in enumerate(RESOURCES):
        logs.append(_log(block, len(logs), "ResourceRegistered", {
            "resourceId": r, "provider": DEPARTMENTS[i % 3], "sharingClass": i % 2, "sensitive": True,
            "fieldCount": 3, "schemaHash": keccak(text=f"schema{i}")}))
    for block in range(3, blocks):
        for index in range(rng.randint(0, 4)):
            kind = rng.random()
            if kind < 0.15:
                s = rng.choice(SUBJECTS)
                if s not in registered:
                    registered.add(s)
                    event = ("SubjectRegistered", {"subjectId": s, "kind": 1, "threshold": 1})
                else:
                    event = (rng.choice(["SignerBound", "SignerUnbound"]),
                             {"subjectId": s, "signer": rng.choice(SIGNERS)})
            elif kind < 0.5 and registered:
                cid = keccak(text=f"consent{seed}-{block}-{index}")
                consents.append(cid)
                chosen = rng.sample(RESOURCES, rng.randint(1, 2))
                event = ("ConsentGranted", {
                    "consentId": cid, "subject": rng.choice(sorted(registered)), "grantee": rng.choice(DEPARTMENTS),
                    "resources": chosen, "fieldMasks": [rng.randint(1, 7) for _ in chosen],
                    "purposeHash": keccak(text=rng.choice(PURPOSES)), "validFrom": 0, "validUntil": 2 ** 40,
                    "maxUses": rng.randint(0, 3), "nonce": rng.randint(0, 2 ** 70)})
            elif kind < 0.65 and consents:
                event = ("ConsentRevoked", {"consentId": rng.choice(consents), "revokedBy": rng.choice(SIGNERS)})
            elif kind < 0.75:
                event = (rng.choice(["RoleGranted", "RoleRevoked"]),
                         {"role": DEPARTMENT_ROLE, "account": rng.choice(DEPARTMENTS)})
            elif kind < 0.8:
                event = ("DepartmentActiveSet", {"account": rng.choice(DEPARTMENTS), "active": rng.random() < 0.7})
            elif kind < 0.88:
                requests.append(len(requests) + 1)
                event = ("SharingRequested", {
                    "requestId": len(requests), "requester": rng.choice(DEPARTMENTS),
                    "resourceId": rng.choice(RESOURCES), "fieldMask": rng.randint(1, 7),
                    "purpose": keccak(text=rng.choice(PURPOSES)), "validUntil": 2 ** 40})
            elif kind < 0.95 and requests:
                event = ("SharingApproved", {"requestId": rng.choice(requests), "provider": DEPARTMENTS[0],
                                             "decidedAt": 1_700_000_000 + block})
            elif kind < 0.97 and requests:
                event = ("AgreementEnded", {"requestId": rng.choice(requests), "endedBy": DEPARTMENTS[0],
                                            "reasonHash": b"\0" * 32, "endedAt": 1_700_000_000 + block})
            elif kind < 0.985:
                suspended.append((rng.choice(RESOURCES), rng.choice(DEPARTMENTS)))
                event = ("AccessSuspended", {
                    "resourceId": suspended[-1][0], "department": suspended[-1][1],
                    "provider": DEPARTMENTS[0], "reasonHash": keccak(text=f"reason{block}"),
                    "since": 1_700_000_000 + block, "until": rng.choice([0, 1_700_000_000 + block + 5])})
            elif kind < 0.99:
                verifications.append(len(verifications) + 1)
                event = ("VerificationRequested", {
                    "requestId": len(verifications), "requester": rng.choice(DEPARTMENTS),
                    "resourceId": rng.choice(RESOURCES), "auditSeq": rng.randint(0, 99), "fieldMask": 3,
                    "reasonHash": keccak(text="doubt"), "requestedAt": 1_700_000_000 + block})
            elif kind < 0.995 and verifications:
                event = rng.choice([
                    ("VerificationExtended", {"requestId": rng.choice(verifications), "provider": DEPARTMENTS[0],
                                              "until": 1_700_100_000 + block, "reasonHash": keccak(text="later")}),
                    ("VerificationResolved", {"requestId": rng.choice(verifications), "provider": DEPARTMENTS[0],
                                              "corrected": rng.random() < 0.5, "noteHash": keccak(text="note"),
                                              "resolvedAt": 1_700_000_000 + block})])
            elif suspended:
                resource, department = rng.choice(suspended)
                event = ("SuspensionLifted", {"resourceId": resource, "department": department,
                                              "liftedBy": DEPARTMENTS[0], "liftedAt": 1_700_000_000 + block})
            else:
                continue
            logs.append(_log(block, index, *event))
    return logs


def _memory(logs: list[dict], to_block: int | None = None) -> Projection:
    p = Projection()
    for lg in logs:
        if to_block is None or int(lg["blockNumber"], 16) <= to_block:
            p.apply(*lg["_event"], lg, 1_700_000_000 + int(lg["blockNumber"], 16))
    return p


@pytest.fixture()
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'projection.db'}")
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _indexer(logs, sessions) -> Indexer:
    indexer = Indexer(LogChain(logs, CONTRACT), sessions)
    indexer.load()
    return indexer


def _answers(state) -> dict:
    """Every answer the policy and the services read, for every key of the world."""
    out = {}
    for d in DEPARTMENTS:
        out["department", d] = state.department(d)
        out["active", d] = is_active_department(state, d)
        out["roles", d] = state.has_role(d, "DEPARTMENT")
        for r in RESOURCES:
            out["suspension", d, r] = state.suspension_of(d, hex32(r))
            for purpose in PURPOSES:
                out["agreement", d, r, purpose] = state.agreement_for(d, hex32(r), purpose)
            for s in SUBJECTS:
                out["consents", d, r, s] = sorted((c.consent_id, c.status, tuple(sorted(c.resource_masks.items())))
                                                  for c in state.consents_for(hex32(s), d, hex32(r)))
    for r in RESOURCES:
        resource = state.resource(hex32(r))
        out["resource", r] = resource and (resource.provider, resource.sharing_class, resource.active)
    for s in SUBJECTS:
        out["subject", s] = state.subject_known(hex32(s))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_the_tables_answer_as_the_in_memory_fold(sessions, seed):
    logs = _world(seed)
    indexer = _indexer(logs, sessions)
    rng = random.Random(seed)
    head = LogChain(logs, CONTRACT).block_number()
    block = 1
    while block < head:  # chunks of every size, reads between them (which fill the cache)
        block = min(head, block + rng.randint(1, 15))
        indexer_module._LOG_CHUNK = rng.randint(1, 8)
        indexer.sync(block)
        memory = _memory(logs, block)
        memory.block = block
        tables = indexer.projection
        assert tables.read(lambda s: _answers(s)) == _answers(memory), block
        for s in SUBJECTS:
            subject, expected = tables.subject(hex32(s)), memory.subjects.get(hex32(s))
            assert (subject and subject.signers) == (expected and expected.signers)
        for signer in SIGNERS:
            assert tables.subjects_of_signer(signer) == memory.signer_subjects.get(signer, set())
    indexer_module._LOG_CHUNK = 5_000


def test_a_revocation_is_seen_by_the_very_next_read_despite_the_cache(sessions):
    subject, department, resource = SUBJECTS[0], DEPARTMENTS[0], RESOURCES[0]
    consent = keccak(text="c")
    logs = [
        _log(2, 0, "SubjectRegistered", {"subjectId": subject, "kind": 1, "threshold": 1}),
        _log(3, 0, "ConsentGranted", {
            "consentId": consent, "subject": subject, "grantee": department, "resources": [resource],
            "fieldMasks": [1], "purposeHash": keccak(text="loan"), "validFrom": 0, "validUntil": 2 ** 40,
            "maxUses": 0, "nonce": 1}),
        _log(5, 0, "ConsentRevoked", {"consentId": consent, "revokedBy": SIGNERS[0]}),
    ]
    indexer = _indexer(logs, sessions)
    tables = indexer.projection

    def status(state):
        return [c.status for c in state.consents_for(hex32(subject), department, hex32(resource))]

    indexer.sync(4)
    assert tables.read(status) == ["ACTIVE"]
    assert ("consents", hex32(subject), department, hex32(resource)) in tables.cache._entries
    assert tables.read(status) == ["ACTIVE"]  # from the cache now
    indexer.sync(5)
    assert tables.read(status) == ["REVOKED"]


def test_a_signer_bound_or_unbound_is_seen_by_the_very_next_read_despite_the_cache(sessions):
    subject, signer = SUBJECTS[0], SIGNERS[0]
    logs = [
        _log(2, 0, "SubjectRegistered", {"subjectId": subject, "kind": 1, "threshold": 1}),
        _log(4, 0, "SignerBound", {"subjectId": subject, "signer": signer}),
        _log(6, 0, "SignerUnbound", {"subjectId": subject, "signer": signer}),
    ]
    indexer = _indexer(logs, sessions)
    tables = indexer.projection
    indexer.sync(3)
    assert not tables.is_signer(signer)
    assert ("signer", signer) in tables.cache._entries
    indexer.sync(5)
    assert tables.is_signer(signer)
    assert tables.is_signer(signer)  # from the cache now
    indexer.sync(6)
    assert not tables.is_signer(signer)


def test_start_up_reads_only_the_watermark(tmp_path):
    url = f"sqlite:///{tmp_path / 'projection.db'}"
    migrate(make_engine(url))
    logs = _world(1)
    _indexer(logs, make_sessionmaker(make_engine(url))).sync()
    statements = []
    engine = make_engine(url)  # every statement its connections run, the ORM's and the DBAPI's alike
    sa.event.listen(engine, "connect", lambda connection, _: connection.set_trace_callback(statements.append))
    engine.dispose()
    restarted = _indexer(logs, make_sessionmaker(engine))
    reads = [s for s in statements if not s.startswith("PRAGMA")]
    assert len(reads) == 1 and "FROM indexer_state" in reads[0], reads
    assert restarted.projection.block == LogChain(logs, CONTRACT).block_number()


def _tables(sessions) -> dict:
    tables = [m.RoleRow, m.DepartmentRow, m.RegulatorRow, m.ResourceRow, m.SubjectRow, m.SubjectSignerRow,
              m.SubjectSignerChangeRow, m.ConsentRow, m.ConsentResourceRow, m.SharingRequestRow, m.AgreementRow,
              m.SuspensionRow, m.VerificationRequestRow, m.IndexerStateRow]
    with sessions() as session:
        return {t.__tablename__: sorted(tuple(row) for row in session.execute(sa.select(t.__table__)))
                for t in tables}


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_two_indexers_on_one_database_fold_each_event_once(request, tmp_path, engine_name, monkeypatch):
    url = request.getfixturevalue("postgres_url") if engine_name == "postgresql" else \
        f"sqlite:///{tmp_path / 'shared.db'}"
    logs = _world(3, blocks=120)
    engine = make_engine(url)
    migrate(engine)
    shared = make_sessionmaker(engine)
    applied = []
    write = indexer_module._write
    monkeypatch.setattr(indexer_module, "_write", lambda session, events, end: (
        applied.append(len(events)), write(session, events, end))[1])
    monkeypatch.setattr(indexer_module, "_LOG_CHUNK", 7)
    first, second = _indexer(logs, shared), _indexer(logs, shared)
    head = LogChain(logs, CONTRACT).block_number()
    errors = []

    def follow(indexer: Indexer, step: int):
        try:
            for block in range(2, head + 1, step):
                indexer.sync(block)
            indexer.sync(head)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=follow, args=(first, 3)), threading.Thread(target=follow, args=(second, 5))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(applied) == len(logs), "an event was applied twice, or not at all"

    alone = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'alone.db'}"))
    migrate(alone.kw["bind"])
    _indexer(logs, alone).sync(head)
    assert _tables(shared) == _tables(alone)
    memory = _memory(logs)
    for indexer in (first, second):  # each instance's cache was dropped for what the other folded
        assert indexer.projection.read(lambda s: _answers(s)) == _answers(memory)
    engine.dispose()


def test_migration_0007_keeps_the_consents_of_a_0006_database(tmp_path):
    from alembic import command
    from alembic.config import Config
    from pathlib import Path

    import ledger.storage.database as database
    from ledger.projection_tables import TableProjection

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(Path(database.__file__).resolve().parent / "migrations"))
    config.attributes["engine"] = engine
    command.upgrade(config, "0006_tiles")
    key_a, key_b = hex32(RESOURCES[0]), hex32(RESOURCES[1])
    with engine.begin() as connection:
        for i in range(3):
            connection.execute(sa.text(
                "INSERT INTO consents (consent_id, subject_id, grantee, resources, purpose_hash, valid_from, "
                "valid_until, max_uses, nonce, status, granted_block, granted_tx) VALUES (:id, :s, :g, :r, :p, 0, "
                "99, 0, :n, 'ACTIVE', 7, '0x')"),
                {"id": f"0x{i:064x}", "s": hex32(SUBJECTS[i % 2]), "g": DEPARTMENTS[0], "n": str(2 ** 80 + i),
                 "p": hex32(purpose_hash("loan")), "r": f'[["{key_a}", "{2 ** 70 + i}"], ["{key_b}", "1"]]'})
        connection.execute(sa.text("INSERT INTO indexer_state (name, block) VALUES ('chain', 9)"))
    command.upgrade(config, "head")
    tables = TableProjection(make_sessionmaker(engine))
    tables.cache.advance((), 9)
    found = tables.read(lambda s: s.consents_for(hex32(SUBJECTS[0]), DEPARTMENTS[0], key_b))
    assert [c.consent_id for c in found] == [f"0x{0:064x}", f"0x{2:064x}"]
    assert found[1].resource_masks == {key_a: 2 ** 70 + 2, key_b: 1} and found[1].nonce == 2 ** 80 + 2
    engine.dispose()
