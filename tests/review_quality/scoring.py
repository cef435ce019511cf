"""How well the review of a design says what a senior reviewer would: the review's yardstick.

Each design under tests/fixtures/review-keys/<name>/ has two revisions (v1-design.md and
v2-design.md) and an answer key (key.yaml) written from the design, not from what the review
happens to say:

- `must`: what a senior reviewer must be told about v1. Each item is a matcher over findings.
- `must_not`: what must not be said about v1 (findings that would be wrong).
- `migration`: the expected verdict of each statement of the migration v1 -> v2.

A matcher names the kind of finding and where it is:

    rules: [regex, ...]          # the rule id must fully match one of them
    category: [API4, DP, ...]    # optional: the finding's category (before ":2023") is one of them
    min_severity: medium         # optional: the finding is at least this severe
    where: [locator, ...]        # optional: ANY location of the finding is at ANY locator

A design-level gap reported once with every place in its `locations` matches when any of those
locations does, so one finding "no 429 anywhere" is accepted, and one finding listing a public
login among the places that lack a 401 is a wrong finding. Locators name the design, not lines:

    operation: "POST /auth/otp"           # the operation object under /paths (all it contains)
    webhook: prescriptionIssued           # an OpenAPI 3.1 webhook
    schema: ConsultationUpdate            # a component schema, optionally one property of it
    property: status                      #   (at any depth: allOf parts, items, properties)
    pointer: /servers/1                   # anything at or under a JSON pointer
    table: consultations                  # a table of the DDL or DBML block, optionally
    column: patient_id                    #   one column: its line and the constraint and index
                                          #   lines that name it
    story: TH-6                           # a story, from its heading to the next one

A location matches a locator when its JSON pointer is at or under the locator's pointer, or
when its line lies within the lines the locator stands for in the analysed document.

The Markdown report's entries: in the `## Findings` section (up to the next `## ` heading),
every heading of level 3 or deeper, and every top-level list item, whose text names a rule id
in backticks, is one entry; entries are counted in the order they appear. An entry stands for
the findings with that rule id one of whose locations (`document:line`) it cites. A `must`
item is "in the first 25 entries" when one of those 25 stands for a finding it matches.

The findings are what the review says: its open findings. A suppressed one (waived by the
design, or a place a rule keeps for the record with its reason) neither satisfies a `must` nor
counts as a wrong finding; in the Markdown it still takes its place among the entries.

Scores per design: recall (share of `must` items some finding matches), the wrong-finding rate
(share of findings that match a `must_not`), how many `must` items are in the first 25
Markdown entries, and migration agreement (share of `migration` items whose verdict is met: the
statement is in the preview, its risk is one the key allows, and where the key says so it has a
safe alternative, one naming what the key expects, and is called breaking).

Run it: `python -m tests.review_quality.scoring` (with the sandbox set up) prints the table
and, per design, what matched, what was missed, the wrong findings and the disagreements.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

KEYS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "review-keys"
MARKDOWN_ENTRIES = 25
GOAL_RECALL = 0.95
GOAL_WRONG_RATE = 0.05
SEVERITIES = ("critical", "high", "medium", "low", "info")
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"  # where a finding's title cuts a statement short
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


def at_least(severity: str, minimum: str | None) -> bool:
    return minimum is None or _RANK[severity] <= _RANK[minimum]


def escape_pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


# ----------------------------------------------------------------------------------------------
# Where things are written in a design document


@dataclass
class DocumentIndex:
    """Line ranges (1-based, inclusive) of what locators name, in one design document."""

    name: str
    pointers: dict[str, tuple[int, int]] = field(default_factory=dict)
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)
    columns: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    stories: dict[str, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, text: str) -> DocumentIndex:
        index = cls(name=name)
        lines = text.splitlines()
        for language, first, body in _fenced_blocks(lines):
            if language in {"openapi", "yaml", "yml", "oas"}:
                index._index_yaml(body, first)
            elif language == "dbml":
                index._index_dbml(body, first)
            elif language in {"sql", "ddl", "postgresql"}:
                index._index_ddl(body, first)
        index._index_stories(lines)
        return index

    def _index_yaml(self, body: list[str], first: int) -> None:
        root = yaml.compose("\n".join(body), Loader=yaml.SafeLoader)
        if root is None:
            return

        def end_line(node: yaml.Node) -> int:
            """The 1-based last line of the node. A block node ends where the next token starts:
            when only indentation precedes that mark, the node ended on the line before."""
            mark = node.end_mark
            before = body[mark.line][: mark.column] if mark.line < len(body) else ""
            return mark.line + (0 if not before.strip() else 1)

        def visit(node: yaml.Node, ptr: str, start: int) -> None:
            self.pointers[ptr] = (start + first - 1, max(start, end_line(node)) + first - 1)
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    visit(value, f"{ptr}/{escape_pointer(str(key.value))}", key.start_mark.line + 1)
            elif isinstance(node, yaml.SequenceNode):
                for position, value in enumerate(node.value):
                    visit(value, f"{ptr}/{position}", value.start_mark.line + 1)

        visit(root, "", root.start_mark.line + 1)

    def _index_ddl(self, body: list[str], first: int) -> None:
        table: str | None = None
        start = 0
        for offset, line in enumerate(body):
            number = first + offset
            created = re.match(r"\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?(\w+)\"?", line, re.IGNORECASE)
            if created:
                table, start = created.group(1).lower(), number
                continue
            if table is not None:
                if re.match(r"\s*\)\s*;", line):
                    self.tables[table] = (start, number)
                    table = None
                    continue
                self._column_line(table, line, number)
                continue
            on_table = re.search(
                r"\bON\s+(?:TABLE\s+)?\"?(\w+)\"?|ALTER\s+TABLE\s+(?:ONLY\s+)?\"?(\w+)\"?", line, re.IGNORECASE
            )
            if on_table and (name := (on_table.group(1) or on_table.group(2)).lower()) in self.tables:
                self._mentions(name, line, number)

    def _index_dbml(self, body: list[str], first: int) -> None:
        table: str | None = None
        start = 0
        depth = 0
        for offset, line in enumerate(body):
            number = first + offset
            opened = re.match(r"\s*Table\s+\"?(\w+)\"?.*\{", line)
            if table is None and opened:
                table, start, depth = opened.group(1).lower(), number, 1
                continue
            if table is None:
                continue
            depth += line.count("{") - line.count("}")
            if depth <= 0:
                self.tables[table] = (start, number)
                table = None
                continue
            self._column_line(table, line, number)

    def _column_line(self, table: str, line: str, number: int) -> None:
        word = re.match(r"\s*\"?(\w+)\"?\s+\S", line)
        if word and word.group(1).upper() not in {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "EXCLUDE"}:
            self.columns.setdefault((table, word.group(1).lower()), []).append(number)
        self._mentions(table, line, number)

    def _mentions(self, table: str, line: str, number: int) -> None:
        """Constraint and index lines name the columns they are about."""
        if re.match(r"\s*(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|CREATE|ALTER|\()", line, re.IGNORECASE):
            for name in {w.lower() for w in re.findall(r"\b\w+\b", line)}:
                lines = self.columns.get((table, name))
                if lines is not None and number not in lines:
                    lines.append(number)

    def _index_stories(self, lines: list[str]) -> None:
        current: str | None = None
        start = 0
        for number, line in enumerate(lines, start=1):
            if line.startswith("#"):
                if current is not None:
                    self.stories[current] = (start, number - 1)
                    current = None
                heading = re.match(r"#{2,6}\s+([A-Za-z][A-Za-z0-9]*-\d+)\b", line)
                if heading:
                    current, start = heading.group(1), number
        if current is not None:
            self.stories[current] = (start, len(lines))


def _fenced_blocks(lines: list[str]) -> Iterator[tuple[str, int, list[str]]]:
    """(language, 1-based line of the block's first line, the block's lines)."""
    inside: str | None = None
    first = 0
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        if inside is None:
            opened = re.match(r"\s*```+\s*(\w*)", line)
            if opened:
                inside, first, body = opened.group(1).lower(), number + 1, []
        elif re.match(r"\s*```+\s*$", line):
            yield inside, first, body
            inside = None
        else:
            body.append(line)


# ----------------------------------------------------------------------------------------------
# Locators and matchers


@dataclass(frozen=True)
class Place:
    """What a locator stands for: pointers (a location at or under one matches) and line ranges."""

    pointers: tuple[str, ...] = ()
    pointer_patterns: tuple[re.Pattern[str], ...] = ()
    lines: tuple[tuple[int, int], ...] = ()

    def holds(self, location: Mapping[str, Any]) -> bool:
        ptr = location.get("pointer")
        if ptr is not None:
            if any(ptr == p or ptr.startswith(p + "/") for p in self.pointers):
                return True
            if any(pattern.match(ptr) for pattern in self.pointer_patterns):
                return True
        line = location.get("line")
        return bool(line) and any(start <= line <= end for start, end in self.lines)


class KeyError_(ValueError):
    """A key names something the design does not have: the key is wrong, not the review."""


def resolve(locator: Mapping[str, Any], index: DocumentIndex) -> Place:
    if "operation" in locator:
        method, _, path = str(locator["operation"]).partition(" ")
        ptr = f"/paths/{escape_pointer(path)}/{method.lower()}"
        return _pointer_place(ptr, index, locator)
    if "webhook" in locator:
        return _pointer_place(f"/webhooks/{escape_pointer(str(locator['webhook']))}", index, locator)
    if "pointer" in locator:
        return _pointer_place(str(locator["pointer"]), index, locator)
    if "schema" in locator:
        base = f"/components/schemas/{escape_pointer(str(locator['schema']))}"
        if base not in index.pointers:
            raise KeyError_(f"{index.name}: no schema {locator['schema']}")
        prop = locator.get("property")
        if prop is None:
            return _pointer_place(base, index, locator)
        pattern = re.compile(rf"^{re.escape(base)}(/.*)?/properties/{re.escape(escape_pointer(str(prop)))}(/.*)?$")
        ranges = tuple(r for p, r in index.pointers.items() if pattern.match(p))
        if not ranges:
            raise KeyError_(f"{index.name}: schema {locator['schema']} has no property {prop}")
        return Place(pointer_patterns=(pattern,), lines=ranges)
    if "table" in locator:
        table = str(locator["table"]).lower()
        if table not in index.tables:
            raise KeyError_(f"{index.name}: no table {table}")
        if "column" not in locator:
            return Place(lines=(index.tables[table],))
        lines = index.columns.get((table, str(locator["column"]).lower()))
        if not lines:
            raise KeyError_(f"{index.name}: table {table} has no column {locator['column']}")
        return Place(lines=tuple((n, n) for n in lines))
    if "story" in locator:
        story = str(locator["story"])
        if story not in index.stories:
            raise KeyError_(f"{index.name}: no story {story}")
        return Place(lines=(index.stories[story],))
    raise KeyError_(f"unknown locator {dict(locator)}")


def _pointer_place(ptr: str, index: DocumentIndex, locator: Mapping[str, Any]) -> Place:
    if ptr not in index.pointers:
        raise KeyError_(f"{index.name}: {dict(locator)} is not in the document ({ptr})")
    return Place(pointers=(ptr,), lines=(index.pointers[ptr],))


@dataclass(frozen=True)
class Matcher:
    id: str
    description: str
    rules: tuple[re.Pattern[str], ...]
    categories: tuple[str, ...]
    min_severity: str | None
    places: tuple[Place, ...]

    @classmethod
    def of(cls, item: Mapping[str, Any], index: DocumentIndex) -> Matcher:
        if not item.get("rules"):
            raise KeyError_(f"{item.get('id')}: a matcher needs rules")
        severity = item.get("min_severity")
        if severity is not None and severity not in _RANK:
            raise KeyError_(f"{item['id']}: unknown severity {severity}")
        return cls(
            id=str(item["id"]),
            description=str(item.get("description", "")),
            rules=tuple(re.compile(r) for r in item["rules"]),
            categories=tuple(item.get("category") or ()),
            min_severity=severity,
            places=tuple(resolve(w, index) for w in item.get("where") or ()),
        )

    def matches(self, finding: Mapping[str, Any]) -> bool:
        return self.matching_location(finding) is not None

    def matching_location(self, finding: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The first location by which the finding matches ({} when the matcher names no
        place), or None when it does not match."""
        if not any(rule.fullmatch(finding["rule_id"]) for rule in self.rules):
            return None
        if self.categories and str(finding.get("category", "")).partition(":")[0] not in self.categories:
            return None
        if not at_least(finding["severity"], self.min_severity):
            return None
        if not self.places:
            return {}
        for loc in finding.get("locations") or ():
            if any(place.holds(loc) for place in self.places):
                return loc
        return None


