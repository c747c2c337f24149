"""The audit tree as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): addressing, reading, writing.

A tile at level ``L``, index ``N`` holds up to 256 consecutive hashes at tree height ``8 * L``:
at level 0 the leaf hashes, above it the roots of full tiles of the level below. The rightmost
tile of each level is partial (1 to 255 hashes) and grows in place; a tile, once full, never
changes. So the tree of any size is its full tiles plus one partial tile per level, and:

- :class:`RightEdge` is all a writer keeps in memory: the partial tile of each level (at most
  255 hashes per level, five levels for 2**40 leaves). Appending leaves returns the tiles that
  changed; the root comes from the edge alone.
- :class:`TiledTree` is the reader: it works out which nodes a root or proof needs
  (:mod:`ledger.audit.proofs`), reads the O(log n) tiles that hold them in one call, and builds
  the proof from those.

Both sides speak to storage only through ``read_tiles(ids) -> {id: bytes}``, so the tiles may
live in a database table or under a directory.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from ledger.audit import proofs
from ledger.audit.hasher import EMPTY_ROOT, HASH_SIZE, NODE_PREFIX
from ledger.exceptions import TreeRangeError

__all__ = ["TILE_HEIGHT", "TILE_WIDTH", "RightEdge", "TileId", "TiledTree", "entries_path", "parse_tile_path",
           "partial_tiles", "perfect_root", "tile_path"]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
_H = HASH_SIZE
_sha256 = hashlib.sha256

#: ``(level, index)`` of a tile.
TileId = tuple[int, int]
TileReader = Callable[[Iterable[TileId]], dict[TileId, bytes]]


# --- addressing (C2SP tlog-tiles "APIs") ------------------------------------------------------

def _encode_index(index: int) -> str:
    """``1234067`` -> ``x001/x234/067``: zero-padded 3-digit elements, all but the last after an ``x``."""
    if index < 0:
        raise TreeRangeError(f"tile index must not be negative, got {index}")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if not index:
            break
    groups.reverse()
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def _suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise TreeRangeError(f"tile width must be 1 to {TILE_WIDTH}, got {width}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``: the path of a hash tile below the log's prefix."""
    if not 0 <= level <= 63:
        raise TreeRangeError(f"tile level must be 0 to 63, got {level}")
    return f"tile/{level}/{_encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]``: the path of an entry bundle."""
    return f"tile/entries/{_encode_index(index)}{_suffix(width)}"


