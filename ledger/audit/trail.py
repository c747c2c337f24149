"""The checks of an audit trail against the chain, trusting nothing but the chain and the leaves:
sequence, decoding, policy, times. A run of them, with the leaves' integrity against the on-chain
anchors, is :func:`ledger.audit.incremental.verify_increment` (from the empty state: a full one).

Sequence: every leaf's ``seq`` equals its position, so a deleted, duplicated or reordered row
shows as a gap or a misplaced seq.

Policy: each ALLOW is re-evaluated with :func:`ledger.policy.evaluate` against chain state at
the entry's block, folded from the contracts' own events, through the same adapter as the live
decision (:mod:`ledger.policy_inputs`), with the use counts of every consent implied by the log's
order. Only the consent an entry names may justify it: a release that needed a consent and names
none is ``CONSENT_NOT_NAMED``; one after its provider suspended the requester's access is
``RELEASE_WHILE_SUSPENDED``; one under an emergency outside its declared scope or window is
``RELEASE_OUTSIDE_EMERGENCY``. Field lists come with the export and are checked against the
on-chain schema hash.

Times (nothing in an entry is taken on the operator's word, DESIGN §1.5): the cited block must
be one the chain had at the entry's time and the newest one then (``ENTRY_BEFORE_BLOCK``,
``ENTRY_BLOCK_STALE``), times never go back along seq (``TIME_NOT_MONOTONIC``), an entry is no
later than the anchor that first covers it (``ENTRY_AFTER_ANCHOR``), each within
``TIME_TOLERANCE_MS`` (2 s: block timestamps are whole seconds, clocks differ); and entries no
anchor covers must be younger than the anchor-lag bound (``UNANCHORED_TAIL``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from eth_abi import encode as abi_encode
from eth_utils import keccak

from ledger import policy, policy_inputs
from ledger.audit.entry import AuditEntry, decode_leaf, format_time
from ledger.deadlines import (VERIFICATION_MAX_WORKING_DAYS, emergency_review_due, objection_due,
                              working_days_after)
from ledger.chain.client import Chain
from ledger.domain import resource_key_hex, schema_hash_hex
from ledger.exceptions import LedgerError
from ledger.projection import Projection

#: The contracts whose events the policy fold reads; not AuditAnchor, whose one event a second would
#: make every run read the whole history of anchors for nothing.
_CONTRACTS = ("Participants", "Subjects", "Catalog", "Consents", "Objections")
_LOG_CHUNK = 10_000
_HEADER_BATCH = 500
_PROGRESS_EVERY = 1_000

#: Slack on every comparison of an entry's time (ms) with a block timestamp (whole seconds): 1 s
#: because a block stamped t was mined during [t, t + 1), 1 s for the clocks of the API host and
#: the node and the time from reading the chain to stamping the entry.
TIME_TOLERANCE_MS = 2_000


@dataclass(slots=True)
class Problem:
    kind: str
    message: str
    seq: int | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "seq": self.seq, "message": self.message}


@dataclass(slots=True)
class Report:
    entries_checked: int = 0
    anchors_checked: int = 0
    allows_reevaluated: int = 0
    unanchored_entries: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries_checked": self.entries_checked, "anchors_checked": self.anchors_checked,
                "allows_reevaluated": self.allows_reevaluated, "unanchored_entries": self.unanchored_entries,
                "problems": [p.as_dict() for p in self.problems]}


@dataclass(frozen=True, slots=True)
class Anchor:
    index: int
    tree_size: int
    root_hash: bytes
    previous_anchor_hash: bytes
    anchor_hash: bytes
    block_number: int
    tx_hash: str


def _chain_logs(chain: Chain, names: tuple[str, ...], head: int, from_block: int | None = None) -> list[dict]:
    deployment = chain.deployment
    addresses = [deployment.contracts[n] for n in names]
    logs, start = [], max(deployment.deploy_block, from_block or 0)
    while start <= head:
        end = min(head, start + _LOG_CHUNK - 1)
        logs += chain.get_logs(addresses, start, end)
        start = end + 1
    logs.sort(key=lambda lg: (int(lg["blockNumber"], 16), int(lg["logIndex"], 16)))
    return logs


def read_anchors(chain: Chain, head: int | None = None, from_block: int | None = None) -> list[Anchor]:
    """Every tree head anchored by the AuditAnchor contract (from ``from_block`` on), in order."""
    head = chain.block_number() if head is None else head
    contract = chain.contract("AuditAnchor")
    anchors = []
    for lg in _chain_logs(chain, ("AuditAnchor",), head, from_block):
        decoded = contract.abi.decode_log(lg)
        if decoded and decoded[0] == "TreeHeadAnchored":
            a = decoded[1]
            anchors.append(Anchor(a["index"], a["treeSize"], a["rootHash"], a["previousAnchorHash"],
                                  a["anchorHash"], int(lg["blockNumber"], 16), lg["transactionHash"]))
    return anchors


def links_to(anchor: Anchor, previous_hash: bytes) -> bool:
    """Whether ``anchor`` names ``previous_hash`` as its predecessor and its own hash is the contract's
    ``keccak(previous, size, root)``."""
    linked = keccak(abi_encode(["bytes32", "uint64", "bytes32"], [previous_hash, anchor.tree_size, anchor.root_hash]))
    return anchor.previous_anchor_hash == previous_hash and anchor.anchor_hash == linked


def read_seq(leaf: bytes) -> int | None:
    try:
        seq = orjson.loads(leaf).get("seq")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return seq if type(seq) is int and seq >= 0 else None


def check_sequence(seqs: list[int | None], report: Report, start: int = 0) -> None:
    """Seqs must run ``start``, ``start + 1``, ... in log order: name each one out of place, duplicated
    or missing."""
    seen: set[int] = set()
    previous = start - 1
    for position, seq in enumerate(seqs):
        if seq is None:
            continue
        if seq in seen:
            report.problems.append(Problem("ENTRY_DUPLICATED", f"seq {seq} appears twice", seq))
        elif seq < previous:
            report.problems.append(Problem("ENTRY_OUT_OF_ORDER", f"seq {seq} stands at position {position}, "
                                                                 f"after seq {previous}", seq))
        seen.add(seq)
        previous = max(previous, seq)
    for missing in sorted(set(range(start, previous + 1)) - seen)[:100]:
        report.problems.append(Problem("ENTRY_MISSING", f"seq {missing} is missing from the log", missing))


def decode_entries(leaves: list[bytes], report: Report, start: int = 0) -> list[AuditEntry | None]:
    """Every leaf (the first at position ``start``) decoded strictly (canonical form); a leaf that is
    not is reported, once."""
    flagged = {p.seq for p in report.problems if p.kind == "MALFORMED_ENTRY"}
    entries: list[AuditEntry | None] = []
    for position, leaf in enumerate(leaves, start):
        try:
            entries.append(decode_leaf(leaf))
        except LedgerError as exc:
            if position not in flagged:
                report.problems.append(Problem("MALFORMED_ENTRY", f"entry at position {position}: {exc}", position))
            entries.append(None)
    return entries


def block_timestamps(chain: Chain, numbers: set[int], known: dict[int, int] | None = None) -> dict[int, int]:
    """Timestamps (seconds) of the given blocks, read in batches; ``known`` ones are not read again."""
    found = dict(known or {})
    wanted = sorted(n for n in numbers if n not in found)
    for i in range(0, len(wanted), _HEADER_BATCH):
        chunk = wanted[i:i + _HEADER_BATCH]
        headers = chain.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
        found |= {n: int(h["timestamp"], 16) for n, h in zip(chunk, headers)}
    return found


@dataclass(frozen=True, slots=True)
class ChainEvents:
    """The policy contracts' events up to ``head``, in chain order, and their blocks' timestamps: what
    the policy re-check folds, read once for a verification made of several runs."""

    head: int
    logs: list[dict]
    timestamps: dict[int, int]

    @classmethod
    def read(cls, chain: Chain, head: int) -> ChainEvents:
        logs = _chain_logs(chain, _CONTRACTS, head)
        return cls(head, logs, block_timestamps(chain, {int(lg["blockNumber"], 16) for lg in logs}))


def workflow_problems(chain: Chain, events: ChainEvents, head_time: int) -> list[Problem]:
    """The regulation workflows' deadlines that only the chain's own records and time can show broken:
    emergencies the regulator has not reviewed within 24 hours of their end as of the chain head
    (``UNREVIEWED_EMERGENCY``) or reviewed after that (``EMERGENCY_REVIEWED_LATE``), and verification
    requests extended past 15 working days (``VERIFICATION_EXTENDED_TOO_LONG``: the contract cannot know
    the calendar, so only the API refuses one), and objections not marked, forwarded or decided in time
    (:func:`objection_problems`)."""
    watched = {chain.deployment.contracts[name].lower(): (chain.abis[name], prefixes)
               for name, prefixes in (("Catalog", ("Emergency", "Verification")), ("Objections", ("Objection",)))}
    folded = Projection()
    for lg in events.logs:
        found = watched.get(lg["address"].lower())
        if found:
            event = found[0].decode_log(lg)
            if event and event[0].startswith(found[1]):
                folded.apply(event[0], event[1], lg, events.timestamps[int(lg["blockNumber"], 16)])
    return review_problems(folded.emergencies.values(), head_time) + \
        extension_problems(folded.verifications.values()) + objection_problems(folded.objections.values(), head_time)


def objection_problems(objections, head_time: int) -> list[Problem]:
    """Objections whose steps came late, or have not come by the chain head's time (永州办法 第三十四条):
    marked within 1 working day of filing (``OBJECTION_UNMARKED`` / ``OBJECTION_MARKED_LATE``), forwarded
    within 2 (``OBJECTION_FORWARDED_LATE``), decided within 5 of the filing, or of the forwarding when the
    provider decides (``OBJECTION_UNDECIDED`` / ``OBJECTION_DECIDED_LATE``). A clock in a year whose calendar
    is not published is not judged."""
    problems = []
    for o in sorted(objections, key=lambda o: o.objection_id):
        clocks = objection_due(o.filed_at, o.forwarded_at)
        name = f"objection {o.objection_id} (filed at {o.filed_at})"
        if clocks.mark.missed(o.marked_at, head_time):
            code = "OBJECTION_MARKED_LATE" if o.marked_at is not None else "OBJECTION_UNMARKED"
            problems.append(Problem(code, f"{name} was to be marked by {_at(clocks.mark)}; marked "
                                          f"{o.marked_at or 'not yet'}"))
        if o.forwarded_at is not None and clocks.forward.missed(o.forwarded_at, head_time):
            problems.append(Problem("OBJECTION_FORWARDED_LATE", f"{name} was forwarded at {o.forwarded_at}, after "
                                                                f"{_at(clocks.forward)}"))
        if clocks.decide.missed(o.decided_at, head_time):
            code = "OBJECTION_DECIDED_LATE" if o.decided_at is not None else "OBJECTION_UNDECIDED"
            problems.append(Problem(code, f"{name} was to be decided by {_at(clocks.decide)}; decided "
                                          f"{o.decided_at or 'not yet'}"))
    return problems


def _at(deadline) -> int:
    return int(deadline.at.timestamp())


def extension_problems(verifications) -> list[Problem]:
    """Verification requests whose one extension runs past 15 working days after the request
    (永州办法 第二十一条: 延长期限最长不得超过15个工作日); a year whose calendar is not published is not judged."""
    problems = []
    for v in sorted(verifications, key=lambda v: v.request_id):
        if v.extended_until is None:
            continue
        latest = working_days_after(v.requested_at, VERIFICATION_MAX_WORKING_DAYS)
        if latest.at is not None and v.extended_until > latest.at.timestamp():
            problems.append(Problem("VERIFICATION_EXTENDED_TOO_LONG", f"verification request {v.request_id} was "
                                    f"extended to {v.extended_until}, past {VERIFICATION_MAX_WORKING_DAYS} working "
                                    f"days after the request ({int(latest.at.timestamp())})"))
    return problems


def review_problems(emergencies, head_time: int) -> list[Problem]:
    """The review checks of :func:`emergency_review_problems` over folded emergencies."""
    problems = []
    for e in sorted(emergencies, key=lambda e: e.emergency_id):
        due = emergency_review_due(e.until).at.timestamp()
        if e.reviewed_at is None and head_time > due:
            problems.append(Problem("UNREVIEWED_EMERGENCY", f"emergency {e.emergency_id} ended at {e.until} and has "
                                                            f"no regulator's review, due 24 h after its end"))
        elif e.reviewed_at is not None and e.reviewed_at > due:
            problems.append(Problem("EMERGENCY_REVIEWED_LATE", f"emergency {e.emergency_id} was reviewed at "
                                                               f"{e.reviewed_at}, after its deadline {int(due)}"))
    return problems


def check_policy(chain: Chain, leaves: list[bytes], resource_fields: dict[str, list[str]],
                 report: Report, head: int | None = None,
                 entries: list[AuditEntry | None] | None = None, *, uses_before: dict[str, int] | None = None,
                 events: ChainEvents | None = None, progress: Callable[[int], None] | None = None) -> dict[int, int]:
    """Re-evaluate every ALLOW against chain state at its block; returns the timestamps of the
    blocks that carry events (so the time checks need not read them again).

    ``uses_before`` holds each consent's ALLOW count in the log before these entries (an
    incremental run's carried-over counts); ``events``, the chain's events up to ``head`` if the
    caller has read them; ``progress`` is told how many entries are done.
    """
    entries = decode_entries(leaves, report) if entries is None else entries
    head = chain.block_number() if head is None else head
    abis = {chain.deployment.contracts[n].lower(): chain.abis[n] for n in _CONTRACTS}
    if events is None or events.head != head:
        events = ChainEvents.read(chain, head)
    logs, timestamps = events.logs, dict(events.timestamps)
    uses = UsesBefore(entries, uses_before)

    schemas: dict[str, str | None] = {}
    projection = Projection()
    pending = iter(logs)
    next_log = next(pending, None)
    ordered = sorted((e for e in entries if e is not None), key=lambda e: (e.block_number, e.seq))
    for done, entry in enumerate(ordered, 1):
        if progress is not None and done % _PROGRESS_EVERY == 0:
            progress(done)
        if entry.block_number > head:
            continue  # BLOCK_IN_FUTURE, from the time checks
        while next_log is not None and int(next_log["blockNumber"], 16) <= entry.block_number:
            decoded = abis.get(next_log["address"].lower())
            event = decoded.decode_log(next_log) if decoded else None
            if event:
                projection.apply(event[0], event[1], next_log, timestamps[int(next_log["blockNumber"], 16)])
            next_log = next(pending, None)
        projection.block = entry.block_number
        if entry.decision != "ALLOW":
            continue
        report.allows_reevaluated += 1
        problem = _reevaluate(entry, projection, resource_fields, schemas, uses)
        if problem is not None:
            report.problems.append(problem)
    if progress is not None:
        progress(len(ordered))
    return timestamps


class UsesBefore:
    """Use counts as the log's order implies them: consent c's uses before seq s are the ALLOWs
    citing c at lower seqs (plus ``base[c]``, those before the first of ``entries``), for every
    consent (not only the one an entry cites)."""

    def __init__(self, entries: list[AuditEntry | None], base: dict[str, int] | None = None):
        self._base = base or {}
        self._seqs: dict[str, list[int]] = {}
        for entry in entries:
            if entry is not None and entry.decision == "ALLOW" and entry.consent_id:
                self._seqs.setdefault(entry.consent_id, []).append(entry.seq)
        for seqs in self._seqs.values():
            seqs.sort()

    def at(self, seq: int):
        return lambda consent_id: self._base.get(consent_id, 0) + bisect_left(self._seqs.get(consent_id, ()), seq)

    def totals(self) -> dict[str, int]:
        """Every consent's ALLOW count over the base and all of ``entries``."""
        return {c: self._base.get(c, 0) + len(self._seqs.get(c, ())) for c in self._base.keys() | self._seqs.keys()}


