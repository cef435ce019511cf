"""User stories from Markdown: `### ORD-1: title` headings and the lines under them.

Recognised lines (case-insensitive): `As a <role>, I want <goal>, so that <benefit>.`,
`Acceptance criteria:` followed by a bullet list, `Performance: p95 < 150 ms at 400 req/s`,
`Volume: 40M orders, 3M customers`, `Endpoints: GET /v1/orders, POST /v1/orders` and
`Queries: name, name`. Anything else under the heading is free text and ignored.
"""

from __future__ import annotations

import re

from apps.designs.engine.model import Budget, EndpointRef, SourceRef, Story, Volume
from apps.designs.engine.volumes import COUNT, parse_count

# The id and the title are separated by a colon, a dot, or a hyphen, en dash or em dash.
_STORY_ID = re.compile(r"^(?P<id>[A-Za-z][A-Za-z0-9]*-\d+[A-Za-z0-9]*)\s*[:.\-\u2013\u2014]\s*(?P<title>.*)$")
_AS_A = re.compile(
    r"\bas an?\s+(?P<role>.+?),\s*i (?:want|need|would like)(?: to)?\s+(?P<goal>.+?)(?:,?\s*so that\s+(?P<benefit>.+?))?\.?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?P<label>acceptance criteria|performance|budget|latency|volumes?|endpoints?|queries)(?:\*\*)?\s*:(?:\*\*)?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?P<text>.+)$")
_BUDGET = re.compile(
    r"\b(?P<pct>p\d{2}(?:\.\d+)?|median|avg|average)\s*(?:<=|<|≤|under|below)\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|sec|seconds)\b"
    r"(?:\s*(?:at|@|for)\s*(?P<rate>\d[\d,]*(?:\.\d+)?\s*[km]?)\s*(?:req(?:uests)?/s|rps|requests per second|/s))?",
    re.IGNORECASE,
)
_VOLUME = re.compile(COUNT + r"\s+(?P<noun>[A-Za-z][\w \-]*)", re.IGNORECASE)
_ENDPOINT = re.compile(
    r"\b(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|TRACE)\s+`?(?P<path>/[^\s,`;]*)",
    re.IGNORECASE,
)
_QUERY_NAME = re.compile(r"`?(?P<name>[A-Za-z_][\w.-]*)`?")


def is_story_heading(title: str, body: list[str]) -> bool:
    if _STORY_ID.match(title.strip()):
        return True
    return any(_AS_A.search(line) or _LABEL.match(line) for line in body)


def parse_story(title: str, body: list[str], *, document: str, heading_line: int, index: int) -> Story:
    """One story from its heading text and the source lines under it (heading_line is 1-based)."""
    heading = title.strip()
    match = _STORY_ID.match(heading)
    story_id = match.group("id") if match else f"STORY-{index}"
    story_title = match.group("title").strip() if match else heading

    paragraph: list[str] = []
    narrative: re.Match[str] | None = None
    criteria: list[str] = []
    budgets: list[Budget] = []
    volumes: list[Volume] = []
    endpoints: list[EndpointRef] = []
    queries: list[str] = []
    in_criteria = False
    lines: list[tuple[int, str]] = [(heading_line, heading)]
    fenced = False  # a fenced block under the story (its API or data model) is not its text

    for offset, line in enumerate(body, start=1):
        line_no = heading_line + offset
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif line.strip() and not fenced:
            lines.append((line_no, line.strip()))
        label = _LABEL.match(line)
        bullet = _BULLET.match(line)
        if label:
            in_criteria = label.group("label").lower() == "acceptance criteria"
            kind = label.group("label").lower()
            rest = label.group("rest")
            rest_col = line.find(rest) + 1 if rest else 1
            if kind in {"performance", "budget", "latency"}:
                budgets.extend(_budgets(rest))
            elif kind.startswith("volume"):
                volumes.extend(_volumes(rest))
            elif kind.startswith("endpoint"):
                for found in _ENDPOINT.finditer(rest):
                    endpoints.append(
                        EndpointRef(
                            method=found.group("method").upper(),
                            path=found.group("path").rstrip(".,"),
                            source=SourceRef(document, line_no, rest_col + found.start()),
                        )
                    )
            elif kind == "queries":
                queries.extend(m.group("name") for m in _QUERY_NAME.finditer(rest))
            continue
        if in_criteria and bullet:
            criteria.append(bullet.group("text").strip())
            continue
        if in_criteria and criteria and line.startswith(("  ", "\t")) and line.strip():
            criteria[-1] += " " + line.strip()  # a bullet continued on the next line
            continue
        if not line.strip():
            if paragraph and narrative is None:
                narrative = _AS_A.search(" ".join(paragraph))
            paragraph = []
            continue
        in_criteria = in_criteria and bool(bullet)
        paragraph.append(line.strip())
        budgets.extend(_budgets(line))
    if paragraph and narrative is None:
        narrative = _AS_A.search(" ".join(paragraph))

    return Story(
        id=story_id,
        title=story_title,
        role=narrative.group("role").strip() if narrative else None,
        goal=narrative.group("goal").strip() if narrative else None,
        benefit=(narrative.group("benefit") or "").strip() or None if narrative else None,
        acceptance_criteria=tuple(criteria),
        budgets=tuple(budgets),
        volumes=tuple(volumes),
        endpoints=tuple(endpoints),
        queries=tuple(queries),
        source=SourceRef(document, heading_line, 1),
        lines=tuple(lines),
    )


def _budgets(text: str) -> list[Budget]:
    result = []
    for found in _BUDGET.finditer(text):
        value = float(found.group("value"))
        latency = value * 1000 if found.group("unit").lower().startswith("s") else value
        rate = found.group("rate")
        result.append(
            Budget(
                percentile=found.group("pct").lower(),
                latency_ms=latency,
                throughput_rps=float(parse_count(rate) or 0) if rate else None,
                text=found.group(0).strip(),
            )
        )
    return result


def _volumes(text: str) -> list[Volume]:
    result = []
    for part in re.split(r"[,;]", text):
        found = _VOLUME.search(part)
        if found:
            count = parse_count(found.group(0))
            if count is not None:
                result.append(
                    Volume(
                        count=count,
                        noun=found.group("noun").strip().rstrip("."),
                        text=part.strip().rstrip("."),
                    )
                )
    return result