# ----------------------------------------------------------------------------------------------
# The Markdown report's entries


@dataclass(frozen=True)
class Entry:
    position: int  # 1-based
    rule_ids: frozenset[str]
    cited: frozenset[tuple[str, int]]  # (document, line)

    def stands_for(self, finding: Mapping[str, Any]) -> bool:
        if finding["rule_id"] not in self.rule_ids:
            return False
        return any((loc["document"], loc.get("line")) in self.cited for loc in finding.get("locations") or ())


def markdown_entries(markdown: str, rule_ids: Iterable[str]) -> list[Entry]:
    """The entries of the report's findings list, in order (see the module docstring)."""
    known = set(rule_ids)
    section: list[str] = []
    inside = False
    for line in markdown.splitlines():
        if re.match(r"##\s+Findings\b", line):
            inside = True
            continue
        if inside and re.match(r"##\s", line):
            break
        if inside:
            section.append(line)
    blocks: list[list[str]] = []
    for line in section:
        if re.match(r"#{3,6}\s", line) or re.match(r"(?:[-*+]|\d+[.)])\s", line):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    entries: list[Entry] = []
    for block in blocks:
        text = "\n".join(block)
        named = frozenset(token for token in re.findall(r"`+\s*([^`\s]+)\s*`+", text) if token in known)
        if not named:
            continue
        cited = frozenset(
            (doc, int(line)) for doc, line in re.findall(r"([\w.-]+\.(?:md|ya?ml|json|sql|dbml)):(\d+)", text)
        )
        entries.append(Entry(position=len(entries) + 1, rule_ids=named, cited=cited))
    return entries


