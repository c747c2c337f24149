"""The API with N consents in its projection tables: time to /readyz, RSS, release latency at c1.

How the rows are made: a real system (devnet, contracts, API) is set up with the bench world
(``bench._world.build_world``: the demo departments, ``hrss.social_insurance`` registered on-chain,
a few citizens with real consents), the API is stopped, and its database gets N synthetic consents
by bulk INSERT into the projection tables, in transactions of ``_BATCH`` rows: N/2 subjects with
valid resident ID numbers (``resident_id``, from index 1,000,000 on, so never a bench citizen's),
keyed as the API keys them (HMAC with the system's pepper), each with one random bound signer and
two consents, one to dept-hrss for the resource and purpose the bench queries, one to another demo
department for another purpose. The tables then look as if the chain had granted them; the chain
does not hold them (granting 10M consents on-chain is a separate benchmark).

The API is started again on that database and timed to /readyz; its RSS is read once ready; then
a few hundred of the synthetic subjects get a record (through the API, as the provider) and the
release is driven at concurrency 1 for them, so each decision looks up one of N consents.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from bench._loadgen import LoadSpec, render_post, run_load
from bench._stats import percentile, rnd
from bench._world import DEPARTMENT, GRANTED, PURPOSE, RESOURCE, RESOURCE_FIELDS, build_world, resident_id
from bench.local_system import LocalSystem

_BATCH = 50_000
_FIRST = 1_000_000
_QUERIED = 200


def _fill(database_url: str, pepper: bytes, consents: int, hrss: str, other: str, log) -> float:
    """Insert ``consents`` synthetic consents (two per subject); the seconds it took.

    On the raw DBAPI connection, each batch's rows sorted by primary key; on SQLite with a 4 GiB
    page cache and no fsync for the fill (a crashed fill is simply run again): the tables' seven
    indexes take random keys, and with the default 2 MB cache each insert read its B-tree pages
    from the file (1M consents took 222 s, 100k 11 s)."""
    from eth_utils import keccak

    from ledger.domain import purpose_hash
    from ledger.identity import subject_id
    from ledger.storage import models as m
    from ledger.storage.database import make_engine

    rng = random.Random(consents)
    resource_key = "0x" + keccak(text=RESOURCE).hex()
    hrss_mask = str(sum(1 << RESOURCE_FIELDS.index(f) for f in GRANTED))
    purposes = ("0x" + purpose_hash(PURPOSE).hex(), "0x" + purpose_hash("synthetic_other").hex())
    engine = make_engine(database_url)
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"

    def insert(table, columns: tuple[str, ...]) -> str:
        return (f"INSERT INTO {table.__tablename__} ({', '.join(columns)}) "
                f"VALUES ({', '.join([mark] * len(columns))})")

    subject_sql = insert(m.SubjectRow, ("subject_id", "kind", "threshold"))
    signer_sql = insert(m.SubjectSignerRow, ("subject_id", "signer"))
    consent_sql = insert(m.ConsentRow, ("consent_id", "subject_id", "grantee", "purpose_hash", "purpose",
                                        "valid_from", "valid_until", "max_uses", "nonce", "status",
                                        "granted_block", "granted_tx", "ended_block", "ended_by"))
    resource_sql = insert(m.ConsentResourceRow, ("consent_id", "resource_key", "field_mask", "subject_id",
                                                 "grantee"))
    raw = engine.raw_connection()
    started = time.perf_counter()
    subjects = consents // 2
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            for pragma in ("synchronous=OFF", "cache_size=-4194304", "temp_store=MEMORY"):
                cursor.execute(f"PRAGMA {pragma}")
        for first in range(0, subjects, _BATCH // 2):
            batch = range(first, min(subjects, first + _BATCH // 2))
            subject_rows, signer_rows, consent_rows, resource_rows = [], [], [], []
            for i in batch:
                sid = "0x" + subject_id(pepper, "resident_id", resident_id(_FIRST + i)).hex()
                subject_rows.append((sid, "PERSON", 1))
                signer_rows.append((sid, "0x" + rng.randbytes(20).hex()))
                for grantee, purpose, mask in ((hrss, purposes[0], hrss_mask), (other, purposes[1], "1")):
                    cid = "0x" + rng.randbytes(32).hex()
                    consent_rows.append((cid, sid, grantee, purpose, None, 0, 2 ** 40, 0, str(rng.getrandbits(64)),
                                         "ACTIVE", 1, "0x" + "00" * 32, None, None))
                    resource_rows.append((cid, resource_key, mask, sid, grantee))
            for sql, rows in ((subject_sql, subject_rows), (signer_sql, signer_rows), (consent_sql, consent_rows),
                              (resource_sql, resource_rows)):
                rows.sort()
                cursor.executemany(sql, rows)
            raw.commit()
            if first // (_BATCH // 2) % 20 == 0:
                log(f"scale consents: {2 * batch.stop:,} of {consents:,} inserted "
                    f"({time.perf_counter() - started:.0f} s)")
        cursor.close()
    finally:
        raw.close()
        engine.dispose()
    return time.perf_counter() - started


def _rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (the API's process group)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) != pid and int(entry) != pid:  # stat[2]: the process group
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024


def measure(work: Path, consents: int, log, *, seconds: float = 10.0) -> dict:
    """The API over ``consents`` synthetic consents: RSS, start-up and release p50/p99 at c1."""
    import httpx

    from ledger import keystore
    from ledger.identity import load_or_create_pepper
    from ledger.settings import Settings

    system = LocalSystem.create(work / f"consents-{consents}")
    system.activate()  # this process's keystore and database are the system's
    try:
        system.start_devnet()
        system.deploy()
        system.start_api()
        world = build_world(system.api_url, citizens=2, unconsented=0)
        hrss = world.department.address  # the demo world made both departments
        other = keystore.address_of("dept-housing-fund")
        world.close()
        system.stop("api")
        fill_s = _fill(Settings.from_env().database_url, load_or_create_pepper(system.home), consents, hrss, other,
                       log)
        log(f"scale consents: {consents:,} inserted in {fill_s:.1f} s")

        started = time.perf_counter()
        system.start_api()
        startup_s = time.perf_counter() - started
        rss_mb = _rss_mb(system.pid("api"))

        from ledger.client import ApiClient
        provider = ApiClient(system.api_url, keystore.load_key(DEPARTMENT)).login()
        rng = random.Random(7)
        picked = rng.sample(range(consents // 2), min(_QUERIED, consents // 2))
        bodies = []
        for i in picked:
            subject = {"id_type": "resident_id", "id_number": resident_id(_FIRST + i)}
            provider.put(f"/v1/resources/{RESOURCE}/records", {**subject, "data": {"name": f"合成{i}"}})
            bodies.append({**subject, "resource_id": RESOURCE, "fields": ["name"], "purpose": PURPOSE})
        host, port = "127.0.0.1", int(system.api_url.rsplit(":", 1)[1])
        with httpx.Client(base_url=system.api_url, timeout=30,
                          headers={"authorization": f"Bearer {provider.token}"}) as http:
            status = http.post("/v1/records/query", json=bodies[0]).status_code
            if status != 200:
                raise RuntimeError(f"a synthetic consent's query answered {status}, not 200")
        requests = [render_post(host, port, "/v1/records/query", body, provider.token) for body in bodies]
        result = run_load(LoadSpec(host, port, requests, 1, seconds, 1.0))
        provider.close()
        if result.statuses.get(200, 0) != len(result.latencies):
            raise RuntimeError(f"scale consents: not every query was released: {result.statuses}")
        ms = [x * 1000 for x in result.latencies]
        out = {"consents": consents, "rss_mb": rnd(rss_mb, 1), "startup_s": rnd(startup_s, 2),
               "release_p50_ms": rnd(percentile(ms, 50), 2), "release_p99_ms": rnd(percentile(ms, 99), 2),
               "fill_s": rnd(fill_s, 1)}
        log(f"scale consents: {out}")
        return out
    finally:
        system.stop_all()


if __name__ == "__main__":  # python -m bench._scale_consents WORK N [N ...]
    import json
    import sys

    work = Path(sys.argv[1])
    print(json.dumps([measure(work, int(n), lambda m: print(m, flush=True)) for n in sys.argv[2:]]))
