"""The steps of a run's guided review, built from its report and findings.

Pure: plain dicts in, plain dicts out, no Django. The caller passes the stored report (summary,
design counts and the analyzers' sections, with the endpoints section unpacked), the run's
findings as summaries and the security checklist as the run page grades it; this module decides
which steps a junior works through, in which order, and what each asks.

A step's `key` ([a-z0-9-], at most 64 characters) is derived from what the step is about (the
story, the category, the kind of check), never from a row id or a measured value, so that a
re-run of the same revision yields the same keys and the answers stored under them apply again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

from apps.designs.engine.model import SEVERITIES
from apps.designs.engine.ranking import MAX_CONTEXT

KEY_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_KEY_LENGTH = 64

SECTION_REVIEW = "review"
SECTION_SECURITY = "security"
SECTION_TEAM = "team"
SECTION_TITLES = {
    SECTION_REVIEW: "Guided review",
    SECTION_SECURITY: "Security checklist",
    SECTION_TEAM: "Team steps",
}

# A team step's condition: when it applies, from what the design holds (see `design_facts`).
CONDITIONS: dict[str, str] = {
    "always": "always",
    "endpoints": "only when the design has endpoints",
    "entities": "only when the design has tables",
    "stories": "only when the design has stories",
    "queries": "only when the design has named queries",
    "migration": "only when the run previews a migration",
}


class Evidence(TypedDict, total=False):
    kind: str  # finding | source | tab | findings | link
    label: str
    fingerprint: str  # finding: the run page's `#finding-<pk>` is looked up by it
    rule_id: str  # finding: the run page's filter that lists it
    document: str  # source
    line: int | None  # source
    tab: str  # tab: migrations | queryplans | endpoints
    category: str  # findings: the run page's findings filtered by this checklist category
    url: str  # link: an external reference


class Step(TypedDict):
    key: str
    section: str
    title: str
    severity: str
    why: str
    how: str
    good: str
    details: list[str]
    evidence: list[Evidence]
    status: str  # security items: the grade from the open findings; otherwise ""
    findings: int


def slug(text: str, *, prefix: str) -> str:
    """`prefix-text` lower-cased with every run of other characters made one hyphen, cut to fit."""
    body = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    key = f"{prefix}-{body}" if body else prefix
    return key[:MAX_KEY_LENGTH].rstrip("-")


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _worst(findings: Iterable[Mapping[str, Any]], default: str) -> str:
    ranked = [f.get("severity", "") for f in findings]
    known = [s for s in ranked if s in SEVERITIES]
    return min(known, key=_rank) if known else default


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else f"{count} {many}"


def _operations(findings: Sequence[Mapping[str, Any]], endpoints: Sequence[str], noun: str) -> str:
    """ "this endpoint", "these 5 endpoints", or "at least 20 endpoints" when a finding's list was
    cut at the ranking's limit (a design-level finding may touch thousands of operations)."""
    if any(len(f.get("endpoints", [])) >= MAX_CONTEXT for f in findings):
        return f"at least {len(endpoints)} {noun}s"
    return f"this {noun}" if len(endpoints) == 1 else f"these {len(endpoints)} {noun}s"


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _finding_evidence(findings: Sequence[Mapping[str, Any]], *, limit: int) -> list[Evidence]:
    """Each finding (most severe first) and the first place it points at. A finding's label names
    its endpoint when its title does not, so that findings of one rule on several endpoints read
    apart ("No story says who may access this object: GET /orders/{orderId}")."""
    evidence: list[Evidence] = []
    for finding in sorted(findings, key=lambda f: _rank(f.get("severity", "")))[:limit]:
        label = str(finding["title"])
        endpoints = [str(e) for e in finding.get("endpoints") or [] if e]
        if endpoints and endpoints[0] not in label:
            more = f" and {len(endpoints) - 1} more" if len(endpoints) > 1 else ""
            label = f"{label}: {endpoints[0]}{more}"
        evidence.append(
            {
                "kind": "finding",
                "fingerprint": finding["fingerprint"],
                "rule_id": str(finding.get("rule_id", "")),
                "label": label,
            }
        )
        for place in (finding.get("locations") or [])[:1]:
            if place.get("document"):
                line = place.get("line")
                evidence.append(
                    {
                        "kind": "source",
                        "document": place["document"],
                        "line": line,
                        "label": f"{place['document']}:{line}" if line else place["document"],
                    }
                )
    return evidence