_PATH = re.compile(r"tile/(0|[1-9][0-9]?|entries)/((?:x[0-9]{3}/)*)([0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


def parse_tile_path(path: str) -> tuple[int | None, int, int]:
    """``(level, index, width)`` of a canonical tile path; level ``None`` for an entry bundle.

    Only the one canonical spelling is accepted (no leading zeros, no ``x`` on the last element,
    no ``.p/256``), so every resource has exactly one name.
    """
    match = _PATH.fullmatch(path)
    if match is None:
        raise TreeRangeError(f"not a tile path: {path!r}")
    level_text, prefix, last, width_text = match.groups()
    level = None if level_text == "entries" else int(level_text)
    if level is not None and level > 63:
        raise TreeRangeError(f"tile level must be 0 to 63, got {level}")
    groups = [g[1:] for g in prefix.split("/") if g] + [last]
    if len(groups) > 1 and groups[0] == "000":
        raise TreeRangeError(f"tile index has a leading zero element: {path!r}")
    index = int("".join(groups))
    width = int(width_text) if width_text else TILE_WIDTH
    if width_text and width >= TILE_WIDTH:
        raise TreeRangeError(f"partial tile width must be 1 to {TILE_WIDTH - 1}, got {width}")
    return level, index, width


def partial_tiles(size: int) -> list[tuple[int, int, int]]:
    """``(level, index, width)`` of the partial tile of each level of a tree of ``size`` leaves."""
    out = []
    level = 0
    while size >> (TILE_HEIGHT * level):
        count = size >> (TILE_HEIGHT * level)
        if count % TILE_WIDTH:
            out.append((level, count >> TILE_HEIGHT, count % TILE_WIDTH))
        level += 1
    return out


# --- hashing within a tile --------------------------------------------------------------------

def perfect_root(hashes: bytes | bytearray | memoryview) -> bytes:
    """Root of the perfect subtree over a power-of-two run of packed 32-byte hashes."""
    level = bytes(hashes)
    while len(level) > _H:
        level = b"".join(_sha256(NODE_PREFIX + level[i:i + 2 * _H]).digest() for i in range(0, len(level), 2 * _H))
    return level


def subtree_levels(hashes: bytes) -> list[bytes]:
    """Every node of a tile's subtrees, bottom up: ``levels[r]`` packs the roots of its aligned runs of
    ``2**r`` hashes (``levels[0]`` is the tile; a full tile's ``levels[8]`` is its root)."""
    levels = [bytes(hashes)]
    while len(levels[-1]) >= 2 * _H:
        below = levels[-1]
        levels.append(b"".join([_sha256(NODE_PREFIX + below[i:i + 2 * _H]).digest()
                                for i in range(0, len(below) - _H, 2 * _H)]))
    return levels


def _tile_of(height: int, index: int) -> tuple[TileId, int, int]:
    """Where node (height, index) lives: its tile, and the run of that tile's hashes it is the root of."""
    level, rise = divmod(height, TILE_HEIGHT)
    first = index << rise
    return (level, first >> TILE_HEIGHT), first % TILE_WIDTH, 1 << rise


# --- reading: proofs from tiles ---------------------------------------------------------------

class TiledTree:
    """Roots and proofs for any tree size, read from stored tiles (O(log n) tiles a call).

    It trusts nothing about the size it is asked for beyond what the tiles hold: a node whose tile
    is missing or too narrow raises :class:`TreeRangeError`, so a caller that asks for a size the
    log never reached gets an error, not a wrong proof.
    """

    #: Tiles whose inner nodes are kept (16 KB each), in two LRUs so that a stream of proofs for
    #: random entries, each needing its own level-0 tile, cannot evict the few upper tiles every
    #: proof passes: 256 of them hold every tile above level 0 up to 2**24 leaves.
    CACHED_UPPER_TILES = 256
    CACHED_LEAF_TILES = 64

    def __init__(self, read_tiles: TileReader):
        self._read_tiles = read_tiles
        self._caches = {"upper": _TileCache(self.CACHED_UPPER_TILES), "leaf": _TileCache(self.CACHED_LEAF_TILES)}

    def root(self, size: int) -> bytes:
        if size < 0:
            raise TreeRangeError(f"tree size must not be negative, got {size}")
        if size == 0:
            return EMPTY_ROOT
        return proofs.root(self._reader(proofs.range_nodes(0, size)), size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return proofs.inclusion_proof(self._reader(proofs.inclusion_nodes(index, size)), index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return proofs.consistency_proof(self._reader(proofs.consistency_nodes(size1, size2)), size1, size2)

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes ``start`` to ``end - 1``, from the level-0 tiles that hold them."""
        if not 0 <= start <= end:
            raise TreeRangeError(f"leaf range [{start}, {end}) is not a range")
        if start == end:
            return []
        first, last = start >> TILE_HEIGHT, (end - 1) >> TILE_HEIGHT
        tiles = self._read_tiles({(0, t) for t in range(first, last + 1)})
        packed = b"".join(tiles.get((0, t), b"") for t in range(first, last + 1))
        run = packed[(start - (first << TILE_HEIGHT)) * _H:(end - (first << TILE_HEIGHT)) * _H]
        if len(run) != (end - start) * _H:
            raise TreeRangeError(f"leaves [{start}, {end}) are not all in the stored tiles")
        return [run[i:i + _H] for i in range(0, len(run), _H)]

    def _reader(self, nodes: Iterable[tuple[int, int]]) -> proofs.NodeReader:
        """Read the tiles under ``nodes`` in one call and hash every node now, so a size the tiles do
        not reach fails here even when the proof itself would not touch its last leaf."""
        placed = [(node, *_tile_of(*node)) for node in nodes]
        needed: dict[TileId, int] = {}
        for _, tile_id, offset, count in placed:
            needed[tile_id] = max(needed.get(tile_id, 0), offset + count)
        levels = self._levels(needed)
        hashes: dict[tuple[int, int], bytes] = {}
        for node, tile_id, offset, count in placed:
            tile = levels.get(tile_id)
            rise = count.bit_length() - 1
            if tile is None or (offset + count) * _H > len(tile[0]):
                raise TreeRangeError(f"node {node} is not in the stored tiles "
                                     f"(tile {tile_id} {'missing' if tile is None else 'too narrow'})")
            at = (offset >> rise) * _H
            hashes[node] = tile[rise][at:at + _H]
        return lambda height, index: hashes[(height, index)]

    def _levels(self, needed: dict[TileId, int]) -> dict[TileId, list[bytes]]:
        """:func:`subtree_levels` of the stored tiles in ``needed`` (tile id: hashes wanted from its
        start). A cached tile at least that wide is used without reading: a tile only grows, and the
        inner nodes of a prefix do not change as it does. Others are read, and hashed again only when
        they have grown since."""
        cache = {tile_id: self._caches["leaf" if tile_id[0] == 0 else "upper"] for tile_id in needed}
        cached = {t: levels for t in needed if (levels := cache[t].get(t)) is not None}
        out = {t: levels for t, levels in cached.items() if len(levels[0]) >= needed[t] * _H}
        for tile_id, data in self._read_tiles(needed.keys() - out.keys()).items():
            known = cached.get(tile_id)
            out[tile_id] = known if known is not None and known[0] == data else subtree_levels(data)
        for tile_id, levels in out.items():
            cache[tile_id].put(tile_id, levels)
        return out


class _TileCache:
    """A thread-safe LRU of tiles' :func:`subtree_levels`."""

    def __init__(self, capacity: int):
        self._capacity = capacity
        self._entries: OrderedDict[TileId, list[bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tile_id: TileId) -> list[bytes] | None:
        with self._lock:
            return self._entries.get(tile_id)

    def put(self, tile_id: TileId, levels: list[bytes]) -> None:
        with self._lock:
            known = self._entries.get(tile_id)
            if known is None or len(known[0]) <= len(levels[0]):  # never replace a tile by a narrower one
                self._entries[tile_id] = levels
            self._entries.move_to_end(tile_id)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)


# --- writing: the right edge -----------------------------------------------------------------

class RightEdge:
    """The partial tile of every level: what a writer holds to extend the tree and compute its root.

    ``append`` returns every tile the new leaves changed (the ones they completed and the new
    partial ones), to be stored in the same transaction that makes the new size durable.
    """

    __slots__ = ("_partials", "_size")

    def __init__(self, size: int = 0, partials: Sequence[bytes] = ()):
        self._size = size
        self._partials = [bytearray(p) for p in partials]
        expected = {level: width for level, _, width in partial_tiles(size)}
        for level, partial in enumerate(self._partials):
            if len(partial) != expected.get(level, 0) * _H:
                raise TreeRangeError(f"level {level} partial tile holds {len(partial) // _H} hashes; a tree of "
                                     f"{size} leaves needs {expected.get(level, 0)}")
        if any(level >= len(self._partials) for level in expected):
            raise TreeRangeError(f"a tree of {size} leaves needs partial tiles at levels {sorted(expected)}")

    @classmethod
    def load(cls, size: int, read_tiles: TileReader) -> RightEdge:
        """The edge of a stored tree of ``size`` leaves: one read of at most one tile per level."""
        wanted = partial_tiles(size)
        tiles = read_tiles({(level, index) for level, index, _ in wanted})
        partials = [b""] * (max((level for level, _, _ in wanted), default=-1) + 1)
        for level, index, width in wanted:
            tile = tiles.get((level, index), b"")
            if len(tile) < width * _H:
                raise TreeRangeError(f"stored tile ({level}, {index}) is narrower than the {width} hashes "
                                     f"a tree of {size} leaves has there")
            partials[level] = tile[:width * _H]
        return cls(size, partials)

    @property
    def partials(self) -> tuple[bytes, ...]:
        """The partial tile of each level, level 0 first (empty where a level has none): what
        ``RightEdge(size, partials)`` takes back."""
        return tuple(bytes(p) for p in self._partials)

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hashes: Sequence[bytes]) -> dict[TileId, bytes]:
        """Add leaf hashes at the right; returns ``{tile id: its new content}`` for every changed tile."""
        for i, h in enumerate(leaf_hashes):
            if len(h) != _H:
                raise TreeRangeError(f"leaf hash {i} must be {_H} bytes, got {len(h)}")
        old_size, new_size = self._size, self._size + len(leaf_hashes)
        changed: dict[TileId, bytes] = {}
        arriving = b"".join(leaf_hashes)
        level = 0
        while arriving:
            old_count = old_size >> (TILE_HEIGHT * level)
            new_count = new_size >> (TILE_HEIGHT * level)
            if level == len(self._partials):
                self._partials.append(bytearray())
            run = bytes(self._partials[level]) + arriving
            first_tile, end_tile = old_count >> TILE_HEIGHT, new_count >> TILE_HEIGHT
            completed = []
            for t in range(first_tile, end_tile):
                off = (t - first_tile) * TILE_WIDTH * _H
                tile = run[off:off + TILE_WIDTH * _H]
                changed[(level, t)] = tile
                completed.append(perfect_root(tile))
            rest = run[(end_tile - first_tile) * TILE_WIDTH * _H:]
            self._partials[level] = bytearray(rest)
            if rest:
                changed[(level, end_tile)] = rest
            arriving = b"".join(completed)
            level += 1
        self._size = new_size
        return changed

    def root(self) -> bytes:
        """Root of the whole tree: the partial tiles' runs, top level first, folded."""
        subtrees: list[bytes] = []
        for partial in reversed(self._partials):
            width, pos = len(partial) // _H, 0
            for rise in range(TILE_HEIGHT - 1, -1, -1):
                if width & (1 << rise):
                    subtrees.append(perfect_root(partial[pos * _H:(pos + (1 << rise)) * _H]))
                    pos += 1 << rise
        return proofs.fold(subtrees) if subtrees else EMPTY_ROOT