# ----------------------------------------------------------------------------------------------
# Migration verdicts


@dataclass(frozen=True)
class Verdict:
    id: str
    description: str
    table: str
    sql: re.Pattern[str]
    risks: tuple[str, ...]
    safe_variant: bool | None
    safe_contains: re.Pattern[str] | None
    breaking: bool | None
    absent_ok: bool = False  # the statement is a by-product a better preview leaves out

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Verdict:
        return cls(
            id=str(item["id"]),
            description=str(item.get("description", "")),
            table=str(item["table"]),
            sql=re.compile(str(item["sql"]), re.IGNORECASE),
            risks=tuple(item["risk"]),
            safe_variant=item.get("safe_variant"),
            safe_contains=re.compile(item["safe_contains"], re.IGNORECASE) if item.get("safe_contains") else None,
            breaking=item.get("breaking"),
            absent_ok=bool(item.get("absent_ok", False)),
        )

    def statements(self, section: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
        return [
            s
            for s in (section or {}).get("statements") or ()
            if s.get("table") == self.table and self.sql.search(s.get("sql") or "")
        ]

    def problems(self, statement: Mapping[str, Any]) -> list[str]:
        """What in the statement's review disagrees with the verdict (nothing: it agrees)."""
        found = []
        if statement.get("risk") not in self.risks:
            found.append(f"risk {statement.get('risk')!r}, expected {'/'.join(self.risks)}")
        safe = statement.get("safe_alternative") or ""
        if self.safe_variant and not safe:
            found.append("no safe alternative")
        if self.safe_contains is not None and not self.safe_contains.search(safe):
            found.append(f"safe alternative lacks /{self.safe_contains.pattern}/")
        if self.breaking is True and not statement.get("breaking"):
            found.append("not called breaking")
        if self.breaking is False and statement.get("breaking"):
            found.append("called breaking")
        return found

    def said(
        self, findings: Sequence[Mapping[str, Any]], statements: Sequence[Mapping[str, Any]] = ()
    ) -> list[Mapping[str, Any]]:
        """The migration findings about this statement: their title or message quotes it (a title
        may be the statement cut short with an ellipsis, after a prefix such as "Breaking change: ")."""
        sqls = [str(s.get("sql") or "") for s in statements]

        def quotes(f: Mapping[str, Any]) -> bool:
            if self.sql.search(f"{f['title']} {f['message']}"):
                return True
            title = str(f["title"]).rstrip(ELLIPSIS).strip()
            quoted = {title, title.split(": ", 1)[-1]}
            return any(len(q) >= 20 and sql.startswith(q) for q in quoted for sql in sqls)

        return [f for f in findings if f["analyzer"] == "migrations" and not f.get("suppressed") and quotes(f)]

    def finding_problems(
        self, findings: Sequence[Mapping[str, Any]], statements: Sequence[Mapping[str, Any]] = ()
    ) -> list[str]:
        """What a reviewer reads must agree too: a risky statement (every allowed risk medium or
        high) or a breaking one has a finding of at least that severity (low for breaking),
        and a safe one (none or low) has no finding of medium or more."""
        said = self.said(findings, statements)
        if all(r in ("medium", "high") for r in self.risks):
            floor = max(self.risks, key=_RANK.__getitem__)  # the least severe risk the key allows
            if not any(at_least(f["severity"], floor) for f in said):
                return [f"no finding of {floor} or more names the statement"]
        elif self.breaking and not any(at_least(f["severity"], "low") for f in said):
            return ["no finding names the statement as breaking"]
        if all(r in ("none", "low") for r in self.risks) and not self.breaking:
            loud = [f"{f['rule_id']} [{f['severity']}]" for f in said if at_least(f["severity"], "medium")]
            if loud:
                return [f"a safe change is reported as {', '.join(loud)}"]
        return []

    def judge(self, section: Mapping[str, Any] | None, findings: Sequence[Mapping[str, Any]] = ()) -> tuple[bool, str]:
        candidates = self.statements(section)
        if not candidates:
            return (True, "") if self.absent_ok else (False, "no such statement in the preview")
        verdicts = [(s, self.problems(s)) for s in candidates]
        said = self.finding_problems(findings, candidates)
        for _statement, problems in verdicts:
            if not problems and not said:
                return True, ""
        return False, "; ".join([*(problem for _, p in verdicts for problem in p), *said])


# ----------------------------------------------------------------------------------------------
# One design's scores


@dataclass
class DesignKey:
    name: str
    directory: Path
    must: list[Mapping[str, Any]]
    must_not: list[Mapping[str, Any]]
    migration: list[Mapping[str, Any]]

    @classmethod
    def load(cls, directory: Path) -> DesignKey:
        data = yaml.safe_load((directory / "key.yaml").read_text(encoding="utf-8"))
        return cls(
            name=directory.name,
            directory=directory,
            must=list(data.get("must") or ()),
            must_not=list(data.get("must_not") or ()),
            migration=list(data.get("migration") or ()),
        )

    @property
    def v1(self) -> Path:
        return self.directory / "v1-design.md"

    @property
    def v2(self) -> Path:
        return self.directory / "v2-design.md"


@dataclass
class Scores:
    design: str
    findings: int
    by_severity: dict[str, int]
    must: int
    matched: list[str]
    evidence: dict[str, str]  # must id -> the first finding that matches it
    missed: list[tuple[str, str]]  # (id, description)
    wrong: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]]  # (must_not id, finding, the location)
    in_top: list[str]
    not_in_top: list[tuple[str, str]]  # (id, where its best match is, or that there is none)
    verdicts: int
    agreed: list[str]
    disagreed: list[tuple[str, str]]  # (id, why)
    migration_findings: int = 0
    failures: list[str] = field(default_factory=list)  # analyzers that failed, with their reason

    @property
    def recall(self) -> float:
        return len(self.matched) / self.must if self.must else 1.0

    @property
    def wrong_rate(self) -> float:
        return len({id(f) for _, f, _ in self.wrong}) / self.findings if self.findings else 0.0

    @property
    def top_share(self) -> float:
        return len(self.in_top) / self.must if self.must else 1.0

    @property
    def agreement(self) -> float:
        return len(self.agreed) / self.verdicts if self.verdicts else 1.0


