"""What the project's documentation says of a rule, read from the docs' Markdown by rule id.

Input: the documents as `{file name: Markdown text}` (docs/security-rules.md,
docs/migration-rules.md, docs/queryplans.md, ...). A rule is documented where a table row's first
cell is its id in backticks (`sec.api2.http-basic`): that row, under its table's header, is the
rule's entry. Every other paragraph, list item or table row naming the id in backticks is a
mention, kept with the heading it sits under. Code blocks are skipped. Output: plain data; the
Markdown of cells and mentions is turned into escaped HTML by `inline_html` (code, bold, links).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

# A rule id: dotted words (`sec.api2.http-basic`, `mig.breaking-change`, `queryplans.spill`).
RULE_ID = re.compile(r"^[a-z][a-z0-9]*(?:\.[a-z0-9][a-z0-9-]*)+$")
_FILE_SUFFIXES = frozenset({"py", "md", "sql", "json", "yaml", "yml", "txt", "html", "toml"})
MAX_MENTIONS = 12


@dataclass(frozen=True, slots=True)
class Mention:
    document: str
    section: str  # the heading the text sits under ("" before the first one)
    text: str  # Markdown


@dataclass(frozen=True, slots=True)
class RuleDoc:
    rule_id: str
    document: str | None  # where the rule's own entry is, if it has one
    section: str
    fields: tuple[tuple[str, str], ...]  # (column header, cell Markdown) of the entry's row
    mentions: tuple[Mention, ...]

    @property
    def documented(self) -> bool:
        return bool(self.fields or self.mentions)


def _cells(line: str) -> list[str]:
    """A Markdown table row's cells; a `|` inside backticks stays in its cell."""
    body = line.strip().removeprefix("|").removesuffix("|")
    cells, current, in_code = [], [], False
    for char in body:
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    cells.append("".join(current).strip())
    return cells


def _blocks(text: str) -> list[tuple[str, str, list[str]]]:
    """(kind, section, lines) of each block: a table, or a paragraph / list item. Code fences
    and headings are not blocks; a heading sets the section of what follows."""
    blocks: list[tuple[str, str, list[str]]] = []
    section = ""
    current: list[str] = []
    kind = ""
    fenced = False

    def close() -> None:
        nonlocal current, kind
        if current:
            blocks.append((kind, section, current))
        current, kind = [], ""

    for raw in text.splitlines():
        line = raw.rstrip()
        if line.lstrip().startswith("```"):
            close()
            fenced = not fenced
            continue
        if fenced:
            continue
        if line.startswith("#"):
            close()
            section = line.lstrip("#").strip()
            continue
        if not line.strip():
            close()
            continue
        line_kind = "table" if line.lstrip().startswith("|") else "text"
        starts_item = line_kind == "text" and re.match(r"^\s*(?:[-*]|\d+\.)\s", line) is not None
        if kind and (line_kind != kind or starts_item):
            close()
        kind = line_kind
        current.append(line.strip())
    close()
    return blocks


def rule_doc(rule_id: str, documents: Mapping[str, str]) -> RuleDoc:
    """The documentation of `rule_id` in `documents` (see the module docstring). A rule no
    document names has no fields and no mentions (`documented` is False)."""
    token = f"`{rule_id}`"
    entry: tuple[str | None, str, tuple[tuple[str, str], ...]] = (None, "", ())
    mentions: list[Mention] = []
    for name in sorted(documents):
        for kind, section, lines in _blocks(documents[name]):
            if kind == "table":
                header = _cells(lines[0])
                for line in lines[2:] if len(lines) > 1 and set(lines[1]) <= set("|-: ") else lines[1:]:
                    if token not in line:
                        continue
                    cells = _cells(line)
                    if cells and cells[0] == token and entry[0] is None:
                        entry = (name, section, tuple(zip(header[1:], cells[1:], strict=False)))
                    else:
                        text = "; ".join(
                            f"{h}: {c}" if h else c for h, c in zip(header, cells, strict=False) if c.strip()
                        )
                        mentions.append(Mention(name, section, text))
            else:
                text = " ".join(lines)
                if token in text:
                    mentions.append(Mention(name, section, text))
    return RuleDoc(
        rule_id=rule_id,
        document=entry[0],
        section=entry[1],
        fields=entry[2],
        mentions=tuple(mentions[:MAX_MENTIONS]),
    )


def is_rule_id(value: str) -> bool:
    """Whether `value` is spelled like a rule id (and not like a file name)."""
    return len(value) <= 100 and RULE_ID.match(value) is not None and value.rsplit(".", 1)[1] not in _FILE_SUFFIXES


def documented_rule_ids(documents: Mapping[str, str]) -> frozenset[str]:
    """Every rule id that has an entry (heads a table row) in `documents`."""
    found = set()
    for text in documents.values():
        for kind, _, lines in _blocks(text):
            if kind != "table":
                continue
            for line in lines:
                first = _cells(line)[0]
                name = first.strip("`")
                if first.startswith("`") and first.endswith("`") and is_rule_id(name):
                    found.add(name)
    return frozenset(found)


_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\((https?://[^)\s]+|/[^)\s]*)\)")


def inline_html(markdown: str) -> str:
    """Markdown's inline code, bold and links as HTML; everything else escaped as text."""
    out: list[str] = []
    last = 0
    for match in _INLINE.finditer(markdown):
        out.append(escape(markdown[last : match.start()]))
        code, bold, label, url = match.groups()
        if code is not None:
            out.append(f"<code>{escape(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{escape(bold)}</strong>")
        else:
            out.append(f'<a href="{escape(url, quote=True)}">{escape(label)}</a>')
        last = match.end()
    out.append(escape(markdown[last:]))
    return "".join(out)
