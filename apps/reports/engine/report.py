"""The report as plain data (the JSON format), and its Markdown and SARIF renderings.

`build_report` is the single definition of the format; `schema/report.schema.json` documents
it and the tests validate every produced report against it.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from apps.analysis.engine.pipeline import AnalysisOutcome
from apps.designs.engine.bulk import bulk_step
from apps.designs.engine.findings import Finding, severity_rank
from apps.designs.engine.model import SEVERITIES, DesignModel
from apps.designs.engine.ranking import mark_changes, rank, top_problems

REPORT_FORMAT = "workbench-report/1"
TOP_PROBLEMS = 10  # open findings, by priority, that the summary opens with


def _design(model: DesignModel) -> dict[str, Any]:
    api = model.api
    return {
        "documents": list(model.documents),
        "entities": {
            "count": len(model.entities),
            "names": [e.name for e in model.entities],
        },
        "endpoints": {
            "count": len(model.endpoints),
            "names": [f"{e.method} {e.full_path}" for e in model.endpoints],
        },
        "stories": {
            "count": len(model.stories),
            "names": [s.id for s in model.stories],
        },
        "queries": {
            "count": len(model.queries),
            "names": [q.name for q in model.queries],
        },
        "api": None
        if api is None
        else {
            "title": api.title,
            "version": api.version,
            "openapi": api.openapi_version,
            "servers": list(api.servers),
        },
    }


def build_report(outcome: AnalysisOutcome, *, generated_at: str, tool_version: str) -> dict[str, Any]:
    """The report of one analysis. Built with the cyclic collector paused, as parsing and the
    review are (see `bulk`): it makes a dict per finding, tens of thousands of them, all acyclic."""
    with bulk_step():
        return _build_report(outcome, generated_at=generated_at, tool_version=tool_version)


def _build_report(outcome: AnalysisOutcome, *, generated_at: str, tool_version: str) -> dict[str, Any]:
    # Severity first among equals, so that findings of the same priority read as before.
    ordered = sorted(outcome.findings, key=lambda f: (severity_rank(f.severity), f.analyzer, f.rule_id, f.fingerprint))
    findings = rank(ordered, outcome.parse.model)
    fixed: list[Finding] = []
    if outcome.base_findings is not None:
        findings, fixed = mark_changes(findings, outcome.base_findings)
    counts = Counter(f.severity for f in findings)
    parse_status = "succeeded" if outcome.parse.ok else "failed"
    analyzers: list[dict[str, Any]] = [
        {
            "name": "parse",
            "status": parse_status,
            "reason": "" if outcome.parse.ok else "; ".join(p.message for p in outcome.parse.fatal),
            "findings": sum(1 for f in findings if f.analyzer == "parse"),
            "duration_ms": round(outcome.durations_ms.get("parse", 0.0), 2),
        }
    ]
    report: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "generated_at": generated_at,
        "tool": {"name": "backend-design-workbench", "version": tool_version},
        "design": _design(outcome.parse.model),
        "analyzers": analyzers,
        "summary": {
            "total": len(findings),
            "by_severity": {s: counts.get(s, 0) for s in SEVERITIES},
        },
        "findings": [f.as_dict() for f in findings],
    }
    report["summary"]["top"] = top_problems(report["findings"], limit=TOP_PROBLEMS)
    if outcome.base_findings is not None:
        changes = Counter(f.change for f in findings)
        report["changes"] = {
            "new": changes.get("new", 0),
            "unchanged": changes.get("unchanged", 0),
            "fixed": [
                {
                    "analyzer": f.analyzer,
                    "rule_id": f.rule_id,
                    "severity": f.severity,
                    "title": f.title,
                    "fingerprint": f.fingerprint,
                    "locations": [loc.as_dict() for loc in f.locations[:1]],
                    "location_count": len(f.locations),
                }
                for f in fixed
            ],
        }
    if outcome.base is not None:
        report["base"] = _design(outcome.base.model)
    for result in outcome.results:
        analyzers.append(
            {
                "name": result.name,
                "status": result.status,
                "reason": result.reason,
                "findings": len(result.findings),
                "duration_ms": round(result.duration_ms, 2),
            }
        )
        if result.section is not None:
            report[result.name] = result.section
    return report


def worst_severity_at_least(report: dict[str, Any], threshold: str) -> bool:
    """Whether any finding is at or above `threshold` (critical is the highest)."""
    limit = severity_rank(threshold)
    return any(severity_rank(f["severity"]) <= limit for f in report["findings"])


MARKDOWN_PLACES = 5  # places listed per finding in Markdown; the JSON has them all


def _place(loc: dict[str, Any]) -> str:
    where = f"{loc['document']}:{loc['line']}" if loc.get("line") else loc["document"]
    return _md(where) + (f" {_code(loc['pointer'])}" if loc.get("pointer") else "")


def _where(finding: dict[str, Any]) -> str:
    locations = finding["locations"]
    if not locations:
        return ""
    shown = ", ".join(_place(loc) for loc in locations[:MARKDOWN_PLACES])
    more = len(locations) - MARKDOWN_PLACES
    return shown + (f" and {more:,} more places" if more > 0 else "")


def _headline(finding: dict[str, Any]) -> str:
    """One line naming a finding: severity, title, how many places, new since the base."""
    count = len(finding["locations"])
    places = f" ({count:,} places)" if count > 1 else ""
    change = " **new**" if finding.get("change") == "new" else ""
    return f"[{finding['severity']}] {_md(finding['title'])}{places}{change}"


def _top_markdown(report: dict[str, Any]) -> list[str]:
    top = report["summary"].get("top") or []
    if not top:
        return []
    by_fingerprint = {f["fingerprint"]: f for f in report["findings"]}
    lines = ["## Top problems", ""]
    for group in top:
        heading = {
            "story": f"Story {_md(group['name'])}",
            "endpoint": f"Endpoint {_code(group['name'])}",
            "design": "Across the design",
        }[group["by"]]
        lines += [f"### {heading}", ""]
        for fingerprint in group["findings"]:
            finding = by_fingerprint[fingerprint]
            lines.append(f"- {_headline(finding)}: {_md(finding['message'])} ({_code(finding['rule_id'])})")
        lines.append("")
    return lines


def _changes_markdown(report: dict[str, Any]) -> list[str]:
    changes = report.get("changes")
    if changes is None:
        return []
    lines = [
        "## Changes since the base revision",
        "",
        f"{changes['new']} new, {changes['unchanged']} unchanged, {len(changes['fixed'])} fixed.",
        "",
    ]
    lines += [f"- fixed: [{f['severity']}] {_md(f['title'])} ({_code(f['rule_id'])})" for f in changes["fixed"]]
    return [*lines, ""] if changes["fixed"] else lines


def _checklist_markdown(report: dict[str, Any]) -> list[str]:
    security = report.get("security")
    if not security or not security.get("checklist"):
        return []
    lines = ["## Security checklist", "", "| item | status | findings |", "| --- | --- | ---: |"]
    for item in security["checklist"]:
        verdict = item.get("review_status") or item["status"]
        lines.append(
            f"| {_md(item['key'] + ' ' + item['title'], table=True)} | {_md(verdict.replace('_', ' '), table=True)} | {item['findings']} |"
        )
    return [*lines, ""]


TRIAGE_LABELS = {
    "open": "open",
    "accepted_risk": "accepted risk",
    "false_positive": "false positive",
    "fixed": "fixed",
}


def _triage_line(triage: dict[str, Any]) -> str:
    who = f" by {_md(triage['by'])}" if triage.get("by") else ""
    when = f" on {triage['at'][:10]}" if triage.get("at") else ""
    still = " (marked fixed, still present)" if triage.get("marked_fixed_still_present") else ""
    reason = f": {_md(triage['reason'])}" if triage.get("reason") else ""
    return f"*Triage: {TRIAGE_LABELS.get(triage['state'], triage['state'])}{still}{who}{when}*{reason}"


def _review_markdown(report: dict[str, Any]) -> list[str]:
    """The review (present when the report comes from a stored run): triage, reviewers' verdicts."""
    review = report.get("review")
    if review is None:
        return []
    by_fingerprint = {f["fingerprint"]: f for f in report["findings"]}
    triaged = [t for t in review["triage"] if t["state"] != "open"]
    counts = Counter(t["state"] for t in triaged if t["present"])
    lines = [
        "## Review",
        "",
        "Triage of this run's findings: "
        + ", ".join(f"{counts.get(state, 0)} {label}" for state, label in TRIAGE_LABELS.items() if state != "open")
        + ".",
        "",
    ]
    if triaged:
        lines += ["| finding | triage | by | when | reason |", "| --- | --- | --- | --- | --- |"]
        for t in triaged:
            finding = by_fingerprint.get(t["fingerprint"])
            name = (
                f"{finding['title']} ({finding['rule_id']})"
                if finding
                else f"not in this run ({t['fingerprint'][:12]})"
            )
            state = TRIAGE_LABELS.get(t["state"], t["state"])
            if t.get("marked_fixed_still_present"):
                state += ", still present"
            cells = [name, state, t.get("by") or "", (t.get("at") or "")[:10], t.get("reason") or ""]
            lines.append("| " + " | ".join(_md(cell, table=True) for cell in cells) + " |")
        lines.append("")
    if review.get("checklist"):
        lines += [
            "### Reviewers' checklist verdicts",
            "",
            "| item | verdict | reviewer | note |",
            "| --- | --- | --- | --- |",
        ]
        for v in review["checklist"]:
            cells = [v["key"], v["status"].replace("_", " "), v["reviewer"], v.get("note") or ""]
            lines.append("| " + " | ".join(_md(cell, table=True) for cell in cells) + " |")
        lines.append("")
    return lines + _guide_markdown(review.get("guide"))


