"""Row counts as design docs write them: 40M, 2k, 1.5B, 120,000, 3 million."""

from __future__ import annotations

import re

_MULTIPLIERS = {
    "": 1,
    "k": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "million": 1_000_000,
    "millions": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
COUNT = r"(?P<number>\d[\d,_]*(?:\.\d+)?)\s*(?P<unit>k|m|mn|b|bn|thousand|millions?|billion)?\b"
_COUNT = re.compile(COUNT, re.IGNORECASE)
_ROWS_NOTE = re.compile(r"\brows?\s*[:=]\s*~?\s*" + COUNT, re.IGNORECASE)


def parse_count(text: str) -> int | None:
    """`40M` -> 40_000_000; None when the text does not start with a count."""
    match = _COUNT.match(text.strip())
    return _count(match) if match else None


def _count(match: re.Match[str]) -> int:
    number = float(match.group("number").replace(",", "").replace("_", ""))
    return round(number * _MULTIPLIERS[(match.group("unit") or "").lower()])


def rows_from_note(note: str) -> int | None:
    """The declared volume in a table note or comment such as `rows: 40M`."""
    match = _ROWS_NOTE.search(note)
    return _count(match) if match else None