def score(
    key: DesignKey,
    *,
    report: Mapping[str, Any],
    markdown: str,
    migration_report: Mapping[str, Any],
) -> Scores:
    """Score one design: `report` and `markdown` are v1's JSON and Markdown reports,
    `migration_report` the JSON report of v2 against v1."""
    index = DocumentIndex.of(key.v1.name, key.v1.read_text(encoding="utf-8"))
    # What the review says is its open findings: a waived or rule-suppressed place is kept in
    # the report for the record, not said to the reviewer.
    findings = [f for f in report["findings"] if not f.get("suppressed")]
    musts = [Matcher.of(item, index) for item in key.must]
    must_nots = [Matcher.of(item, index) for item in key.must_not]
    every_entry = markdown_entries(markdown, {f["rule_id"] for f in report["findings"]})
    entries = every_entry[:MARKDOWN_ENTRIES]

    matched, missed, in_top, not_in_top = [], [], [], []
    evidence: dict[str, str] = {}
    for matcher in musts:
        hits = [f for f in findings if matcher.matches(f)]
        if hits:
            matched.append(matcher.id)
            loc = matcher.matching_location(hits[0]) or {}
            evidence[matcher.id] = (
                f"{hits[0]['rule_id']} [{hits[0]['severity']}] at {loc.get('pointer') or ''} line {loc.get('line')}"
            )
        else:
            missed.append((matcher.id, matcher.description))
        if any(entry.stands_for(f) for entry in entries for f in hits):
            in_top.append(matcher.id)
        else:
            first = next((e.position for e in every_entry if any(e.stands_for(f) for f in hits)), None)
            where = (
                "no finding"
                if not hits
                else f"first matching entry is #{first} of {len(every_entry)}"
                if first
                else "a finding matches, but no Markdown entry stands for it"
            )
            not_in_top.append((matcher.id, where))
    wrong = [(m.id, f, loc) for f in findings for m in must_nots if (loc := m.matching_location(f)) is not None]

    section = migration_report.get("migrations")
    agreed, disagreed = [], []
    for item in key.migration:
        verdict = Verdict.of(item)
        ok, why = verdict.judge(section, migration_report["findings"])
        if ok:
            agreed.append(verdict.id)
        else:
            disagreed.append((verdict.id, why))
    return Scores(
        design=key.name,
        findings=len(findings),
        by_severity=dict(Counter(f["severity"] for f in findings)),
        must=len(musts),
        matched=matched,
        evidence=evidence,
        missed=missed,
        wrong=wrong,
        in_top=in_top,
        not_in_top=not_in_top,
        verdicts=len(key.migration),
        agreed=agreed,
        disagreed=disagreed,
        migration_findings=sum(1 for f in migration_report["findings"] if f["analyzer"] == "migrations"),
        failures=[
            f"{which}: {a['name']} failed: {a['reason']}"
            for which, r in (("v1", report), ("v1 -> v2", migration_report))
            for a in r["analyzers"]
            if a["status"] == "failed"
        ],
    )