GUIDE_STATES = {"todo": "sent back", "done": "done, awaiting sign-off", "signed_off": "signed off"}


def _guide_markdown(guide: dict[str, Any] | None) -> list[str]:
    """The guided review's progress per person and every answer given (once anyone has worked on it)."""
    worked = [(step, state) for step in (guide or {}).get("steps", []) for state in step["states"]]
    if guide is None or not worked:
        return []
    lines = ["### Guided review", "", "| person | done | signed off |", "| --- | ---: | ---: |"]
    for p in guide["progress"]:
        lines.append(f"| {_md(p['username'], table=True)} | {p['done']} of {p['total']} | {p['signed_off']} |")
    lines += ["", "| step | person | state | answer | reviewed by |", "| --- | --- | --- | --- | --- |"]
    for step, state in worked:
        reviewed = (state["reviewed_by"] or "") + (f": {state['comment']}" if state["comment"] else "")
        status = GUIDE_STATES.get(state["status"], state["status"])
        cells = [step["title"], state["person"], status, state["answer"], reviewed]
        lines.append("| " + " | ".join(_md(cell, table=True) for cell in cells) + " |")
    return [*lines, ""]


def _grouped_counts_markdown(report: dict[str, Any]) -> list[str]:
    """The findings counted by severity and analyzer, before the list itself."""
    counts = Counter((f["severity"], f["analyzer"]) for f in report["findings"])
    if not counts:
        return []
    analyzers = sorted({a for _, a in counts})
    lines = [
        "## Findings by severity and analyzer",
        "",
        "| severity | " + " | ".join(_md(a, table=True) for a in analyzers) + " |",
        "| --- | " + " | ".join("---:" for _ in analyzers) + " |",
    ]
    for severity in SEVERITIES:
        if any(counts.get((severity, a)) for a in analyzers):
            lines.append(f"| {severity} | " + " | ".join(str(counts.get((severity, a), 0)) for a in analyzers) + " |")
    return [*lines, ""]


