"""Incremental verification: the regulator's state file, and a run that checks only what the log added.

The state (:class:`VerifierState`, JSON) names the log it belongs to (origin, chain id, AuditAnchor
address) and holds the last anchored tree head that was verified: its anchor (index, hash, block),
size and root, and the tree's right edge (:class:`~ledger.audit.tiles.RightEdge`: the partial tile
of each level, at most 255 hashes a level), from which the root of any later size follows given only
the new leaves. It also carries what the checks need from before: every consent's ALLOW count (the
policy re-check's use counts) and the time and seq of the last entry (times never go back).

A run (:func:`verify_increment`) reads the anchors after the state's from the chain, checks that the
state's anchor is still there and that the new ones link up from it, appends the new leaves' hashes
to the edge and checks every new anchored root, and checks the consistency proof from the state's
(size, root) to the newest anchored (size, root) with the pure verifier
(:func:`ledger.audit.verify.verify_consistency`), the proof built from the edge's tiles and the new
leaves alone: a log rewritten before the state's size, or one that shrank, cannot pass. The new
entries then go through the same checks as a full run (:mod:`ledger.audit.trail`): sequence,
decoding, policy at each entry's block (the chain's events are folded again each run; the state
stays small and holds nothing the chain could contradict), times and the unanchored tail. The
empty state makes the run a full verification.
"""

from __future__ import annotations

import hmac
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ledger.audit.bindings import read_consent_signer_problems
from ledger.audit.contracts import check_contracts
from ledger.audit.hasher import EMPTY_ROOT, HASH_SIZE, hash_leaf
from ledger.audit.integrate import log_origin
from ledger.audit.tiles import RightEdge, TiledTree, partial_tiles
from ledger.audit.trail import (Anchor, ChainEvents, Problem, Report, UsesBefore, block_timestamps, check_policy,
                                check_sequence, check_times, check_unanchored_tail, decode_entries,
                                links_to,
                                millis, read_anchors, read_seq, workflow_problems)
from ledger.audit.verify import verify_consistency
from ledger.chain.client import Chain
from ledger.exceptions import InvalidProof, LedgerError, TreeRangeError
from ledger.settings import DEFAULT_MAX_ANCHOR_LAG_SECONDS, DEFAULT_VERIFY_RUN_ENTRIES

__all__ = ["STATE_FORMAT", "InvalidState", "StateMismatch", "VerifierState", "check_anchors",
           "check_integrity", "verify_in_runs", "verify_increment"]

STATE_FORMAT = "consent-ledger-verifier-state/1"
_NO_ANCHOR = b"\0" * HASH_SIZE


class InvalidState(LedgerError):
    """A state file that cannot be read, or whose contents do not hold together."""


class StateMismatch(LedgerError):
    """A state of another log: another origin, chain or AuditAnchor contract."""


