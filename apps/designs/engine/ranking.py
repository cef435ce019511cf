"""The order a reviewer reads findings in: a priority from severity, breadth (how many operations
or tables a finding touches) and whether a story depends on it (a finding on an endpoint or a
table a story uses, or citing the story itself).

    priority = weight(severity) x (1 + 0.5 x min(1, log10(breadth))) x (1.75 if a story depends on it)

Breadth counts up to ten places (a gap on ten operations weighs half as much again as one on a
single operation; one on a thousand no more than that), so severity leads: a high finding (300)
outranks every medium one. A story depends on a finding that cites the story's own line (the
story states it), or that is about one of its endpoints or tables and touches at most three
operations or tables (or places elsewhere): a design-wide gap touches every story and singles
none out. So a requirement a story states (a low 52) reads before schema hygiene spread over the
whole API (a low 45). Suppressed findings come last (priority 0). Findings of equal priority keep
their order. Every report (JSON, Markdown, the run page) lists findings in this order;
`top_problems` groups the first of them by story and endpoint.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import re
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

from apps.designs.engine.findings import Finding
from apps.designs.engine.matching import match_endpoint
from apps.designs.engine.model import DesignModel, SourceRef
from apps.designs.engine.structured import unescape_pointer_part

SEVERITY_WEIGHT = {"critical": 1000, "high": 300, "medium": 100, "low": 30, "info": 10}
STORY_FACTOR = 1.75
BREADTH_FACTOR = 0.5
STORY_PLACES = 3  # a finding touching more operations or tables is design-wide: no story singled out
# A place in a component schema counts for the operations whose bodies reach the schema, in
# designs of at most this many operations (which schemas an operation reaches is worked out per
# operation; a public API of thousands of operations keeps such places uncounted).
SCHEMA_REACH_MAX_OPERATIONS = 300
MAX_CONTEXT = 20  # stories and endpoints named per finding; a design-level one may touch thousands
_UNSEEN = object()  # a pointer not yet looked up (its operation may be None)
# The part of a pointer that names an operation: /paths/<path>/<method> (or /webhooks/<name>/<method>),
# "" for a pointer in none (no operation's pointer is empty). It always matches, so that a design-wide
# finding's thousands of pointers are looked up through `map`, with no Python step per pointer.
_OPERATION_POINTER = re.compile(r"/(?:paths|webhooks)/[^/]*/[^/]*|").match
_matched = re.Match.group
_pointer_of = attrgetter("pointer")


@dataclasses.dataclass(slots=True)
class _Index:
    """Where each endpoint and table is written, and the stories that use them."""

    operations: dict[str, str]  # JSON pointer of an operation -> its label (METHOD /path)
    endpoint_lines: dict[tuple[str, int], str]  # (document, line) of an endpoint -> its label
    tables: dict[tuple[str, int], str]  # (document, line) of a table or its columns -> table name
    stories_of_endpoint: dict[str, tuple[str, ...]]  # label -> story ids
    stories_of_table: dict[str, tuple[str, ...]]  # table -> story ids
    story_lines: dict[tuple[str, int], str]  # (document, line) of a story's heading -> its id
    model: DesignModel
    # component schema name -> labels of the operations reaching it, built on first need
    schema_users: dict[str, tuple[str, ...]] | None = None

    def users_of(self, schema: str) -> tuple[str, ...]:
        if self.schema_users is None:
            users: dict[str, list[str]] = {}
            if len(self.model.endpoints) <= SCHEMA_REACH_MAX_OPERATIONS:
                for endpoint in self.model.endpoints:
                    for name in endpoint.schema_names:
                        users.setdefault(name, []).append(f"{endpoint.method} {endpoint.path}")
            self.schema_users = {k: tuple(v) for k, v in users.items()}
        return self.schema_users.get(schema, ())


def _index(model: DesignModel) -> _Index:
    operations: dict[str, str] = {}
    endpoint_lines: dict[tuple[str, int], str] = {}
    for endpoint in (*model.endpoints, *getattr(model, "webhooks", ())):
        label = f"{endpoint.method} {endpoint.path}"
        pointer = endpoint.source.pointer
        if pointer:
            operations[pointer] = label
        if endpoint.source.line is not None:
            endpoint_lines[endpoint.source.document, endpoint.source.line] = label
    tables: dict[tuple[str, int], str] = {}
    for entity in model.entities:
        for source in (entity.source, *(c.source for c in entity.columns)):
            if source.line is not None:
                tables[source.document, source.line] = entity.name
    stories_of_endpoint: dict[str, list[str]] = {}
    stories_of_table: dict[str, list[str]] = {}
    story_lines: dict[tuple[str, int], str] = {}
    for story in model.stories:
        if story.source.line is not None:
            story_lines[story.source.document, story.source.line] = story.id
        for line, _ in story.lines:  # a finding may cite the sentence that makes the promise
            story_lines.setdefault((story.source.document, line), story.id)
        for ref in story.endpoints:
            endpoint = match_endpoint(ref, model.endpoints)
            if endpoint is None:
                continue
            stories_of_endpoint.setdefault(f"{endpoint.method} {endpoint.path}", []).append(story.id)
            for table in endpoint.entities:
                stories_of_table.setdefault(table, []).append(story.id)
    return _Index(
        operations=operations,
        endpoint_lines=endpoint_lines,
        tables=tables,
        stories_of_endpoint={k: tuple(dict.fromkeys(v)) for k, v in stories_of_endpoint.items()},
        stories_of_table={k: tuple(dict.fromkeys(v)) for k, v in stories_of_table.items()},
        story_lines=story_lines,
        model=model,
    )


def _operation_of(pointer: str, operations: dict[str, str]) -> str | None:
    """The operation a pointer lies in (`/paths/~1a/get/responses/200` -> `GET /a`)."""
    return operations.get(_OPERATION_POINTER(pointer).group())


def _context(
    locations: Sequence[SourceRef], index: _Index, labels: dict[str, str | None]
) -> tuple[dict[str, None], dict[str, None], list[str], bool]:
    """(endpoints, tables, stories) the locations touch, and whether a story's own line is
    among them (the story states the finding's requirement itself). `labels` remembers the
    operation of each pointer met (None: in none), for the findings ranked with it.

    Endpoints and tables are kept in the order the places name them (dicts, not sets: a set of
    strings iterates in an order that changes from one process to the next, and the stories,
    gathered from them, would be listed in it)."""
    cited = False
    endpoints: dict[str, None] = {}
    tables: dict[str, None] = {}
    stories: list[str] = []
    operations = index.operations
    few = len(locations) <= STORY_PLACES  # a design-wide finding's schema places are not traced
    if not few:
        # A design-wide finding on a large API names thousands of places, all in the API document
        # as a rule: then they touch the operations they lie in and nothing else, looked up by
        # pointer with no loop written here.
        pointers = list(map(_pointer_of, locations))
        if all(pointers):
            # `_operation_of` of each, in the order of the places, as the loop below adds them
            endpoints = dict.fromkeys(
                filter(None, map(operations.get, map(_matched, map(_OPERATION_POINTER, pointers))))
            )
            if index.stories_of_endpoint:
                for label in endpoints:
                    stories.extend(index.stories_of_endpoint.get(label, ()))
            return endpoints, tables, list(dict.fromkeys(stories)), cited
    for loc in locations:
        pointer = loc.pointer
        if pointer:  # a place in the API document
            # A large API's findings name a hundred thousand places, half of them twice.
            label = labels.get(pointer, _UNSEEN)
            if label is _UNSEEN:
                label = labels[pointer] = _operation_of(pointer, operations)
            if label is not None:
                endpoints[label] = None
            elif few and pointer.startswith("/components/schemas/"):
                endpoints.update(dict.fromkeys(index.users_of(unescape_pointer_part(pointer.split("/", 4)[3]))))
            continue
        if loc.line is None:
            continue
        key = (loc.document, loc.line)  # a place in the data model or the stories
        label = index.endpoint_lines.get(key)
        if label is not None:
            endpoints[label] = None
        table = index.tables.get(key)
        if table is not None:
            tables[table] = None
        story = index.story_lines.get(key)
        if story is not None:
            stories.append(story)
            cited = True
    for label in endpoints:
        stories.extend(index.stories_of_endpoint.get(label, ()))
    for table in tables:
        stories.extend(index.stories_of_table.get(table, ()))
    return endpoints, tables, list(dict.fromkeys(stories)), cited


def priority(severity: str, *, breadth: int, story: bool, suppressed: bool) -> int:
    """See the module docstring."""
    if suppressed:
        return 0
    score = SEVERITY_WEIGHT[severity] * (1 + BREADTH_FACTOR * min(1.0, math.log10(max(1, breadth))))
    return round(score * (STORY_FACTOR if story else 1))


def rank(findings: Iterable[Finding], model: DesignModel) -> list[Finding]:
    """The findings with their priority, stories and endpoints set, highest priority first."""
    index = _index(model)
    labels: dict[str, str | None] = {}
    ranked = []
    for finding in findings:
        endpoints, tables, stories, cited = _context(finding.locations, index, labels)
        # Operations and tables touched; schema objects and the like count a place each.
        breadth = len(endpoints) + len(tables) or len(finding.locations)
        ranked.append(
            finding.replaced(
                priority=priority(
                    finding.severity,
                    breadth=breadth,
                    story=cited or (bool(stories) and breadth <= STORY_PLACES),
                    suppressed=bool(finding.suppressed),
                ),
                stories=tuple(stories[:MAX_CONTEXT]),
                # the first few in order: a design-wide finding touches thousands
                endpoints=tuple(heapq.nsmallest(MAX_CONTEXT, endpoints)),
            )
        )
    ranked.sort(key=lambda f: -f.priority)
    return ranked


def top_problems(findings: Sequence[dict[str, Any]], *, limit: int) -> list[dict[str, Any]]:
    """The first `limit` open findings (already in priority order) grouped by the story they
    concern, then by endpoint, then the rest: what a report opens with."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for finding in findings:
        if finding.get("suppressed"):
            continue
        if sum(len(v) for v in groups.values()) >= limit:
            break
        stories = finding.get("stories") or []
        endpoints = finding.get("endpoints") or []
        if stories:
            key = ("story", stories[0])
        elif endpoints:
            key = ("endpoint", endpoints[0])
        else:
            key = ("design", "")
        groups.setdefault(key, []).append(finding)
    order = {"story": 0, "endpoint": 1, "design": 2}
    return [
        {"by": kind, "name": name, "findings": [f["fingerprint"] for f in items]}
        for (kind, name), items in sorted(groups.items(), key=lambda item: order[item[0][0]])
    ]


def mark_changes(findings: Sequence[Finding], base: Sequence[Finding]) -> tuple[list[Finding], list[Finding]]:
    """Against the base revision's findings of the same analyzers (matched by fingerprint, which
    never depends on lines): each finding marked "new" or "unchanged", and the base's findings
    that are gone (fixed), in their order."""
    before = {f.fingerprint for f in base}
    now = {f.fingerprint for f in findings}
    marked = [f.replaced(change="unchanged" if f.fingerprint in before else "new") for f in findings]
    return marked, [f for f in base if f.fingerprint not in now]