def render_markdown(report: dict[str, Any]) -> str:
    """For a pull request's description: the ranked top problems first, then the changes against
    the base, the checklist, the analyzers, every finding in priority order, the traceability and
    the migration preview."""
    design = report["design"]
    summary = report["summary"]["by_severity"]
    lines = [
        "# Design review",
        "",
        f"Documents: {_md(', '.join(design['documents'])) or '(none)'}. "
        f"{design['entities']['count']} entities, {design['endpoints']['count']} endpoints, "
        f"{design['stories']['count']} stories, {design['queries']['count']} queries. "
        f"Findings: " + ", ".join(f"{summary[s]} {s}" for s in SEVERITIES) + ".",
        "",
        *_top_markdown(report),
        *_changes_markdown(report),
        *_checklist_markdown(report),
        *_review_markdown(report),
        "## Analyzers",
        "",
        "| analyzer | status | findings | note |",
        "| --- | --- | ---: | --- |",
    ]
    lines += [
        f"| {a['name']} | {a['status']} | {a['findings']} | {_md(a['reason'], table=True)} |"
        for a in report["analyzers"]
    ]
    lines += ["", *_grouped_counts_markdown(report)]
    lines += ["## Findings", "", "In priority order (severity, breadth, stories that depend on them).", ""]
    triage_by_fingerprint = {t["fingerprint"]: t for t in (report.get("review") or {}).get("triage", [])}
    for finding in report["findings"]:
        lines += [
            f"### {_headline(finding)}",
            "",
            f"{_code(finding['rule_id'])} at {_where(finding)}",
            "",
            _md(finding["message"]),
            "",
            f"**Fix:** {_md(finding['fix'])}" if finding["fix"] else "",
            "",
        ]
        triage = triage_by_fingerprint.get(finding["fingerprint"])
        if triage is not None and triage["state"] != "open":
            lines += [_triage_line(triage), ""]
        elif finding.get("suppressed"):
            lines += [f"*Suppressed ({finding['suppressed']['source']}):* {_md(finding['suppressed']['reason'])}", ""]
        if finding.get("resolved_by"):
            lines += [f"*Resolved by the generated endpoints:* {_md(finding['resolved_by']['reason'])}", ""]
    trace = report.get("traceability")
    if trace:
        lines += [
            "## Traceability",
            "",
            "| story | endpoints | entities | queries |",
            "| --- | --- | --- | --- |",
        ]
        for row in trace["stories"]:
            endpoints = ", ".join(
                f"{e['method']} {e['path']}" + ("" if e["found"] else " (missing)") for e in row["endpoints"]
            )
            cells = [f"{row['id']} {row['title']}", endpoints, ", ".join(row["entities"]), ", ".join(row["queries"])]
            lines.append("| " + " | ".join(_md(cell, table=True) for cell in cells) + " |")
        lines.append("")
        if trace.get("webhooks"):
            lines += ["| webhook or callback | stories |", "| --- | --- |"]
            for row in trace["webhooks"]:
                cells = [f"{row['kind']} {row['method']} {row['name']}", ", ".join(row["stories"]) or "none"]
                lines.append("| " + " | ".join(_md(cell, table=True) for cell in cells) + " |")
            lines.append("")
    lines += _migrations_markdown(report.get("migrations"))
    return "\n".join(lines).rstrip() + "\n"


