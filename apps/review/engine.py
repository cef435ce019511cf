"""Line arithmetic of a review, pure: where a commented line went in a later text, and the
diff of two texts with line numbers. Plain strings in, plain tuples out; no Django."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import Match, SequenceMatcher
from itertools import accumulate
from typing import Literal

Opcode = tuple[str, int, int, int, int]


class _TooCostly(Exception):
    pass


class _BoundedMatcher(SequenceMatcher[str]):
    """SequenceMatcher that gives up (`_TooCostly`) once its searches for the longest match would
    have looked at more than `max_pairs` pairs of equal lines: texts of a few lines repeated
    thousands of times (crafted, or a long table of blank cells) cost it time that grows with
    the cube of their length, minutes for two thousand lines."""

    def __init__(self, a: list[str], b: list[str], *, max_pairs: int) -> None:
        super().__init__(None, a, b, autojunk=False)
        self._left = max_pairs
        # The pairs a search over a[lo:hi] may look at: each line's occurrences in b.
        self._pairs = list(accumulate((len(self.b2j.get(line, ())) for line in a), initial=0))

    def find_longest_match(self, alo: int = 0, ahi: int | None = None, blo: int = 0, bhi: int | None = None) -> Match:
        ahi = len(self.a) if ahi is None else ahi
        self._left -= self._pairs[ahi] - self._pairs[alo] + 1
        if self._left < 0:
            raise _TooCostly
        return super().find_longest_match(alo, ahi, blo, bhi)


def line_opcodes(old: Sequence[str], new: Sequence[str], *, max_lines: int, max_pairs: int = 2_000_000) -> list[Opcode]:
    """difflib's opcodes ('equal', 'replace', 'delete', 'insert', i1, i2, j1, j2) turning `old`
    into `new`, compared line by line.

    The common head and tail are matched first without difflib (an edit usually touches a few
    lines of a long document); the middle is given to SequenceMatcher (no autojunk, so blank and
    frequent lines still anchor) only when neither side of it is longer than `max_lines`, since
    its cost grows with the product of the two, and only while its searches look at no more than
    `max_pairs` pairs of equal lines. A longer or costlier middle counts as replaced as a whole.
    """
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
        tail += 1
    old_mid = old[head : len(old) - tail]
    new_mid = new[head : len(new) - tail]
    ops: list[Opcode] = []
    if head:
        ops.append(("equal", 0, head, 0, head))
    if old_mid or new_mid:
        middle: list[Opcode] | None = None
        if old_mid and new_mid and len(old_mid) <= max_lines and len(new_mid) <= max_lines:
            try:
                middle = _BoundedMatcher(list(old_mid), list(new_mid), max_pairs=max_pairs).get_opcodes()
            except _TooCostly:
                middle = None
        if middle is None:
            tag = "replace" if old_mid and new_mid else ("delete" if old_mid else "insert")
            ops.append((tag, head, head + len(old_mid), head, head + len(new_mid)))
        else:
            ops.extend((tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in middle)
    if tail:
        ops.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return ops


def map_line(old: Sequence[str], new: Sequence[str], line: int, *, max_lines: int = 20_000) -> int | None:
    """Where 1-based `line` of `old` is in `new`: its 1-based number there when the line is
    kept unchanged (moved by lines inserted or deleted around it), else None (edited or
    deleted). A line repeated in the text follows its own occurrence, matched in order."""
    return map_lines(old, new, [line], max_lines=max_lines)[line]


def map_lines(
    old: Sequence[str], new: Sequence[str], lines: Sequence[int], *, max_lines: int = 20_000, max_pairs: int = 2_000_000
) -> dict[int, int | None]:
    """`map_line` for many lines of the same pair of texts, comparing them once."""
    ops = line_opcodes(old, new, max_lines=max_lines, max_pairs=max_pairs)
    mapped: dict[int, int | None] = {}
    for line in lines:
        index = line - 1
        op = next((op for op in ops if op[1] <= index < op[2]), None)
        mapped[line] = op[3] + (index - op[1]) + 1 if op is not None and op[0] == "equal" else None
    return mapped


@dataclass(frozen=True)
class DiffLine:
    kind: Literal["context", "removed", "added"]
    old_number: int | None
    new_number: int | None
    text: str


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[DiffLine, ...]

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"


def diff_hunks(
    old: Sequence[str], new: Sequence[str], *, context: int = 3, max_lines: int = 20_000, max_pairs: int = 2_000_000
) -> list[Hunk]:
    """A unified diff of two texts' lines as hunks of numbered lines (`context` unchanged lines
    around each change). Empty when the texts are equal."""
    ops = line_opcodes(old, new, max_lines=max_lines, max_pairs=max_pairs)
    hunks: list[Hunk] = []
    for group in _grouped(ops, context):
        rows: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(DiffLine("context", i1 + k + 1, j1 + k + 1, old[i1 + k]) for k in range(i2 - i1))
                continue
            rows.extend(DiffLine("removed", i + 1, None, old[i]) for i in range(i1, i2))
            rows.extend(DiffLine("added", None, j + 1, new[j]) for j in range(j1, j2))
        first, last = group[0], group[-1]
        hunks.append(
            Hunk(
                old_start=first[1] + 1 if last[2] > first[1] else first[1],
                old_count=last[2] - first[1],
                new_start=first[3] + 1 if last[4] > first[3] else first[3],
                new_count=last[4] - first[3],
                lines=tuple(rows),
            )
        )
    return hunks


def _grouped(ops: list[Opcode], context: int) -> list[list[Opcode]]:
    """SequenceMatcher.get_grouped_opcodes' grouping, over opcodes already computed."""
    if not ops or all(op[0] == "equal" for op in ops):
        return []
    codes = list(ops)
    tag, i1, i2, j1, j2 = codes[0]
    if tag == "equal":
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = codes[-1]
    if tag == "equal":
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    span = context + context
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > span:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups
