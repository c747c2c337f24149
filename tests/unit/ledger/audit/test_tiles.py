"""tlog-tiles: the spec's path and size examples, non-canonical paths refused, and the tile-backed tree
against the in-memory one (roots and proofs at every checkpointed size, any batch split)."""

from __future__ import annotations

import random

import pytest

from ledger.audit import EMPTY_ROOT, MerkleTree, verify_consistency, verify_inclusion
from ledger.audit.tiles import (
    TILE_WIDTH,
    RightEdge,
    TiledTree,
    entries_path,
    parse_tile_path,
    partial_tiles,
    perfect_root,
    tile_path,
)
from ledger.exceptions import TreeRangeError
from tests.support.merkle import leaf_hashes

pytestmark = pytest.mark.unit


class CountingStore:
    """Tiles in a dict, one entry per tile id holding its widest content, counting reads."""

    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int], bytes] = {}
        self.reads = 0

    def read(self, ids):
        ids = set(ids)
        self.reads += len(ids)
        return {i: self.tiles[i] for i in ids if i in self.tiles}

    def write(self, changed: dict) -> None:
        self.tiles.update(changed)


# --- addressing (c2sp.org/tlog-tiles) ---------------------------------------------------------

def test_tile_path_spec_example() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 0, 1) == "tile/2/000.p/1"
    assert tile_path(1, 999) == "tile/1/999"
    assert tile_path(1, 1000, 17) == "tile/1/x001/000.p/17"
    assert entries_path(5, 112) == "tile/entries/005.p/112"


@pytest.mark.parametrize("level,index,width", [(0, 0, 256), (0, 1234067, 5), (63, 10**12, 255), (3, 999_999, 1)])
def test_parse_tile_path_round_trips(level: int, index: int, width: int) -> None:
    assert parse_tile_path(tile_path(level, index, width)) == (level, index, width)
    assert parse_tile_path(entries_path(index, width)) == (None, index, width)


@pytest.mark.parametrize("path", [
    "tile/00/000", "tile/01/000", "tile/64/000", "tile/0/1", "tile/0/0001", "tile/0/x001", "tile/0/x000/001",
    "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/07", "tile/0/000.p/", "tile/0/000/", "tile/0/001/002",
    "tile/-1/000", "tile/0/x01/000", "tile/entries/x000/005", "tile//000", "/tile/0/000", "tile/0/000.p/1/2",
])
def test_parse_tile_path_refuses_non_canonical(path: str) -> None:
    with pytest.raises(TreeRangeError):
        parse_tile_path(path)


def test_partial_tiles_spec_examples() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of
    # width 112, one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2
    # tile of width 1 ... a tree of size 256 [by] a full level 0 tile and a partial level 1 tile of width 1."
    assert partial_tiles(70_000) == [(0, 273, 112), (1, 1, 17), (2, 0, 1)]
    assert partial_tiles(256) == [(1, 0, 1)]
    assert partial_tiles(0) == []
    assert partial_tiles(65_536) == [(2, 0, 1)]


# --- writing and reading, against the in-memory tree ------------------------------------------

def _grow(sizes: list[int], seed: int = 7):
    """Append leaves in batches ending at each of ``sizes``; yields (size, store, edge, reference tree)."""
    hashes = leaf_hashes(sizes[-1])
    store, edge, tree = CountingStore(), RightEdge(), MerkleTree()
    for size in sizes:
        batch = hashes[edge.size:size]
        store.write(edge.append(batch))
        tree.extend(batch)
        yield size, store, edge, tree


def test_right_edge_root_matches_tree_at_every_size_to_600() -> None:
    for size, _, edge, tree in _grow(list(range(0, 601))):
        assert edge.root() == tree.root(), size
    assert RightEdge().root() == EMPTY_ROOT


def test_tiles_hold_the_tree_levels() -> None:
    *_, (_, store, _, tree) = _grow([70_000])
    assert len(store.tiles[(0, 0)]) == TILE_WIDTH * 32
    assert store.tiles[(0, 273)] == b"".join(tree.leaf_hash(i) for i in range(273 * 256, 70_000))
    assert store.tiles[(1, 0)][:32] == tree._range_hash(0, 256)
    assert store.tiles[(2, 0)] == tree._range_hash(0, 65_536)
    assert perfect_root(store.tiles[(1, 0)]) == tree._range_hash(0, 65_536)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_proofs_from_tiles_equal_in_memory_proofs_for_old_sizes(seed: int) -> None:
    rng = random.Random(seed)
    sizes = sorted({rng.randint(1, 70_000) for _ in range(12)} | {256, 65_536})
    seen: list[int] = []
    for size, store, _, tree in _grow(sizes):
        seen.append(size)
        tiled = TiledTree(store.read)
        for old in seen:  # every earlier checkpoint's size stays provable from the grown tiles
            assert tiled.root(old) == tree.root(old)
            index = rng.randrange(old)
            proof = tiled.inclusion_proof(index, old)
            assert proof == tree.inclusion_proof(index, old)
            verify_inclusion(tree.leaf_hash(index), index, old, proof, tree.root(old))
            assert tiled.leaf_hashes(index, old) == [tree.leaf_hash(i) for i in range(index, old)]
            assert tiled.consistency_proof(old, size) == tree.consistency_proof(old, size)
            verify_consistency(old, size, tiled.consistency_proof(old, size), tree.root(old), tree.root(size))