# Text taken from the paste (names, titles, messages built from them) is escaped so that a
# renderer shows it rather than runs it: `<`, `>` and `&` outside code spans become entities,
# backslashes are doubled (so that `\\`` cannot turn a code span we see into text a renderer sees),
# and line breaks become spaces (a new line could open a block, an HTML block among them);
# brackets are escaped so that pasted `[text](url)` and `![](url)` stay text, not a link or an
# image the report would seem to vouch for. Code spans stay literal, as renderers show them; in
# a table, a span holding `|` or `\\` is escaped too, since table rows are split at `|` before
# code spans are read.
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\\": "\\\\", "[": "\\[", "]": "\\]"})
_BACKTICKS = re.compile(r"`+")


def _plain(text: str, *, table: bool) -> str:
    escaped = text.translate(_HTML_ESCAPES)
    return escaped.replace("|", "\\|") if table else escaped


def _md(text: Any, *, table: bool = False) -> str:
    """Text from the paste as inline Markdown: HTML escaped outside code spans, on one line."""
    text = " ".join(str(text).splitlines())
    out: list[str] = []
    pos = 0
    while (opener := _BACKTICKS.search(text, pos)) is not None:
        closer = next(
            (m for m in _BACKTICKS.finditer(text, opener.end()) if len(m.group()) == len(opener.group())), None
        )
        if closer is None:
            break  # an unmatched run is literal text; what follows is escaped as text
        content = text[opener.end() : closer.start()]
        out.append(_plain(text[pos : opener.start()], table=table))
        span = text[opener.start() : closer.end()]
        out.append(_plain(span, table=table) if table and ("|" in content or "\\" in content) else span)
        pos = closer.end()
    out.append(_plain(text[pos:], table=table))
    return "".join(out)


