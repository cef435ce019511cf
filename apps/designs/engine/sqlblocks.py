"""How SQL blocks are cut into `-- name:` sections. Kept apart from the SQL parser so that
recognising a block costs no import of PostgreSQL's grammar."""

from __future__ import annotations

import re

NAME_MARKER = re.compile(
    r"^[ \t]*--[ \t]*name[ \t]*:[ \t]*(?P<name>[\w.-]+)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)


def has_named_queries(text: str) -> bool:
    return NAME_MARKER.search(text) is not None


def split_named(text: str) -> tuple[str, list[tuple[str, str, int]]]:
    """Split a block into its leading text (DDL, if any) and (name, sql, char offset) sections."""
    markers = list(NAME_MARKER.finditer(text))
    if not markers:
        return text, []
    sections = []
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(text)
        body_start = marker.end() + 1
        sections.append((marker.group("name"), text[body_start:end], body_start))
    return text[: markers[0].start()], sections