def designs() -> list[DesignKey]:
    return [DesignKey.load(d) for d in sorted(KEYS_DIR.iterdir()) if (d / "key.yaml").is_file()]


# ----------------------------------------------------------------------------------------------
# Running the review: the path `manage.py analyze` takes


def review(path: Path, *, base: Path | None = None) -> tuple[dict[str, Any], str]:
    """The JSON report and its Markdown rendering of a design (against `base`, when given), by the
    engine functions `manage.py analyze` calls, with the sandbox for the migration preview."""
    from apps.analysis.engine.pipeline import analyze
    from apps.analysis.services import analyzer_context, tool_version
    from apps.designs.engine.loader import input_from_file
    from apps.designs.services import parse_limits
    from apps.reports.engine.report import build_report
    from apps.reports.services import report_render

    outcome = analyze(
        input_from_file(path.name, path.read_text(encoding="utf-8")),
        limits=parse_limits(),
        base=input_from_file(base.name, base.read_text(encoding="utf-8")) if base is not None else None,
        context=analyzer_context(with_sandbox=True),
    )
    if not outcome.analysable:
        raise RuntimeError(f"{path}: {outcome.parse.fatal[0].message}")
    report = build_report(outcome, generated_at=datetime.now(tz=UTC).isoformat(), tool_version=tool_version())
    return report, report_render(report=report, fmt="md")


