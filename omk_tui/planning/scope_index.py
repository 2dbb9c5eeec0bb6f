"""An index from scope paths to the slices that read or write them, as bitsets.

Slices are numbered (their position in the topological order) and a set of slices is a Python int used as a
bitset, so "every earlier slice whose writes conflict with this path" is a handful of big-int ORs instead of a
scan of every earlier slice's paths. Two paths conflict when they are equal, when one is a parent folder of the
other, or when either is the `project files` wildcard (seed 003).
"""

from __future__ import annotations

from omk_tui.planning.path_policy import PROJECT_FILES


def path_prefixes(path: str) -> list[str]:
    """`a/b/c` -> [`a`, `a/b`, `a/b/c`]: the path and every parent folder, outermost first."""
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class AccessIndex:
    """The slices that access each path one way (read, or write), as bitsets over slice numbers."""

    __slots__ = ("exact", "subtree", "wildcard", "any")

    def __init__(self) -> None:
        self.exact: dict[str, int] = {}  # path -> slices naming exactly this path
        self.subtree: dict[str, int] = {}  # path -> slices naming this path or something under it
        self.wildcard = 0  # slices naming `project files`
        self.any = 0  # slices naming at least one path


class ScopeIndex:
    """Who reads and who writes what, among the slices planned so far."""

    __slots__ = ("writers", "readers", "_prefixes")

    def __init__(self) -> None:
        self.writers = AccessIndex()
        self.readers = AccessIndex()
        self._prefixes: dict[str, list[str]] = {}

    def _prefixes_of(self, path: str) -> list[str]:
        found = self._prefixes.get(path)
        if found is None:
            found = self._prefixes[path] = path_prefixes(path)
        return found

    def add(self, number: int, writes: list[str], reads: list[str]) -> None:
        """Record slice `number`'s scopes (normalised, policy-checked paths)."""
        bit = 1 << number
        for index, paths in ((self.writers, writes), (self.readers, reads)):
            if not paths:
                continue
            index.any |= bit
            exact, subtree = index.exact, index.subtree
            for path in paths:
                if path == PROJECT_FILES:
                    index.wildcard |= bit
                    continue
                exact[path] = exact.get(path, 0) | bit
                for prefix in self._prefixes_of(path):
                    subtree[prefix] = subtree.get(prefix, 0) | bit

    def conflicting(self, path: str, index: AccessIndex) -> int:
        """Every recorded slice that accesses (as `index` records) a path conflicting with `path`: the same
        path, a parent folder of it, something under it, or the wildcard."""
        if path == PROJECT_FILES:
            return index.any
        found = index.wildcard | index.subtree.get(path, 0)
        exact = index.exact
        for parent in self._prefixes_of(path)[:-1]:
            hit = exact.get(parent)
            if hit:
                found |= hit
        return found


def bit_positions(bits: int) -> list[int]:
    """The positions of the set bits of a non-negative int, ascending."""
    if bits.bit_count() < 8:
        positions = []
        while bits:
            low = bits & -bits
            positions.append(low.bit_length() - 1)
            bits ^= low
        return positions
    digits = bin(bits)[:1:-1]  # least significant bit first
    positions = []
    find = digits.find
    at = find("1")
    while at >= 0:
        positions.append(at)
        at = find("1", at + 1)
    return positions