def _step(
    *,
    key: str,
    title: str,
    severity: str,
    why: str,
    how: str,
    good: str,
    details: list[str],
    evidence: list[Evidence],
    section: str = SECTION_REVIEW,
    status: str = "",
    findings: int = 0,
) -> Step:
    return Step(
        key=key,
        section=section,
        title=title,
        severity=severity,
        why=why,
        how=how,
        good=good,
        details=details,
        evidence=evidence,
        status=status,
        findings=findings,
    )


def _open(findings: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [f for f in findings if not f.get("suppressed")]


def _category(finding: Mapping[str, Any]) -> str:
    return str(finding.get("category") or "").partition(":")[0]


def _security_steps(findings: Sequence[Mapping[str, Any]], *, limit: int) -> list[Step]:
    steps: list[Step] = []
    bola = [f for f in findings if _category(f) == "API1"]
    endpoints = _unique(
        e for f in sorted(bola, key=lambda f: _rank(f.get("severity", ""))) for e in f.get("endpoints", [])
    )
    if bola:
        what = _operations(bola, endpoints, "endpoint") if endpoints else "the design"
        steps.append(
            _step(
                key="authz-objects",
                title=f"Check object-level authorization on {what}",
                severity=_worst(bola, "medium"),
                why="An endpoint that takes an object id without checking that the caller may see that object lets "
                "anyone read or change someone else's data by changing a number in the URL (OWASP API1, the most "
                "common API flaw).",
                how="For each endpoint, find in the design (its story, its security, its description) who may "
                "access the object and what another user's id gets. Write down, per endpoint, the rule you found "
                "(e.g. 'orders of the caller's customer only') or that there is none.",
                good="Every endpoint listed has a stated owner rule, and another user's id is answered with 404 "
                "(a 403 would confirm that the object exists).",
                details=endpoints[:limit],
                evidence=_finding_evidence(bola, limit=limit),
            )
        )
    writes = [f for f in findings if str(f.get("rule_id", "")).endswith("unauthenticated-write")]
    if writes:
        endpoints = _unique(e for f in writes for e in f.get("endpoints", []))
        steps.append(
            _step(
                key="auth-writes",
                title=f"Confirm who may call {_operations(writes, endpoints, 'write operation')} "
                "without authentication",
                severity=_worst(writes, "medium"),
                why="A write that needs no credentials can be called by anyone on the internet: forged orders, "
                "fake payment notifications, spam.",
                how="For each operation, check whether the design authenticates the caller some other way (a "
                "signature, a shared secret, mutual TLS) and write down which.",
                good="Each write either requires a security scheme or documents the signature that replaces it, "
                "and says what an unsigned call gets (401).",
                details=endpoints[:limit],
                evidence=_finding_evidence(writes, limit=limit),
            )
        )
    sensitive = [
        f for f in findings if _category(f) == "DP" or str(f.get("rule_id", "")).endswith("secret-in-response")
    ]
    if sensitive:
        steps.append(
            _step(
                key="sensitive-data",
                title="Confirm how the design stores and returns sensitive data",
                severity=_worst(sensitive, "low"),
                why="Card numbers, secrets and personal data that are stored or returned without need turn a "
                "breach into a reportable incident (PCI DSS, GDPR) and widen what every bug exposes.",
                how="For each item, check that the data is needed at all, who may read it, whether responses "
                "return it, and how long it is kept.",
                good="Only what a story needs is stored; card data is a provider token and the last four digits; "
                "responses never return secrets; personal data has an owner and a retention.",
                details=_unique(
                    f"{f['title']}: {', '.join(f.get('endpoints', [])[:3]) or 'data model'}" for f in sensitive
                )[:limit],
                evidence=_finding_evidence(sensitive, limit=limit),
            )
        )
    functions = [f for f in findings if _category(f) == "API5"]
    if functions:
        endpoints = _unique(e for f in functions for e in f.get("endpoints", []))
        steps.append(
            _step(
                key="function-authz",
                title="Check that admin and internal operations are set apart from ordinary users",
                severity=_worst(functions, "medium"),
                why="An admin operation guarded only by the ordinary login lets any customer call it (OWASP API5).",
                how="For each operation, find the role the story asks for and check that the operation's "
                "security requires a scope or scheme only that role has.",
                good="Admin operations need their own scope; the story and the security agree on who may call them.",
                details=endpoints[:limit],
                evidence=_finding_evidence(functions, limit=limit),
            )
        )
    return steps


_LOSSY = re.compile(r"\bDROP\b|\bALTER\s+COLUMN\b.*\bTYPE\b|\bRENAME\b|\bSET\s+NOT\s+NULL\b", re.IGNORECASE | re.DOTALL)


def _migration_steps(
    section: Mapping[str, Any] | None, findings: Sequence[Mapping[str, Any]], *, limit: int
) -> list[Step]:
    if not section or not section.get("statements"):
        return []
    steps: list[Step] = []
    statements = section["statements"]
    proven = (section.get("rollback_proven") or {}).get("proven", True)
    reason = (section.get("rollback_proven") or {}).get("reason", "")
    lossy = [s for s in statements if _LOSSY.search(str(s.get("sql", "")))]
    rollback_findings = [f for f in findings if f.get("rule_id") in ("mig.rollback-not-proven", "mig.breaking-change")]
    if lossy or not proven:
        details = [str(s["sql"]) for s in lossy[:limit]]
        if reason:
            details.append(f"Rollback: {reason}")
        steps.append(
            _step(
                key="migration-rollback",
                title="Confirm the rollback of this migration loses no data",
                severity="high" if not proven else "medium",
                why="A migration that drops, renames or retypes a column cannot always be undone: rolling back "
                "brings the column back empty, and running code that still uses the old name fails at once.",
                how="Open the migrations tab, read each statement below and its rollback, and for each say what "
                "happens to the data already in the column and to the code still using it.",
                good="No statement destroys data that a rollback needs, or the team has accepted the loss in "
                "writing and planned an expand/contract release.",
                details=details,
                evidence=[
                    {"kind": "tab", "tab": "migrations", "label": "Migrations tab"},
                    *_finding_evidence(rollback_findings, limit=limit),
                ],
            )
        )
    locking = [s for s in statements if s.get("risk") in ("high", "medium")]
    if locking:
        blocking = [f for f in findings if f.get("rule_id") == "mig.blocking-statement"]
        steps.append(
            _step(
                key="migration-locks",
                title=f"Plan how to run {_plural(len(locking), 'the statement', 'statements')} that lock large tables",
                severity=_worst(blocking, "high" if any(s.get("risk") == "high" for s in locking) else "medium"),
                why="A statement that rewrites or scans a large table under an ACCESS EXCLUSIVE lock stops every "
                "read and write of that table for as long as it runs: an outage at the declared volumes.",
                how="For each statement, read its lock, the rows it touches and its time estimate on the "
                "migrations tab, and write down how it will run (the safe alternative, a maintenance window).",
                good="Every blocking statement has a safe alternative chosen (NOT VALID then VALIDATE, "
                "CONCURRENTLY, expand/contract) or an agreed window longer than its estimate.",
                details=[
                    f"{s.get('sql', '')} ({s.get('lock_level') or 'no lock'}, {int(s.get('rows') or 0):,} rows)"
                    for s in locking[:limit]
                ],
                evidence=[
                    {"kind": "tab", "tab": "migrations", "label": "Migrations tab"},
                    *_finding_evidence(blocking, limit=limit),
                ],
            )
        )
    return steps


def _plan_steps(section: Mapping[str, Any] | None, findings: Sequence[Mapping[str, Any]], *, limit: int) -> list[Step]:
    if not section:
        return []
    advised: dict[str, list[Mapping[str, Any]]] = {}
    slow: dict[str, list[Mapping[str, Any]]] = {}
    for query in section.get("queries", []):
        subject = query.get("story") or query.get("name") or ""
        if not subject:
            continue
        if query.get("advice"):
            advised.setdefault(subject, []).append(query)
        if query.get("over_budget"):
            slow.setdefault(subject, []).append(query)
    plan_findings = [f for f in findings if f.get("analyzer") == "queryplans"]

    def about(subject: str) -> list[Mapping[str, Any]]:
        return [f for f in plan_findings if subject in f.get("stories", []) or subject in str(f.get("title", ""))]

    steps: list[Step] = []
    for subject, queries in slow.items():
        steps.append(
            _step(
                key=slug(subject, prefix="latency"),
                title=f"Check how {subject} can meet its latency budget",
                severity="high",
                why="The query plans measured at the declared volumes take longer than the story's budget: users "
                "will wait, and the database will spend its capacity on these queries.",
                how="Open the plans tab, read the plan of each query below (what it scans, what it sorts) and the "
                "advice, and say which change brings it under budget.",
                good="Each query has a change (an index, a rewrite, a smaller page) that the plans tab shows under "
                "the budget, or the story's budget is revised with its owner.",
                details=[
                    f"{q.get('name')}: about {float(q.get('scaled_ms') or 0):,.0f} ms at the declared volumes against "
                    f"{float(q.get('budget_ms') or 0):,.0f} ms"
                    for q in queries[:limit]
                ],
                evidence=[
                    {"kind": "tab", "tab": "queryplans", "label": "Query plans tab"},
                    *_finding_evidence(about(subject), limit=limit),
                ],
            )
        )
    for subject, queries in advised.items():
        advice = _unique(
            str(a.get("sql", "")) + (f" ({a['why']})" if a.get("why") else "") for q in queries for a in q["advice"]
        )
        related = about(subject)
        steps.append(
            _step(
                key=slug(subject, prefix="index"),
                title=f"Verify the index advice for {subject}",
                severity=_worst(related, "low"),
                why="An index speeds up the reads it serves but slows every write to its table and takes space: "
                "advice is worth taking only where the plan proves the gain.",
                how="On the plans tab, compare the plan before and after each advised index, check the query "
                "really runs in production as written, and look for an existing index the advice could extend.",
                good="Each advised index is either added to the migration (CREATE INDEX CONCURRENTLY) with the "
                "plan showing it used, or declined with a reason.",
                details=advice[:limit],
                evidence=[
                    {"kind": "tab", "tab": "queryplans", "label": "Query plans tab"},
                    *_finding_evidence(related, limit=limit),
                ],
            )
        )
    return steps


def _endpoint_steps(section: Mapping[str, Any] | None, *, limit: int) -> list[Step]:
    if not section:
        return []
    missing = [o for o in section.get("operations", []) if not o.get("generated")]
    if not missing:
        return []
    return [
        _step(
            key="endpoints-not-generated",
            title=f"Review {_plural(len(missing), 'the operation', 'operations')} the generator could not build",
            severity="medium",
            why="An operation that could not be generated from the design is usually one the design does not "
            "describe well enough for a developer either.",
            how="Read each reason below and find what the design is missing (a table, a key, a schema).",
            good="Each operation is either described well enough to be generated, or marked as hand-written with "
            "a reason.",
            details=[
                f"{o.get('method', '')} {o.get('path', '')}: {o.get('reason') or 'no reason given'}"
                for o in missing[:limit]
            ],
            evidence=[{"kind": "tab", "tab": "endpoints", "label": "Endpoints tab"}],
        )
    ]


def _trace_steps(findings: Sequence[Mapping[str, Any]], *, limit: int) -> list[Step]:
    gaps = [f for f in findings if f.get("analyzer") == "traceability"]
    if not gaps:
        return []
    return [
        _step(
            key="trace-gaps",
            title="Confirm the parts of the design that no story asks for",
            severity=_worst(gaps, "low"),
            why="An operation or table no story needs is code to build, secure and keep; often it is a story "
            "that was never written down.",
            how="For each item, find the story it serves or ask the design's author whether it is needed.",
            good="Every operation and table is traced to a story, or removed from the design.",
            details=[str(f["title"]) for f in gaps[:limit]],
            evidence=_finding_evidence(gaps, limit=limit),
        )
    ]


# Why each checklist item matters, as the harm it prevents (the title alone names the category).
_WHY: dict[str, str] = {
    "API1": "Changing the id in a URL reads or edits another customer's data when the API does not check "
    "who owns the object: the most common API breach (OWASP API1:2023).",
    "API2": "Credentials in URLs end up in logs and browser history, and long-lived or home-made tokens can "
    "be replayed: whoever holds one becomes that user (OWASP API2:2023).",
    "API3": "A request body that may set a role, an owner or a status, or a response that returns a secret, "
    "gives a caller data or powers no story grants them (OWASP API3:2023).",
    "API4": "An unbounded page size, string or array lets one caller exhaust the memory, the database or the "
    "bill for everyone (OWASP API4:2023).",
    "API5": "When an admin operation accepts an ordinary user's credentials, any customer who finds its URL "
    "can call it (OWASP API5:2023).",
    "API6": "Checkout, sign-up or booking can be scripted at scale (stock hoarded, fake accounts) even when "
    "every single call is allowed (OWASP API6:2023).",
    "API7": "A server that fetches a URL chosen by the caller can be pointed at internal services and cloud "
    "metadata (OWASP API7:2023).",
    "API8": "Plain HTTP, internals in error bodies or a permissive CORS policy hand attackers the details or "
    "the access they need (OWASP API8:2023).",
    "API9": "Forgotten staging servers and old versions keep running with weaker security and no owner "
    "(OWASP API9:2023).",
    "API10": "A webhook or callback that is not verified can be forged by anyone: a fake 'payment succeeded' "
    "ships an unpaid order (OWASP API10:2023).",
    "DP": "Card numbers and personal data kept without need turn a breach into a reportable incident (PCI DSS, "
    "GDPR); what is not stored cannot leak.",
}

# What a finished check of each checklist item looks like (the catalog says what to check).
_GOOD: dict[str, str] = {
    "API1": "Each object endpoint states its owner rule and answers another user's id with 404.",
    "API2": "Every operation has a standard, short-lived scheme; no credential travels in a URL.",
    "API3": "Request bodies cannot set privileged fields; responses return no secret.",
    "API4": "Every input, array and page size has a maximum; clients are told the rate limits.",
    "API5": "Admin operations need their own scope or scheme.",
    "API6": "Each abusable flow names its anti-automation measure.",
    "API7": "Every URL the server fetches is checked against an allow-list.",
    "API8": "HTTPS only; error bodies carry no internals; CORS is deliberate.",
    "API9": "Every server is labelled with its audience; no staging server in a public spec.",
    "API10": "Calls from third parties are authenticated by a signature.",
    "DP": "Sensitive data is needed, owned, protected and kept no longer than needed.",
}


def _checklist_steps(checklist: Sequence[Mapping[str, Any]]) -> list[Step]:
    steps: list[Step] = []
    for item in checklist:
        key = str(item["key"])
        evidence: list[Evidence] = []
        if item.get("findings"):
            evidence.append(
                {
                    "kind": "findings",
                    "category": key,
                    "label": f"{item['findings']} finding{'s' if item['findings'] != 1 else ''}",
                }
            )
        if item.get("reference"):
            evidence.append({"kind": "link", "url": str(item["reference"]), "label": "OWASP reference"})
        steps.append(
            _step(
                key=slug(key, prefix="owasp"),
                section=SECTION_SECURITY,
                title=f"{key} {item.get('title', '')}".strip(),
                severity="",
                why=_WHY.get(key, f"OWASP API Security Top 10 (2023): {item.get('title', key)}."),
                how=str(item.get("explanation", "")),
                good=_GOOD.get(key, "The item's findings are fixed or accepted with a reason."),
                details=[],
                evidence=evidence,
                status=str(item.get("status", "")),
                findings=int(item.get("findings") or 0),
            )
        )
    return steps


def build_steps(
    *,
    report: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    checklist: Sequence[Mapping[str, Any]] | None = None,
    limit: int = 20,
) -> list[Step]:
    """The guided review's steps for a report, then the security checklist's items.

    `report`: the stored report (its `migrations`, `queryplans`, `endpoints` (unpacked) and
    `security` sections are read; a missing section yields no steps). `findings`: summaries with
    fingerprint, rule_id, analyzer, category, severity, title, endpoints, stories, locations (the
    first places are enough) and suppressed; suppressed findings ask nothing. `checklist`: the
    security checklist as graded now (defaults to the report's). `limit`: how many endpoints,
    statements or findings one step lists.

    The guided steps come most severe first (ties in a fixed order: security, migrations, plans,
    endpoints, traceability); the checklist keeps its API1 ... API10, DP order.
    """
    live = _open(findings)
    review = (
        _security_steps(live, limit=limit)
        + _migration_steps(report.get("migrations"), live, limit=limit)
        + _plan_steps(report.get("queryplans"), live, limit=limit)
        + _endpoint_steps(report.get("endpoints"), limit=limit)
        + _trace_steps(live, limit=limit)
    )
    review = [s for _, s in sorted(enumerate(review), key=lambda pair: (_rank(pair[1]["severity"]), pair[0]))]
    if checklist is None:
        checklist = (report.get("security") or {}).get("checklist") or []
    steps = review + _checklist_steps(checklist)
    return _distinct(steps)


def _distinct(steps: list[Step]) -> list[Step]:
    """Two subjects that slug alike (`ORD 1`, `ord-1`) get `-2`, `-3`: keys stay unique, in order."""
    seen: set[str] = set()
    for step in steps:
        key, n = step["key"], 1
        while key in seen:
            n += 1
            key = f"{step['key'][: MAX_KEY_LENGTH - len(str(n)) - 1]}-{n}"
        step["key"] = key
        seen.add(key)
    return steps


def design_facts(report: Mapping[str, Any]) -> dict[str, bool]:
    """What a team step's condition asks about the design (see CONDITIONS)."""
    design = report.get("design") or {}

    def count(part: str) -> int:
        return int((design.get(part) or {}).get("count") or 0)

    return {
        "always": True,
        "endpoints": count("endpoints") > 0,
        "entities": count("entities") > 0,
        "stories": count("stories") > 0,
        "queries": count("queries") > 0,
        "migration": bool((report.get("migrations") or {}).get("statements")),
    }


def team_steps(*, templates: Sequence[Mapping[str, Any]], facts: Mapping[str, bool]) -> list[Step]:
    """A workspace's own steps whose condition holds, in their order. `templates`: dicts with id,
    title, why, how, good and condition (a CONDITIONS key; an unknown one never applies)."""
    return [
        _step(
            key=f"team-{int(t['id'])}",
            section=SECTION_TEAM,
            title=str(t["title"]),
            severity="",
            why=str(t.get("why", "")),
            how=str(t.get("how", "")),
            good=str(t.get("good", "")),
            details=[],
            evidence=[],
        )
        for t in templates
        if facts.get(str(t.get("condition", "always")), False)
    ]