def score_design(key: DesignKey) -> Scores:
    report, markdown = review(key.v1)
    migration_report, _ = review(key.v2, base=key.v1)
    return score(key, report=report, markdown=markdown, migration_report=migration_report)


# ----------------------------------------------------------------------------------------------
# Printing


def _pct(value: float) -> str:
    return f"{value * 100:5.1f} %"


def table(all_scores: Sequence[Scores]) -> str:
    header = (
        f"{'design':<11} {'findings':>8} {'crit/high/med/low/info':>23} {'recall':>8} {'wrong':>8} "
        f"{'top ' + str(MARKDOWN_ENTRIES):>8} {'migration':>10}"
    )
    lines = [header, "-" * len(header)]
    for s in all_scores:
        severities = "/".join(str(s.by_severity.get(name, 0)) for name in SEVERITIES)
        lines.append(
            f"{s.design:<11} {s.findings:>8} {severities:>23} "
            f"{_pct(s.recall):>8} {_pct(s.wrong_rate):>8} "
            f"{f'{len(s.in_top)}/{s.must}':>8} {f'{len(s.agreed)}/{s.verdicts}':>10}"
        )
        lines.append(
            f"{'':<11} must matched {len(s.matched)}/{s.must}; wrong findings "
            f"{len({id(f) for _, f, _ in s.wrong})}/{s.findings}; migration findings {s.migration_findings}"
        )
    lines.append(
        f"goals: recall >= {GOAL_RECALL:.0%}, wrong findings <= {GOAL_WRONG_RATE:.0%}, every must item in the "
        f"first {MARKDOWN_ENTRIES} Markdown entries, every migration verdict met"
    )
    return "\n".join(lines)


