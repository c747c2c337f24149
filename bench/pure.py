"""Throughput of the pure modules (not a test): Merkle log at 1M leaves, policy, identity, workdays.

Run: .venv/bin/python -m bench.pure [leaves]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import resource
import sys
import time
import timeit

from ledger.audit import MerkleTree, verify_consistency, verify_inclusion
from ledger.identity import normalize_id, subject_id
from ledger.policy import (
    Block,
    Consent,
    ConsentStatus,
    Department,
    Request,
    Resource,
    SharingClass,
    evaluate,
    purpose_hash,
    resource_key,
)
from ledger.workdays import add_working_days


def per_call(fn, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=3)) / number


def bench_merkle(n: int) -> None:
    hashes = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tree = MerkleTree()
    t0 = time.perf_counter()
    for h in hashes:
        tree.append(h)
    elapsed = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stored = sum(len(level) for level in tree._levels)
    print(f"merkle append: {n:,} leaves in {elapsed:.2f} s = {n / elapsed:,.0f} leaves/s")
    print(f"merkle storage: {stored / 2**20:.1f} MiB of packed hashes; max RSS grew {(rss1 - rss0) / 1024:.0f} MiB")
    bulk = MerkleTree()
    t0 = time.perf_counter()
    bulk.extend(hashes)
    print(f"merkle extend (rebuild from stored leaf hashes): {n / (time.perf_counter() - t0):,.0f} leaves/s")
    assert bulk.root() == tree.root()

    rng = random.Random(1)
    root = tree.root()
    k = 5000
    idx = [rng.randrange(n) for _ in range(k)]
    t0 = time.perf_counter()
    proofs = [tree.inclusion_proof(i) for i in idx]
    build = (time.perf_counter() - t0) / k
    t0 = time.perf_counter()
    for i, p in zip(idx, proofs):
        verify_inclusion(hashes[i], i, n, p, root)
    verify = (time.perf_counter() - t0) / k
    print(f"inclusion proof at {n:,}: build {build * 1e6:.1f} us + verify {verify * 1e6:.1f} us ({len(proofs[0])} nodes)")
    sizes = [rng.randrange(1, n) for _ in range(k)]
    t0 = time.perf_counter()
    cps = [tree.consistency_proof(m) for m in sizes]
    build = (time.perf_counter() - t0) / k
    roots = [tree.root(m) for m in sizes]
    t0 = time.perf_counter()
    for m, p, r in zip(sizes, cps, roots):
        verify_consistency(m, n, p, r, root)
    verify = (time.perf_counter() - t0) / k
    print(f"consistency proof m -> {n:,}: build {build * 1e6:.1f} us + verify {verify * 1e6:.1f} us")
    print(f"root at a past size: {per_call(lambda: tree.root(rng.randrange(1, n)), 20000) * 1e6:.1f} us")


def bench_policy() -> None:
    dept = "0x1111111111111111111111111111111111111111"
    res = Resource("hrss.social_insurance", resource_key("hrss.social_insurance"), dept, SharingClass.UNCONDITIONAL,
                   True, True, ("name", "id_number", "insured_since", "employer", "monthly_base"))
    subject = bytes(32)
    consents = [
        Consent(f"0x{i:064x}", subject, dept, {res.resource_key: 0b11111}, purpose_hash("p" if i == 2 else "q"),
                0, 2_000_000_000, 0, ConsentStatus.ACTIVE) for i in range(3)
    ]
    req = Request(dept, subject, res.resource_id, ("name", "employer"), "p")
    department = Department(dept, "X", True)
    block = Block(10, 1_760_000_000)

    def call():
        return evaluate(req, department=department, resource=res, subject_known=True, agreement=None,
                        consents=consents, block=block)

    assert call().allowed
    print(f"policy evaluate (sensitive, 3 candidate consents): {per_call(call, 200_000) * 1e6:.2f} us/call")


def bench_identity_workdays() -> None:
    pepper = bytes(range(32))
    print(f"normalize_id(resident_id): {per_call(lambda: normalize_id('resident_id', '11010519491231002X'), 50_000) * 1e6:.1f} us")
    print(f"subject_id(uscc): {per_call(lambda: subject_id(pepper, 'uscc', '91350100M000100Y43'), 50_000) * 1e6:.1f} us")
    start = dt.datetime(2025, 9, 30, 2, tzinfo=dt.timezone.utc)
    print(f"add_working_days(+10): {per_call(lambda: add_working_days(start, 10), 20_000) * 1e6:.1f} us")


if __name__ == "__main__":
    bench_merkle(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    bench_policy()
    bench_identity_workdays()
