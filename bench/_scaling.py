"""Scaling: cost per operation as the audit log and the consent set grow.

Audit log at 10k, 100k and (full mode) 1M entries: durable append (AuditLog on a SQLite file
already holding that many rows, its tree rebuilt by ``load``), integrity check per entry
(``check_integrity`` from the empty state, over the whole log with an anchor every tenth),
inclusion proof build + verify and its size. Consents at 1k and 100k: the release decision (projection lookup for the
(subject, department, resource) key, then ``policy.evaluate``), measured in-process because
registering 100k consents on-chain would take longer than the whole benchmark.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

from bench._audit import EntryFactory, drive, measure_proofs, open_log, prefill
from bench._stats import rnd
from bench._synthetic import anchors_for, leaf_hashes, make_leaves, random_grants
from bench._world import RESOURCE, RESOURCE_FIELDS
from ledger import policy, policy_inputs
from ledger.audit.log import AuditLog
from ledger.audit.incremental import VerifierState, check_integrity
from ledger.audit.trail import Report
from ledger.domain import (ConsentStatus, Role, SharingClass, SubjectKind, purpose_hash, resource_key_hex,
                           schema_hash_hex)
from ledger.projection import ConsentState, DepartmentState, Projection, ResourceState, SubjectState


def audit_at(size: int, work: Path, requester: str, *, append_seconds: float, log) -> dict:
    leaves = make_leaves(size, random_grants(1000, requester), block=1000)
    anchors = anchors_for(leaf_hashes(leaves), max(1, size // 10))
    started = time.perf_counter()
    check_integrity(VerifierState("bench", 1, "0x" + "00" * 20), leaves, anchors, Report())
    integrity_us = (time.perf_counter() - started) / size * 1e6
    del leaves

    path = work / f"audit-scale-{size}.db"
    engine, sessions = open_log(path)
    prefill(sessions, size, requester)
    audit = AuditLog(engine)
    started = time.perf_counter()
    audit.load()
    load_s = time.perf_counter() - started
    audit.start()
    try:
        factory = EntryFactory(requester)
        drive(audit, factory, "async", 256, 0.3)
        count, elapsed, _ = drive(audit, factory, "async", 256, append_seconds)
    finally:
        audit.stop()
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    proofs = measure_proofs(size)
    out = {"entries": size, "append_us": rnd(elapsed / count * 1e6, 1), "integrity_us": rnd(integrity_us, 2),
           "proof_build_us": proofs["proof_build_us"], "proof_verify_us": proofs["proof_verify_us"],
           "proof_bytes": proofs["proof_bytes"], "load_s": rnd(load_s, 2)}
    log(f"scaling audit {size}: {out}")
    return out


def _projection(consents: int, department: str, rng: random.Random) -> tuple[Projection, list[str], str]:
    p = Projection()
    key = resource_key_hex(RESOURCE)
    p.departments[department] = DepartmentState(department, "0x" + "00" * 32, "bench", True)
    p.roles[department] = {Role.DEPARTMENT.value}
    p.resources[key] = ResourceState(key, department, SharingClass.UNCONDITIONAL.value, True, True, len(RESOURCE_FIELDS),
                                    schema_hash_hex(tuple(RESOURCE_FIELDS)))
    purpose = "0x" + purpose_hash("pension_eligibility").hex()
    subjects = []
    now = int(time.time())
    for i in range(consents):
        sid = "0x" + rng.randbytes(32).hex()
        subjects.append(sid)
        p.subjects[sid] = SubjectState(sid, SubjectKind.PERSON.name, 1)
        p.add_consent(ConsentState("0x" + rng.randbytes(32).hex(), sid, department, {key: 0b111}, purpose,
                                   now - 60, now + 86400, 0, i, ConsentStatus.ACTIVE.value, 1, "0x"))
    return p, subjects, key


def decision_at(consents: int, department: str, samples: int = 20_000) -> dict:
    """Per-decision cost of the release policy step with ``consents`` consents in the projection."""
    rng = random.Random(consents)
    p, subjects, _ = _projection(consents, department, rng)
    now = int(time.time())
    picks = [subjects[rng.randrange(len(subjects))] for _ in range(samples)]
    started = time.perf_counter()
    allowed = 0
    for sid in picks:  # the release path's own adapter, as a query runs it
        request = policy.Request(department, sid, RESOURCE, ("name", "employer"), "pension_eligibility")
        allowed += policy_inputs.gather(p, request, RESOURCE_FIELDS).evaluate(now, lambda consent_id: 0).allowed
    per = (time.perf_counter() - started) / samples
    if allowed != samples:
        raise RuntimeError(f"consent scaling: {samples - allowed} of {samples} decisions were denials")
    return {"consents": consents, "decision_us": rnd(per * 1e6, 2)}


def growth(points: list[dict], size_key: str, cost_key: str) -> dict:
    """Cost ratio between the largest and smallest size, against the log-n allowance."""
    first, last = points[0], points[-1]
    if not first.get(cost_key) or not last.get(cost_key):
        return {}
    ratio = last[cost_key] / first[cost_key]
    log_ratio = math.log2(last[size_key]) / math.log2(first[size_key])
    return {"cost_ratio": rnd(ratio, 2), "log_n_ratio": rnd(log_ratio, 2), "within_log_n": ratio <= log_ratio * 1.25}
