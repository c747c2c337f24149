"""Incremental verification without a chain: the state file, and the anchor and consistency checks of
the entries added since the state, against synthetic anchors computed as the AuditAnchor contract does."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from ledger.audit.hasher import hash_leaf
from ledger.audit.incremental import InvalidState, StateMismatch, VerifierState, check_anchors
from ledger.audit.tiles import RightEdge, partial_tiles
from ledger.audit.trail import Anchor, Report
from ledger.audit.tree import MerkleTree
from ledger.chain.client import Deployment
from tests.unit.ledger.audit.test_trail_integrity import ZERO, anchor_hash, make_leaf

pytestmark = pytest.mark.unit

ANCHOR = "0x" + "a1" * 20


def chain_of(chain_id: int = 16211, anchor: str = ANCHOR):
    """Only what a state reads from a chain client: its trusted deployment."""
    return SimpleNamespace(deployment=Deployment(chain_id, 1, "", {"AuditAnchor": anchor}))


def anchors_for(leaves: list[bytes], sizes, first_index: int = 0, previous: bytes = ZERO) -> list[Anchor]:
    tree = MerkleTree(hash_leaf(leaf) for leaf in leaves)
    out = []
    for index, size in enumerate(sizes, start=first_index):
        root = tree.root(size)
        current = anchor_hash(previous, size, root)
        out.append(Anchor(index, size, root, previous, current, 1000 + index, "0x" + f"{index:064x}"))
        previous = current
    return out


def state_at(leaves: list[bytes], anchor: Anchor) -> VerifierState:
    """The state a run would write after verifying ``leaves[:anchor.tree_size]``."""
    edge = RightEdge()
    tiles = edge.append([hash_leaf(leaf) for leaf in leaves[:anchor.tree_size]])
    partials = {level: tiles[(level, index)] for level, index, _ in partial_tiles(anchor.tree_size)}
    top = max(partials, default=-1)
    base = VerifierState.empty(chain_of())
    return VerifierState(base.origin, base.chain_id, base.audit_anchor, anchor.tree_size, anchor.root_hash,
                         anchor.index, anchor.anchor_hash, anchor.block_number,
                         tuple(partials.get(level, b"") for level in range(top + 1)),
                         {"0x" + "cd" * 32: 7}, (1_759_305_600_000, anchor.tree_size - 1))


@pytest.fixture(scope="module")
def log() -> list[bytes]:
    return [make_leaf(seq) for seq in range(1200)]  # past a full tile, so the edge has two levels


@pytest.fixture(scope="module")
def anchors(log) -> list[Anchor]:
    return anchors_for(log, (300, 555, 1000, 1200))


def kinds(report: Report) -> list[str]:
    return [p.kind for p in report.problems]


def run(state: VerifierState, leaves: list[bytes], new: list[Anchor]):
    report = Report()
    return check_anchors(state, new, [hash_leaf(leaf) for leaf in leaves], report), report


def test_the_state_round_trips_through_its_file(tmp_path, log, anchors):
    state = state_at(log, anchors[1])
    path = tmp_path / "state.json"
    state.save(path)
    assert VerifierState.load(path) == state
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # the temporary file is gone


def test_a_state_whose_edge_does_not_give_its_root_is_refused(tmp_path, log, anchors):
    data = state_at(log, anchors[1]).as_json()
    data["root_hash"] = anchors[0].root_hash.hex()
    (tmp_path / "state.json").write_text(json.dumps(data))
    with pytest.raises(InvalidState, match="does not hash to its root"):
        VerifierState.load(tmp_path / "state.json")
    (tmp_path / "state.json").write_text("{\"format\": \"something else\"}")
    with pytest.raises(InvalidState, match="not a verifier state"):
        VerifierState.load(tmp_path / "state.json")


def test_a_state_of_another_log_is_refused(log, anchors):
    state = state_at(log, anchors[0])
    state.check_log(chain_of())
    for other in (chain_of(chain_id=1), chain_of(anchor="0x" + "b2" * 20)):
        with pytest.raises(StateMismatch, match="belongs to another log"):
            state.check_log(other)
    with pytest.raises(StateMismatch, match="its chain id is 16211"):
        VerifierState(state.origin.replace("16211", "1"), 16211, state.audit_anchor).check_log(chain_of(chain_id=1))


def test_the_increment_from_a_state_reaches_the_same_state_as_a_run_from_the_start(log, anchors):
    empty = VerifierState.empty(chain_of())
    whole, report = run(empty, log, anchors)
    assert report.ok and report.anchors_checked == 4
    middle, _ = run(empty, log[:555], anchors[:2])
    newest, edge = whole
    again, report = run(state_at(log, anchors[1]), log[555:], anchors[2:])
    assert report.ok and report.anchors_checked == 2
    assert again[0] == newest and again[1] == edge == state_at(log, anchors[3]).edge
    assert middle[0] == anchors[1]


def test_no_new_anchor_leaves_the_state_as_it_is(log, anchors):
    state = state_at(log, anchors[3])
    assert run(state, [], []) == (state, Report())


def test_a_tampered_entry_in_the_new_range_breaks_the_anchored_root(log, anchors):
    leaves = log[555:]
    leaves[500] = make_leaf(1055, purpose="marketing")
    good, report = run(state_at(log, anchors[1]), leaves, anchors[2:])
    assert good is None
    assert kinds(report) == ["ANCHOR_ROOT_MISMATCH", "LOG_INCONSISTENT"]
    assert report.problems[0].seq == 1000  # the first anchor (size 1000) is fine: the damage lies beyond it


def test_a_rewritten_old_entry_fails_the_consistency_proof(log, anchors):
    """The operator rewrote entry 100, rebuilt the tree and anchored it: the new heads are
    self-consistent, but none extends the head the regulator verified."""
    rewritten = list(log)
    rewritten[100] = make_leaf(100, purpose="marketing")
    state = state_at(log, anchors[1])
    forged = anchors_for(rewritten, (1000, 1200), first_index=anchors[2].index, previous=state.anchor_hash)
    good, report = run(state, rewritten[555:], forged)
    assert good is None
    assert "LOG_INCONSISTENT" in kinds(report)
    assert next(p for p in report.problems if p.kind == "LOG_INCONSISTENT").seq == 555


def test_a_log_that_shrank_is_reported(log, anchors):
    state = state_at(log, anchors[2])
    shrunk = anchors_for(log, (900,), first_index=anchors[3].index, previous=state.anchor_hash)
    good, report = run(state, [], shrunk)
    assert good is None and "LOG_SHRANK" in kinds(report)


def test_an_anchor_that_does_not_link_to_the_state_is_reported(log, anchors):
    state = state_at(log, anchors[1])
    unlinked = anchors_for(log, (1000,), first_index=anchors[2].index, previous=b"\x07" * 32)
    good, report = run(state, log[555:1000], unlinked)
    assert good is None and kinds(report) == ["ANCHOR_CHAIN_BROKEN"]


def test_an_anchor_beyond_the_log_is_missing_entries(log, anchors):
    good, report = run(state_at(log, anchors[1]), log[555:1100], anchors[2:])
    assert good is None and kinds(report) == ["ENTRIES_MISSING"]


@pytest.mark.parametrize("size1, size2", [(1, 2), (3, 8), (255, 256), (256, 257), (300, 1200), (555, 1000),
                                          (1000, 1200)])
def test_the_consistency_proof_holds_for_every_split_of_the_log(log, size1, size2):
    """Vectors over tile borders: the proof built from the edge and the new leaves verifies, and the
    same proof with any node flipped does not."""
    from ledger.audit.tiles import TiledTree
    from ledger.audit.verify import verify_consistency
    from ledger.exceptions import InvalidProof

    tree = MerkleTree(hash_leaf(leaf) for leaf in log)
    edge = RightEdge()
    tiles = edge.append([hash_leaf(leaf) for leaf in log[:size1]])
    tiles |= edge.append([hash_leaf(leaf) for leaf in log[size1:size2]])
    proof = TiledTree(lambda ids: {i: tiles[i] for i in ids if i in tiles}).consistency_proof(size1, size2)
    assert proof == tree.consistency_proof(size1, size2)
    verify_consistency(size1, size2, proof, tree.root(size1), tree.root(size2))
    for i in range(len(proof)):
        broken = list(proof)
        broken[i] = bytes([proof[i][0] ^ 1]) + proof[i][1:]
        with pytest.raises(InvalidProof):
            verify_consistency(size1, size2, broken, tree.root(size1), tree.root(size2))


@pytest.mark.parametrize(("start", "end", "sizes", "run_entries", "ends"), [
    (0, 1000, [100, 200, 300, 900], 250, [200, 300, 900]),  # the last anchor within reach of each start
    (0, 1000, [600, 900], 250, [600, 900]),                  # none within reach: the next one
    (0, 1000, [100, 200, 300], 5000, []),                    # all of it fits one run
    (300, 1000, [100, 300, 400, 1000], 50, [400]),           # only sizes strictly inside the range count
    (0, 10, [], 2, []),                                      # no anchor: one run
])
def test_runs_end_at_anchored_sizes_of_about_the_run_length(start, end, sizes, run_entries, ends):
    from ledger.audit.incremental import _run_ends

    assert _run_ends(start, end, sizes, run_entries) == ends