def _code(text: str, *, table: bool = False) -> str:
    """`text` as one code span: fenced by more backticks than any run inside it."""
    text = " ".join(text.splitlines())
    if table and "\\" in text:
        return _md(text, table=True)
    fence = "`" * (max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return fence + (padded.replace("|", "\\|") if table else padded) + fence


def _fenced(language: str, text: str) -> list[str]:
    """A fenced block no line of `text` can close: its fence is longer than any backtick run."""
    fence = "`" * max(3, max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0) + 1)
    return [f"{fence}{language}", text.rstrip(), fence]


def _migrations_markdown(section: dict[str, Any] | None) -> list[str]:
    if not section:
        return []
    if not section["name"]:
        return ["## Migration preview", "", "Nothing to migrate: the tables are the same.", ""]
    proven = section["rollback_proven"]
    known = [s["estimate_seconds"] for s in section["statements"] if s["estimate_seconds"] is not None]
    lines = [
        "## Migration preview",
        "",
        f"{_code(section['name'])}: {len(section['statements'])} statements; rollback "
        f"{'proven' if proven['proven'] else 'not proven'} ({_md(proven['reason'])}); "
        + (f"estimated run time on the declared volumes ≈ {sum(known):.1f} s." if known else "no time estimate."),
        "",
        *(
            ["Not represented exactly in this preview (the SQL differs there):", ""]
            + [f"- {_md(note)}" for note in section.get("notes", [])]
            + [""]
            if section.get("notes")
            else []
        ),
        "| statement | lock | blocks | rewrite / scan | rows | risk | estimate | safe alternative |",
        "| --- | --- | --- | --- | ---: | --- | --- | --- |",
    ]
    for s in section["statements"]:
        work = "rewrite" if s["rewrites_table"] else "scan" if s["scans_table"] else ""
        rows = f"{s['rows']:,}" if s["rows"] is not None else "?"
        estimate = f"≈ {s['estimate_seconds']:.3g} s" if s["estimate_seconds"] is not None else ""
        lines.append(
            f"| {_code(s['sql'], table=True)} | {_md(s['lock_level'], table=True)} | {_md(s['blocks'], table=True)} | "
            f"{work} | {rows} | {_md(s['risk'], table=True)} | "
            f"{estimate} {_md(s['estimate_basis'], table=True)} | {_md(s['safe_alternative'], table=True)} |"
        )
    lines.append("")
    not_safe = (section.get("safe_migration") or {}).get("not_safe") or []
    if not_safe:
        lines += [
            "Not made safe by the safe variant (no mechanical safe form; do these by hand as advised):",
            "",
            *(f"- {_md(item)}" for item in not_safe),
            "",
        ]
    blocks = [("Forward SQL", "sql", section["forward_sql"]), ("Rollback SQL", "sql", section["rollback_sql"])]
    if section.get("schema_diff"):
        blocks.insert(0, ("Schema diff", "diff", section["schema_diff"]))
    blocks.append((f"Migration {_code(section['name'] + '.py')}", "python", section["source"]))
    if section.get("safe_migration"):
        safe = section["safe_migration"]
        blocks.append((f"Safe variant {_code(safe['name'] + '.py')}", "python", safe["source"]))
    for title, language, text in blocks:
        lines += [f"### {title}", "", *_fenced(language, text), ""]
    return lines


