"""An index from scope paths to the slices that read or write them, as bitsets.

Slices are numbered (their position in the topological order) and a set of slices is a Python int used as a
bitset, so the union of every earlier slice that conflicts with a path is a handful of big-int ORs instead of a
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

    __slots__ = ("exact", "subtree", "wildcard", "any", "_prefixes")

    def __init__(self, prefixes: dict[str, list[str]]):
        self.exact: dict[str, int] = {}  # path -> slices naming exactly this path
        self.subtree: dict[str, int] = {}  # path -> slices naming this path or something under it
        self.wildcard = 0  # slices naming `project files`
        self.any = 0  # slices naming at least one path
        self._prefixes = prefixes  # shared cache of path_prefixes(), keyed by path

    def prefixes(self, path: str) -> list[str]:
        found = self._prefixes.get(path)
        if found is None:
            found = self._prefixes[path] = path_prefixes(path)
        return found

    def add(self, number: int, paths: set[str]) -> None:
        """Record that slice `number` accesses `paths` (normalised, policy-checked)."""
        if not paths:
            return
        bit = 1 << number
        self.any |= bit
        exact, subtree = self.exact, self.subtree
        for path in paths:
            if path == PROJECT_FILES:
                self.wildcard |= bit
                continue
            exact[path] = exact.get(path, 0) | bit
            for prefix in self.prefixes(path):
                subtree[prefix] = subtree.get(prefix, 0) | bit

    def conflicting(self, path: str) -> int:
        """Every recorded slice with a path that conflicts with `path`."""
        if path == PROJECT_FILES:
            return self.any
        exact = self.exact
        found = self.wildcard | self.subtree.get(path, 0)
        prefixes = self.prefixes(path)
        for parent in prefixes[:-1]:
            hit = exact.get(parent)
            if hit:
                found |= hit
        return found


def bit_positions(bits: int) -> list[int]:
    """The positions of the set bits of a non-negative int, ascending."""
    if not bits:
        return []
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