def details(s: Scores) -> str:
    lines = [f"== {s.design}"]
    lines += [f"  FAILED     {failure}" for failure in s.failures]
    lines += [f"  matched    {i}: {e}" for i, e in s.evidence.items()]
    lines += [f"  missed     {i}: {d}" for i, d in s.missed]
    seen: set[tuple[str, str]] = set()
    for must_not, finding, loc in s.wrong:
        key = (must_not, finding["fingerprint"])
        if key in seen:
            continue
        seen.add(key)
        places = len(finding.get("locations") or ())
        lines.append(
            f"  wrong      {must_not}: {finding['rule_id']} [{finding['severity']}] at "
            f"{loc.get('pointer') or ''} line {loc.get('line')}"
            + (f" (one of its {places} places)" if places > 1 else "")
        )
    lines += [f"  not top {MARKDOWN_ENTRIES} {i}: {why}" for i, why in s.not_in_top]
    lines += [f"  migration  {i}: {why}" for i, why in s.disagreed]
    return "\n".join(lines)


def main() -> None:
    import django

    django.setup()
    from apps.sandbox import engine as sandbox
    from apps.sandbox.services import sandbox_config

    sandbox.setup(sandbox_config())
    all_scores = [score_design(key) for key in designs()]
    print(table(all_scores))
    for s in all_scores:
        print(details(s))


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    main()