_SARIF_LEVEL = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}


WAIVING_TRIAGE = ("accepted_risk", "false_positive")


def _sarif_suppressions(finding: dict[str, Any], triage: dict[str, Any] | None) -> dict[str, Any]:
    """A finding waived by the design's reviewers (accepted risk, false positive) is suppressed
    outside the source (kind external, status accepted, their reason); one the pasted document
    waives itself (an x-workbench extension) or a rule exempts is suppressed in source."""
    suppressions: list[dict[str, Any]] = []
    if triage is not None and triage["state"] in WAIVING_TRIAGE:
        suppressions.append(
            {
                "kind": "external",
                "status": "accepted",
                "justification": triage.get("reason") or "",
                "properties": {"triage": triage["state"], "by": triage.get("by"), "at": triage.get("at")},
            }
        )
    elif finding.get("suppressed") and finding["suppressed"].get("source") == "review":
        suppressions.append(
            {"kind": "external", "status": "accepted", "justification": finding["suppressed"].get("reason") or ""}
        )
    elif finding.get("suppressed"):
        suppressions.append({"kind": "inSource", "justification": finding["suppressed"]["reason"]})
    return {"suppressions": suppressions} if suppressions else {}


def _sarif_triage(triage: dict[str, Any] | None) -> dict[str, Any]:
    if triage is None or triage["state"] == "open":
        return {}
    return {"triage": triage["state"], "markedFixedStillPresent": bool(triage.get("marked_fixed_still_present"))}


def render_sarif(report: dict[str, Any]) -> dict[str, Any]:
    """SARIF 2.1.0, one run, one rule per rule id, so code-scanning tools can show the findings."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    triage_by_fingerprint = {t["fingerprint"]: t for t in (report.get("review") or {}).get("triage", [])}
    for finding in report["findings"]:
        rules.setdefault(
            finding["rule_id"],
            {
                "id": finding["rule_id"],
                "shortDescription": {"text": finding["title"]},
                "help": {"text": finding["fix"] or finding["message"]},
                "properties": {
                    "analyzer": finding["analyzer"],
                    **({"tags": [finding["cwe"]]} if finding.get("cwe") else {}),
                },
            },
        )
        locations = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": loc["document"]},
                    **(
                        {
                            "region": {
                                "startLine": loc["line"],
                                **({"startColumn": loc["column"]} if loc.get("column") else {}),
                            }
                        }
                        if loc.get("line")
                        else {}
                    ),
                }
            }
            for loc in finding["locations"]
        ]
        results.append(
            {
                "ruleId": finding["rule_id"],
                "level": _SARIF_LEVEL[finding["severity"]],
                "message": {"text": f"{finding['message']} Fix: {finding['fix']}".strip()},
                "locations": locations,
                "partialFingerprints": {"workbench/v1": finding["fingerprint"]},
                "properties": {
                    "severity": finding["severity"],
                    "category": finding.get("category", ""),
                    "cwe": finding.get("cwe", ""),
                    **_sarif_triage(triage_by_fingerprint.get(finding["fingerprint"])),
                },
                **_sarif_suppressions(finding, triage_by_fingerprint.get(finding["fingerprint"])),
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": report["tool"]["name"],
                        "version": report["tool"]["version"],
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
            }
        ],
    }
