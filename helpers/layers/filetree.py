"""Layer file trees and the two ways of counting waste: dive's, and the true one.

``dive_efficiency`` follows dive 0.13.1 (``dive/filetree/efficiency.go``) step for step, so
its figures equal ``dive --json``: only leaf nodes of each layer's tree are visited (in sorted
order); a whiteout costs the size of what it removes if that was a directory, else nothing;
opaque whiteouts (``.wh..wh..opq``) are ignored. The consequence, which ``true_waste``
corrects: a directory written in one layer and deleted (or made opaque) in a later one costs
nothing in dive's score, although its bytes still ship in the lower layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from helpers.archive.tarstream import Entry

__all__ = ["Node", "LayerTree", "DiveFigures", "dive_efficiency", "WastedFile", "true_waste", "WHITEOUT", "OPAQUE"]

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_DOUBLE = ".wh..wh.."


class Node:
    """A node of a layer's file tree (dive's ``FileNode``)."""

    __slots__ = ("name", "parent", "children", "size", "is_dir", "layer", "full")

    def __init__(self, name: str, parent: Node | None, size: int = 0, is_dir: bool = False, layer: int = -1):
        self.name, self.parent, self.children = name, parent, {}
        self.size, self.is_dir, self.layer = size, is_dir, layer
        self.full = f"{parent.full}/{name}" if parent is not None else ""

    def path(self) -> str:
        """The node's path; a whiteout's ``.wh.`` prefix is dropped from the last name (as dive does)."""
        if self.name.startswith(WHITEOUT):
            return self.full[: len(self.full) - len(self.name)] + self.name[len(WHITEOUT) :]
        return self.full

    def child_first(self, leaves_only: bool = False) -> Iterator[Node]:
        """Depth first, children before parents, names in byte order (dive's VisitDepthChildFirst)."""
        for key in sorted(self.children):
            yield from self.children[key].child_first(leaves_only)
        if self.parent is not None and (not leaves_only or not self.children):
            yield self

    def subtree_size(self) -> int:
        return self.size + sum(c.subtree_size() for c in self.children.values())

    def copy(self, parent: Node | None = None) -> Node:
        new = Node(self.name, parent, self.size, self.is_dir, self.layer)
        new.children = {k: c.copy(new) for k, c in self.children.items()}
        return new


class LayerTree:
    """The file tree of one layer, or of several layers stacked."""

    def __init__(self, root: Node | None = None) -> None:
        self.root = root or Node("", None)

    @classmethod
    def from_entries(cls, entries: list[Entry], layer: int = -1) -> LayerTree:
        tree = cls()
        for path, size, typ, _link in entries:
            tree.add_path(path, size, typ == "5", layer)
        return tree

    def add_path(self, path: str, size: int, is_dir: bool, layer: int = -1) -> None:
        """dive's AddPath: intermediate nodes get an empty payload; ``.wh..wh..*`` is never added."""
        names = [n for n in path.strip("/").split("/") if n]
        node = self.root
        for name in names:
            child = node.children.get(name)
            if child is None:
                if name.startswith(_DOUBLE):
                    return
                child = node.children[name] = Node(name, node)
            node = child
        if names:
            node.size, node.is_dir, node.layer = size, is_dir, layer

    def get(self, path: str) -> Node | None:
        node = self.root
        for name in path.strip("/").split("/"):
            if name:
                node = node.children.get(name)
                if node is None:
                    return None
        return node

    def remove(self, path: str) -> bool:
        node = self.get(path)
        if node is None or node.parent is None:
            return False
        del node.parent.children[node.name]
        return True

    def stack(self, upper: LayerTree) -> None:
        """dive's Stack: whiteouts remove, everything else is added (payload replaced)."""
        for node in upper.root.child_first():
            if node.name.startswith(WHITEOUT):
                self.remove(node.path())
            else:
                self.add_path(node.path(), node.size, node.is_dir, node.layer)

    def copy(self) -> LayerTree:
        return LayerTree(self.root.copy())


@dataclass
class DiveFigures:
    """dive's figures for an image.

    Attributes:
        efficiency: dive's efficiency score.
        wasted_bytes: dive's ``inefficientBytes`` (sum of the cumulative sizes of paths seen twice or more).
        inefficient_files: (path, count, cumulative size) in dive's order, biggest first.
    """

    efficiency: float
    wasted_bytes: int
    inefficient_files: list[tuple[str, int, int]]


class _Abort(Exception):
    pass


def dive_efficiency(trees: list[LayerTree]) -> DiveFigures:
    """Compute dive's efficiency score and inefficient files from the layer trees (bottom first)."""
    data: dict[str, list[int]] = {}  # path -> [cumulative, minimum (-1 = unset), count]
    matches: list[str] = []
    stacked: LayerTree | None = None
    upto = -1

    def lower(idx: int) -> LayerTree:  # StackTreeRange(trees, 0, idx-1)
        nonlocal stacked, upto
        if idx == 0:
            return trees[0]
        if stacked is None:
            stacked = trees[0].copy()
        while upto < idx - 1:
            upto += 1
            stacked.stack(trees[upto])
        return stacked

    for idx, tree in enumerate(trees):
        try:
            for node in tree.root.child_first(leaves_only=True):
                path = node.path()
                d = data.get(path)
                if d is None:
                    d = data[path] = [0, -1, 0]
                if node.name.startswith(WHITEOUT):
                    prev = lower(idx).get(path)
                    if prev is None:
                        raise _Abort  # dive stops visiting this layer (and logs an error)
                    size = prev.subtree_size() if prev.is_dir else 0
                else:
                    size = node.size
                d[0] += size
                if d[1] < 0 or size < d[1]:
                    d[1] = size
                d[2] += 1
                if d[2] == 2:
                    matches.append(path)
        except _Abort:
            pass
    minimum = sum(d[1] for d in data.values())
    discovered = sum(d[0] for d in data.values())
    score = 1.0 if discovered == 0 else minimum / discovered
    files = sorted(((p, data[p][2], data[p][0]) for p in matches), key=lambda t: -t[2])
    return DiveFigures(score, sum(f[2] for f in files), files)


@dataclass
class WastedFile:
    """Bytes that ship in a layer but are not visible in the final image."""

    path: str
    layer: int
    size_bytes: int
    reason: str  # "deleted", "overwritten" or "hidden by opaque directory"
    by_layer: int


def _files(node: Node) -> Iterator[Node]:
    for c in node.children.values():
        yield from _files(c)
    if node.parent is not None and node.size:
        yield node


def true_waste(layers: list[list[Entry]]) -> tuple[list[WastedFile], LayerTree]:
    """Every file whose bytes ship in some layer but are shadowed in the final image.

    Layers are applied bottom first: a layer's whiteouts act on the layers below it, then its
    files are added; whatever a whiteout, an opaque directory or a newer file hides is counted.

    Returns:
        The shadowed files, and the final (visible) tree, whose nodes know their layer.
    """
    stack = _WasteStack(_hardlink_groups(layers))
    for idx, entries in enumerate(layers):
        stack.apply_whiteouts(entries, idx)
        stack.add_files(entries, idx)
    return stack.wasted, stack.final


def _hardlink_groups(layers: list[list[Entry]]) -> list[dict[str, list[str]]]:
    """Per layer, path -> the paths sharing its inode (the bytes ship once, with the first)."""
    groups: list[dict[str, list[str]]] = []
    for entries in layers:
        g: dict[str, list[str]] = {}
        for path, _size, typ, link in entries:
            if typ == "1":
                target = "/" + link.strip("/")
                members = g.setdefault(target, [target])
                members.append("/" + path)
                g["/" + path] = members
        groups.append(g)
    return groups


class _WasteStack:
    """The visible tree being stacked layer by layer, and the files it has shadowed so far."""

    def __init__(self, groups: list[dict[str, list[str]]]) -> None:
        self.groups = groups
        self.final = LayerTree()
        self.wasted: list[WastedFile] = []

    def _heir(self, f: Node, root: str) -> Node | None:
        """A still-visible hard link to ``f``'s inode, from the same layer and outside ``root``; None if none."""
        path = f.path()
        for m in self.groups[f.layer].get(path, ()):
            if m == path or m == root or m.startswith(root + "/"):
                continue
            n = self.final.get(m)
            if n is not None and n.layer == f.layer:
                return n
        return None

    def drop(self, node: Node, reason: str, by: int) -> None:
        """Count the files under ``node`` as wasted, unless another hard link keeps their bytes visible."""
        root = node.path()
        for f in _files(node):
            heir = self._heir(f, root)
            if heir is not None:  # another link to the same inode stays visible: the bytes are not wasted
                heir.size = f.size
                continue
            self.wasted.append(WastedFile(f.path(), f.layer, f.size, reason, by))

    def apply_whiteouts(self, entries: list[Entry], idx: int) -> None:
        """Apply layer ``idx``'s whiteouts and opaque markers to the layers below it."""
        for path, _size, _typ, _link in entries:
            base = path.rsplit("/", 1)[-1]
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            if base == OPAQUE:
                node = self.final.get(parent)
                if node is not None:
                    for child in list(node.children.values()):
                        self.drop(child, "hidden by opaque directory", idx)
                    node.children.clear()
            elif base.startswith(WHITEOUT):
                target = (parent + "/" if parent else "") + base[len(WHITEOUT) :]
                node = self.final.get(target)
                if node is not None:
                    self.drop(node, "deleted", idx)
                    self.final.remove(target)

    def add_files(self, entries: list[Entry], idx: int) -> None:
        """Add layer ``idx``'s files, counting what they overwrite (a directory over a directory merges)."""
        for path, size, typ, _link in entries:
            if path.rsplit("/", 1)[-1].startswith(WHITEOUT):
                continue
            old = self.final.get(path)
            is_dir = typ == "5"
            if old is not None and not (old.is_dir and is_dir):
                self.drop(old, "overwritten", idx)
                old.children.clear()
                old.size = 0
            self.final.add_path(path, size, is_dir, idx)