@dataclass(frozen=True, slots=True)
class VerifierState:
    origin: str
    chain_id: int
    audit_anchor: str
    size: int = 0
    root_hash: bytes = EMPTY_ROOT
    anchor_index: int = -1  # -1: no anchor verified yet (the empty state)
    anchor_hash: bytes = _NO_ANCHOR
    anchor_block: int = 0
    edge: tuple[bytes, ...] = ()  # RightEdge partial tiles, level 0 first
    uses: dict[str, int] = field(default_factory=dict)
    last_entry: tuple[int, int] | None = None  # (time in ms, seq) of entry size - 1
    verified_at: str = ""

    @classmethod
    def empty(cls, chain: Chain) -> VerifierState:
        """The state before anything was verified, for the chain client's (trusted) deployment."""
        anchor = chain.deployment.contracts["AuditAnchor"]
        return cls(log_origin(chain.deployment.chain_id, anchor), chain.deployment.chain_id, anchor.lower())

    def right_edge(self) -> RightEdge:
        try:
            edge = RightEdge(self.size, self.edge)
        except TreeRangeError as exc:
            raise InvalidState(f"the state's right edge does not fit its size {self.size}: {exc}") from None
        if not hmac.compare_digest(edge.root(), self.root_hash):
            raise InvalidState(f"the state's right edge does not hash to its root {self.root_hash.hex()}")
        return edge

    def check_log(self, chain: Chain) -> None:
        """Refuse a state of another log than the one the chain client's deployment anchors."""
        expected = VerifierState.empty(chain)
        for what, mine, theirs in (("origin", self.origin, expected.origin),
                                   ("chain id", self.chain_id, expected.chain_id),
                                   ("AuditAnchor contract", self.audit_anchor, expected.audit_anchor)):
            if mine != theirs:
                raise StateMismatch(f"the state belongs to another log: its {what} is {mine}, this log's is {theirs}")

    # -- the file ------------------------------------------------------------------------------
    def as_json(self) -> dict:
        return {"format": STATE_FORMAT, "origin": self.origin, "chain_id": self.chain_id,
                "audit_anchor": self.audit_anchor, "size": self.size, "root_hash": self.root_hash.hex(),
                "anchor": {"index": self.anchor_index, "hash": self.anchor_hash.hex(), "block": self.anchor_block},
                "edge": [p.hex() for p in self.edge], "uses": dict(sorted(self.uses.items())),
                "last_entry": None if self.last_entry is None else {"time_ms": self.last_entry[0],
                                                                     "seq": self.last_entry[1]},
                "verified_at": self.verified_at}

    @classmethod
    def from_json(cls, data: dict) -> VerifierState:
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise InvalidState(f"not a verifier state (expected \"format\": \"{STATE_FORMAT}\")")
        try:
            anchor, last = data["anchor"], data["last_entry"]
            state = cls(
                origin=str(data["origin"]), chain_id=_natural(data["chain_id"]), audit_anchor=str(data["audit_anchor"]),
                size=_natural(data["size"]), root_hash=_hash(data["root_hash"]), anchor_index=int(anchor["index"]),
                anchor_hash=_hash(anchor["hash"]), anchor_block=_natural(anchor["block"]),
                edge=tuple(bytes.fromhex(p) for p in data["edge"]),
                uses={str(c): _natural(n) for c, n in data["uses"].items()},
                last_entry=None if last is None else (_natural(last["time_ms"]), _natural(last["seq"])),
                verified_at=str(data.get("verified_at", "")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidState(f"the verifier state is malformed: {exc!r}") from None
        state.right_edge()  # the edge must reproduce the root it claims
        return state

    @classmethod
    def load(cls, path: str | Path) -> VerifierState:
        try:
            data = json.loads(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            raise InvalidState(f"{path}: cannot read the verifier state: {exc}") from None
        return cls.from_json(data)

    def save(self, path: str | Path) -> None:
        """Write atomically: a temporary file beside it, fsynced, then renamed over it."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(json.dumps(self.as_json(), indent=1).encode())
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)


def _natural(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a non-negative integer, got {value!r}")
    return value


def _hash(text) -> bytes:
    value = bytes.fromhex(text)
    if len(value) != HASH_SIZE:
        raise ValueError(f"expected a {HASH_SIZE}-byte hash, got {len(value)} bytes")
    return value


def _edge_tiles(size: int, partials: tuple[bytes, ...]) -> dict[tuple[int, int], bytes]:
    """The partial tiles of a tree of ``size`` leaves by tile id, as :class:`TiledTree` reads them."""
    return {(level, index): partials[level] for level, index, _ in partial_tiles(size)}


def verify_increment(chain: Chain, state: VerifierState, leaves: list[bytes], resource_fields: dict[str, list[str]],
                     *, reference_hashes: list[bytes] | None = None, check_policies: bool = True,
                     max_anchor_lag: float = DEFAULT_MAX_ANCHOR_LAG_SECONDS, now: float | None = None,
                     anchors_until: int | None = None, through_size: int | None = None, head: int | None = None,
                     events: ChainEvents | None = None,
                     progress: Callable[[int], None] | None = None) -> tuple[Report, VerifierState | None]:
    """Verify the log's entries from position ``state.size`` on (``leaves``) against the chain.

    Returns the report and, when it is OK, the state at the newest anchored tree head (``None``
    otherwise: a state never moves past a problem). ``reference_hashes`` are the committed leaf
    hashes of the same positions, if the caller has them; ``progress`` is told how many entries
    have been checked. ``anchors_until``: the block up to which anchors count, by default the chain
    head; a caller reading a live log passes the head it read *before* the leaves, so that no anchor
    covers entries committed after its read. ``through_size``: only the anchors up to the first one
    that covers more (a run of :func:`verify_in_runs` that ends before the log does); ``head`` and
    ``events``, the chain head and the policy contracts' events up to it, if the caller has read them.
    Raises :class:`StateMismatch` for a state of another log.
    """
    state.check_log(chain)
    start = state.size
    report = Report()
    report.problems += [Problem(kind, message) for kind, message in check_contracts(chain)]
    head = chain.block_number() if head is None else head
    anchors = read_anchors(chain, head if anchors_until is None else min(head, anchors_until),
                           from_block=state.anchor_block)
    if through_size is not None:
        beyond = next((i for i, a in enumerate(anchors) if a.index > state.anchor_index and a.tree_size > through_size),
                      len(anchors))
        anchors = anchors[:beyond]
    if state.anchor_index >= 0:
        own = next((a for a in anchors if a.index == state.anchor_index), None)
        if own is None or not hmac.compare_digest(own.anchor_hash, state.anchor_hash):
            report.problems.append(Problem(
                "STATE_ANCHOR_GONE", f"anchor {state.anchor_index}, which the state verified at block "
                                     f"{state.anchor_block}, is not on the chain as it was: the chain was rewritten"))
            return report, None
    new = [a for a in anchors if a.index > state.anchor_index]
    good = check_integrity(state, leaves, new, report, reference_hashes)
    if progress is not None:
        progress(0)

    entries = decode_entries(leaves, report, start)
    timestamps: dict[int, int] = {}
    if check_policies:
        if events is None or events.head != head:
            events = ChainEvents.read(chain, head)
        timestamps = check_policy(chain, leaves, resource_fields, report, head, entries, uses_before=state.uses,
                                  events=events, progress=progress)
        report.problems += [Problem(p.kind, p.message) for p in read_consent_signer_problems(chain, head)]
    elif progress is not None:
        progress(len(leaves))
    cited = {e.block_number for e in entries if e is not None and e.block_number <= head}
    wanted = cited | {b + 1 for b in cited if b < head} | {a.block_number for a in new} | {head}
    timestamps = block_timestamps(chain, wanted, timestamps)
    if check_policies:
        report.problems += workflow_problems(chain, events, timestamps[head])
    check_times(entries, new, timestamps, head, report, start=start, previous=state.last_entry)
    anchored = new[-1].tree_size if new else state.size
    check_unanchored_tail(entries, anchored, max(timestamps[head], time.time()) if now is None else now,
                          max_anchor_lag, report, start)
    if not report.ok or good is None:
        return report, None
    if good is state:
        return report, replace(state, verified_at=_now())
    anchor, edge = good
    covered = [e for e in entries[:anchor.tree_size - start] if e is not None]
    last = covered[-1] if covered else None
    return report, replace(
        state, size=anchor.tree_size, root_hash=anchor.root_hash, anchor_index=anchor.index,
        anchor_hash=anchor.anchor_hash, anchor_block=anchor.block_number, edge=edge,
        uses=UsesBefore(covered, state.uses).totals(),
        last_entry=(millis(last), last.seq) if last is not None else state.last_entry, verified_at=_now())


def verify_in_runs(chain: Chain, state: VerifierState, leaves: Sequence[bytes], resource_fields: dict[str, list[str]],
                   *, reference_hashes: Sequence[bytes] | None = None, run_entries: int = DEFAULT_VERIFY_RUN_ENTRIES,
                   anchors_until: int | None = None, progress: Callable[[int], None] | None = None,
                   **options) -> tuple[Report, VerifierState | None]:
    """:func:`verify_increment` over ``leaves`` (a list, or any sequence that reads a slice when asked)
    in runs of about ``run_entries`` entries, each ending at an anchored size, so that memory holds
    one run rather than the log: a full verification of years of log fits where one run fits.

    The chain head and the policy contracts' events are read once for all runs. Each run starts from
    the state the one before reached; the first run that finds a problem is the last (a state never
    moves past a problem), and its report says how many entries were checked. ``options`` go to
    :func:`verify_increment` as they are.
    """
    state.check_log(chain)
    head = chain.block_number()
    until = head if anchors_until is None else min(head, anchors_until)
    start, end = state.size, state.size + len(leaves)
    cuts = _run_ends(start, end, [a.tree_size for a in read_anchors(chain, until, from_block=state.anchor_block)
                                  if a.index > state.anchor_index], run_entries)
    events = ChainEvents.read(chain, head) if options.get("check_policies", True) else None
    total = Report()
    while True:
        first = state.size
        last = next((c for c in cuts if c > first), end)
        part = reference_hashes[first - start:last - start] if reference_hashes is not None else None
        report, moved = verify_increment(
            chain, state, leaves[first - start:last - start], resource_fields, reference_hashes=part,
            anchors_until=until, through_size=None if last == end else last, head=head, events=events,
            progress=None if progress is None else (lambda done, first=first: progress(first - start + done)),
            **options)
        total.entries_checked = first - start + report.entries_checked
        total.anchors_checked += report.anchors_checked
        total.allows_reevaluated += report.allows_reevaluated
        total.unanchored_entries = report.unanchored_entries
        total.problems += report.problems
        if moved is None or last == end:
            return total, moved
        if moved.size <= first:  # no anchor ended the run where it should have: check the rest at once
            cuts = []
        state = moved


def _run_ends(start: int, end: int, anchored_sizes: list[int], run_entries: int) -> list[int]:
    """Anchored sizes strictly between ``start`` and ``end`` at which runs of about ``run_entries``
    end: the last one within reach of each run's start, or the next one when none is."""
    sizes = sorted({s for s in anchored_sizes if start < s < end})
    ends, at = [], start
    for i, size in enumerate(sizes):
        following = sizes[i + 1] if i + 1 < len(sizes) else end
        if following - at > run_entries:
            ends.append(size)
            at = size
    return ends


def check_integrity(state: VerifierState, leaves: list[bytes], new: list[Anchor], report: Report,
                    reference_hashes: list[bytes] | None = None
                    ) -> VerifierState | tuple[Anchor, tuple[bytes, ...]] | None:
    """The entries from position ``state.size`` on (``leaves``): each one's seq, against
    ``reference_hashes`` (the committed leaf hashes, if the caller has them), their order, and the
    anchors after the state's (:func:`check_anchors`, whose result this returns). Only the seq is
    read from each leaf (the hash covers the rest): full decoding is the policy step's."""
    start = state.size
    hashes = [hash_leaf(leaf) for leaf in leaves]
    seqs = [read_seq(leaf) for leaf in leaves]
    for position, seq in enumerate(seqs, start):
        if seq is None:
            report.problems.append(Problem("MALFORMED_ENTRY", f"entry at position {position} has no readable seq",
                                           position))
    if reference_hashes is not None:
        for position, (mine, committed) in enumerate(zip(hashes, reference_hashes), start):
            if not hmac.compare_digest(mine, committed):
                report.problems.append(Problem("ENTRY_ALTERED", f"entry {position} differs from the committed leaf",
                                               position))
    check_sequence(seqs, report, start)
    report.entries_checked = len(leaves)
    report.unanchored_entries = max(0, start + len(leaves) - (new[-1].tree_size if new else start))
    return check_anchors(state, new, hashes, report)


def check_anchors(state: VerifierState, new: list[Anchor], hashes: list[bytes],
                   report: Report) -> VerifierState | tuple[Anchor, tuple[bytes, ...]] | None:
    """Links, sizes and roots of the anchors after the state's, and the consistency proof from the
    state's head to the newest one. Returns the newest anchor with the edge at its size, ``state``
    if no anchor came, or ``None`` if any check failed."""
    start, end = state.size, state.size + len(hashes)
    edge = state.right_edge()
    tiles = _edge_tiles(state.size, state.edge)
    previous_hash, previous_size = state.anchor_hash, state.size
    good_size, failed = state.size, False
    for anchor in new:
        report.anchors_checked += 1
        if not links_to(anchor, previous_hash):
            failed = True
            report.problems.append(Problem("ANCHOR_CHAIN_BROKEN", f"anchor {anchor.index} does not link to its "
                                                                   f"predecessor"))
        if anchor.tree_size < state.size:
            failed = True
            report.problems.append(Problem("LOG_SHRANK", f"anchor {anchor.index} covers {anchor.tree_size} entries, "
                                                          f"fewer than the {state.size} already verified"))
        elif anchor.tree_size <= previous_size:
            failed = True
            report.problems.append(Problem("ANCHOR_NOT_INCREASING", f"anchor {anchor.index} size {anchor.tree_size}"))
        if anchor.tree_size > end:
            failed = True
            report.problems.append(Problem(
                "ENTRIES_MISSING", f"anchor {anchor.index} covers {anchor.tree_size} entries; the log has {end}", end))
        elif anchor.tree_size >= edge.size:
            changed = edge.append(hashes[edge.size - start:anchor.tree_size - start])
            if state.size:  # the consistency proof from the state's head reads them; a full run has none
                tiles |= changed
            if not hmac.compare_digest(edge.root(), anchor.root_hash):
                failed = True
                report.problems.append(Problem(
                    "ANCHOR_ROOT_MISMATCH", f"the log's first {anchor.tree_size} entries do not hash to the root "
                                            f"anchored at block {anchor.block_number}: an entry in seq {good_size}.."
                                            f"{anchor.tree_size - 1} was altered, removed or reordered", good_size))
            else:
                good_size = anchor.tree_size
        previous_hash, previous_size = anchor.anchor_hash, anchor.tree_size
    if not new:
        if end < state.size:
            report.problems.append(Problem("LOG_SHRANK", f"the log has {end} entries, fewer than the {state.size} "
                                                          f"already verified"))
            return None
        return state
    newest = new[-1]
    if state.size and state.size <= newest.tree_size <= end:
        try:
            proof = TiledTree(lambda ids: {i: tiles[i] for i in ids if i in tiles}).consistency_proof(
                state.size, newest.tree_size)
            verify_consistency(state.size, newest.tree_size, proof, state.root_hash, newest.root_hash)
        except (InvalidProof, TreeRangeError) as exc:
            failed = True
            report.problems.append(Problem(
                "LOG_INCONSISTENT", f"the tree head anchored at size {newest.tree_size} does not extend the verified "
                                    f"head at size {state.size}: the log was rewritten before seq {state.size}, or "
                                    f"entries from seq {state.size} on differ from those anchored ({exc})", state.size))
    if failed:
        return None
    return newest, edge.partials  # every anchor passed, so the edge stands at the newest one's size


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