_OUTSIDE_EMERGENCY = (policy.Reason.NO_EMERGENCY, policy.Reason.OUTSIDE_EMERGENCY_SCOPE,
                      policy.Reason.EMERGENCY_NOT_IN_FORCE)


def _pairs(disputed: tuple[tuple[str, int], ...]) -> str:
    return "[" + ", ".join(f"{name} (objection {objection_id})" for name, objection_id in disputed) + "]" \
        if disputed else "nothing"


def _reevaluate(entry: AuditEntry, state: Projection, resource_fields: dict[str, list[str]],
                schemas: dict[str, str | None], uses: UsesBefore) -> Problem | None:
    fields = resource_fields.get(entry.resource)
    if entry.resource not in schemas:  # the exported field list's schema hash, once per resource
        schemas[entry.resource] = schema_hash_hex(tuple(fields)) if fields is not None else None
    on_chain = state.resources.get(resource_key_hex(entry.resource))
    if on_chain is not None and fields is not None and schemas[entry.resource] != on_chain.schema_hash:
        return Problem("POLICY_VIOLATION", f"entry {entry.seq}: the exported field list of {entry.resource} does "
                                           f"not match its on-chain schema hash", entry.seq)
    request = policy.Request(entry.requester, entry.subject_id, entry.resource, entry.fields, entry.purpose,
                             entry.emergency_id)
    # Only the consent the entry names may justify it; an entry naming none may rest on none.
    cited = (entry.consent_id,) if entry.consent_id else ()
    inputs = policy_inputs.gather(state, request, fields, consent_ids=cited)
    decision = inputs.evaluate(int(entry.time.timestamp()), uses.at(entry.seq))
    if decision.allowed and entry.consent_id and decision.consent_id is None:
        return Problem("POLICY_VIOLATION", f"entry {entry.seq} cites consent {entry.consent_id}, which was not "
                                           f"needed", entry.seq)
    if decision.allowed:
        if decision.disputed != entry.disputed:
            return Problem("DISPUTE_NOT_FLAGGED", f"entry {entry.seq} released {entry.resource} with disputed "
                                                  f"{_pairs(entry.disputed)}, but the objections marked as of block "
                                                  f"{entry.block_number} dispute {_pairs(decision.disputed)}",
                           entry.seq)
        return None
    if decision.reason in _OUTSIDE_EMERGENCY:
        return Problem("RELEASE_OUTSIDE_EMERGENCY", f"entry {entry.seq} released {entry.resource} to {entry.requester} "
                                                    f"under emergency {entry.emergency_id}, but the policy at block "
                                                    f"{entry.block_number} says {decision.reason.value}", entry.seq)
    if decision.reason is policy.Reason.SUSPENDED:
        return Problem("RELEASE_WHILE_SUSPENDED", f"entry {entry.seq} released {entry.resource} to {entry.requester}, "
                                                  f"whose access its provider had suspended as of block "
                                                  f"{entry.block_number}", entry.seq)
    if entry.consent_id is None and decision.reason is policy.Reason.NO_CONSENT:
        return Problem("CONSENT_NOT_NAMED", f"entry {entry.seq} released {entry.resource}, which needs the "
                                            f"subject's consent, without naming the consent it used", entry.seq)
    return Problem("POLICY_VIOLATION", f"entry {entry.seq} released {entry.resource} to {entry.requester} but the "
                                       f"policy at block {entry.block_number} says {decision.reason.value}",
                   entry.seq)