def test_a_proof_reads_few_tiles() -> None:
    *_, (size, store, _, _) = _grow([1_000_003])
    tiled = TiledTree(store.read)
    for index in (0, 123_456, size - 1):
        store.reads = 0
        tiled.inclusion_proof(index, size)
        assert store.reads <= 3 * 3  # a few tiles per level, three levels
    store.reads = 0
    tiled.consistency_proof(400_001, size)
    assert store.reads <= 4 * 3


def test_one_reader_follows_a_growing_tree() -> None:
    """The reader keeps tiles' inner nodes: a partial tile that grew is hashed again, a full one is
    not read again."""
    hashes = leaf_hashes(70_000)
    store, edge = CountingStore(), RightEdge()
    tiled = TiledTree(store.read)
    rng = random.Random(4)
    done = 0
    for size in (1, 255, 256, 257, 511, 4_097, 65_535, 65_536, 65_537, 70_000):
        store.write(edge.append(hashes[done:size]))
        done = size
        tree = MerkleTree(hashes[:size])
        for index in {0, size - 1, rng.randrange(size)}:
            assert tiled.inclusion_proof(index, size) == tree.inclusion_proof(index, size)
        assert tiled.root(size) == tree.root()
    tiled.inclusion_proof(1_000, 70_000)
    store.reads = 0
    tiled.inclusion_proof(1_001, 70_000)
    assert store.reads == 0  # every tile, partial ones too, is cached at least as wide as needed
    store.write(edge.append(leaf_hashes(70_100)[70_000:]))
    tree = MerkleTree(leaf_hashes(70_100))
    assert tiled.inclusion_proof(1_001, 70_100) == tree.inclusion_proof(1_001, 70_100)
    assert store.reads == 1  # the level-0 partial tile the new leaves widened; the others come from the cache


def test_proofs_for_random_leaves_keep_the_upper_tiles_cached() -> None:
    """A proof needs its own level-0 tile: many of them must not evict the upper tiles every proof uses."""
    size = 300 * 256
    store, edge = CountingStore(), RightEdge()
    store.write(edge.append(leaf_hashes(size)))
    tiled = TiledTree(store.read)
    for tile in range(TiledTree.CACHED_LEAF_TILES + TiledTree.CACHED_UPPER_TILES + 10):
        tiled.inclusion_proof((tile % 300) * 256, size)
    store.reads = 0
    tiled.inclusion_proof(100 * 256 + 3, size)  # its level-0 tile has left the cache's 64
    assert store.reads == 1  # the level-0 tile alone: level 1 and the partial tiles are cached


def test_right_edge_reloads_from_tiles_and_continues() -> None:
    hashes = leaf_hashes(5_000)
    store, edge = CountingStore(), RightEdge()
    store.write(edge.append(hashes[:3_333]))
    store.reads = 0
    reloaded = RightEdge.load(3_333, store.read)
    assert store.reads == len(partial_tiles(3_333))
    assert reloaded.root() == edge.root()
    store.write(reloaded.append(hashes[3_333:]))
    assert reloaded.root() == MerkleTree(hashes).root()
    assert TiledTree(store.read).root(5_000) == reloaded.root()


def test_asking_beyond_the_stored_tiles_is_an_error() -> None:
    *_, (_, store, _, _) = _grow([300])
    tiled = TiledTree(store.read)
    with pytest.raises(TreeRangeError):
        tiled.root(301)
    with pytest.raises(TreeRangeError):
        tiled.inclusion_proof(300, 301)
    with pytest.raises(TreeRangeError):
        RightEdge.load(600, store.read)
    with pytest.raises(TreeRangeError):
        tiled.leaf_hashes(250, 301)
    assert len(tiled.leaf_hashes(250, 300)) == 50


def test_right_edge_refuses_inconsistent_state() -> None:
    with pytest.raises(TreeRangeError):
        RightEdge(3, [b"\x00" * 64])
    with pytest.raises(TreeRangeError):
        RightEdge(256, [])
    with pytest.raises(TreeRangeError):
        RightEdge().append([b"\x00" * 31])