def check_times(entries: list[AuditEntry | None], anchors: list[Anchor], timestamps: dict[int, int], head: int,
                report: Report, *, start: int = 0, previous: tuple[int, int] | None = None) -> None:
    """Each entry's block and time against the chain's block timestamps (DESIGN §1.5).

    With ``ts(b)`` the timestamp of block b and ``TIME_TOLERANCE_MS`` of slack: an entry citing
    block b was stamped at ``ts(b) - tolerance <= time < ts(b + 1) + tolerance`` (b existed, and
    b + 1 was not known yet: the release path cites the newest block it has folded), times do not
    decrease along seq, and an entry is no later than ``ts`` of the block of the first anchor
    covering it, plus the tolerance. ``timestamps`` must hold every cited block, the block after
    each (up to ``head``) and every anchor's block. ``entries`` start at position ``start``;
    ``previous`` is the (time in ms, seq) of the entry before them, if any.
    """
    anchor_sizes = [a.tree_size for a in anchors]
    latest, latest_seq = previous if previous is not None else (None, None)
    for position, entry in enumerate(entries, start):
        if entry is None:
            continue
        at = millis(entry)
        if latest is not None and at < latest:
            report.problems.append(Problem("TIME_NOT_MONOTONIC", f"entry {entry.seq} is stamped "
                                                                 f"{format_time(entry.time)}, before entry "
                                                                 f"{latest_seq}", entry.seq))
        if latest is None or at >= latest:
            latest, latest_seq = at, entry.seq
        block = entry.block_number
        if block > head:
            report.problems.append(Problem("BLOCK_IN_FUTURE", f"entry {entry.seq} cites block {block} beyond the "
                                                              f"chain head {head}", entry.seq))
            continue
        if at < timestamps[block] * 1000 - TIME_TOLERANCE_MS:
            report.problems.append(Problem("ENTRY_BEFORE_BLOCK", f"entry {entry.seq} is stamped "
                                                                 f"{format_time(entry.time)}, before its block "
                                                                 f"{block} (timestamp {timestamps[block]})",
                                           entry.seq))
        if block < head and at >= timestamps[block + 1] * 1000 + TIME_TOLERANCE_MS:
            report.problems.append(Problem("ENTRY_BLOCK_STALE", f"entry {entry.seq} is stamped "
                                                                f"{format_time(entry.time)} but cites block {block}"
                                                                f": block {block + 1} was mined at "
                                                                f"{timestamps[block + 1]}", entry.seq))
        covering = bisect_right(anchor_sizes, position)
        if covering < len(anchors):
            anchor = anchors[covering]
            if at > timestamps[anchor.block_number] * 1000 + TIME_TOLERANCE_MS:
                report.problems.append(Problem(
                    "ENTRY_AFTER_ANCHOR", f"entry {entry.seq} is stamped {format_time(entry.time)}, after anchor "
                                          f"{anchor.index} (block {anchor.block_number}, timestamp "
                                          f"{timestamps[anchor.block_number]}) that covers it", entry.seq))


def check_unanchored_tail(entries: list[AuditEntry | None], anchored_size: int, now: float, max_lag: float,
                          report: Report, start: int = 0) -> None:
    """The oldest entry no anchor covers must not have waited more than ``max_lag`` seconds by ``now``
    (``entries`` start at position ``start``)."""
    first = anchored_size - start
    if not 0 <= first < len(entries) or entries[first] is None:
        return
    oldest = entries[first]
    waited = now - millis(oldest) / 1000
    if waited > max_lag:
        report.problems.append(Problem(
            "UNANCHORED_TAIL", f"{len(entries) - first} entries from seq {oldest.seq} on are not anchored; "
                               f"the oldest has waited {waited:.0f} s (bound {max_lag:g} s)", oldest.seq))


def millis(entry: AuditEntry) -> int:
    return int(entry.time.timestamp() * 1000 + 0.5)
