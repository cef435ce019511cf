"""Reads of runs and their findings. Nothing here writes."""

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Count, JSONField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.safestring import mark_safe

from apps.accounts.models import Membership
from apps.analysis.models import AnalysisRun, Finding
from apps.designs.engine.findings import Finding as EngineFinding
from apps.designs.engine.model import SEVERITIES
from apps.designs.models import Revision
from apps.endpoints.services import endpoints_section_unpack
from apps.reports.engine.charts import severity_chart
from apps.reports.engine.erd import draw_erd
from apps.security.models import ChecklistReview, ReviewStatus
from apps.security.services import report_checklist

RUN_PAGE_FILTERS = ("severity", "analyzer", "rule", "suppressed", "category")


_REVISION_TEXTS = ("document", "stories", "openapi", "data_model", "queries")


def run_get(
    *, user: AbstractBaseUser | AnonymousUser, run_id: int, with_report: bool = True
) -> tuple[AnalysisRun, Membership]:
    """The run if the user is a member of its design's workspace; otherwise 404."""
    # The pasted texts (megabytes for a large API) are read only where a page shows them.
    texts = [f"{relation}__{field}" for relation in ("revision", "base_revision") for field in _REVISION_TEXTS]
    runs = AnalysisRun.objects.select_related("revision__design__workspace", "base_revision").defer(*texts)
    run = get_object_or_404(
        runs if with_report else runs.defer("report"),
        pk=run_id,
        revision__design__workspace__memberships__user_id=getattr(user, "pk", None),
    )
    membership = Membership.objects.get(workspace=run.revision.design.workspace, user=user)
    return run, membership


def finding_get(*, user: AbstractBaseUser | AnonymousUser, finding_id: int) -> tuple[Finding, Membership]:
    """The finding if the user is a member of its run's workspace; otherwise 404."""
    finding = get_object_or_404(
        Finding.objects.select_related("run__revision__design__workspace"),
        pk=finding_id,
        run__revision__design__workspace__memberships__user_id=getattr(user, "pk", None),
    )
    membership = Membership.objects.get(workspace=finding.run.revision.design.workspace, user=user)
    return finding, membership


def page_number(raw: str, pages: int) -> int:
    """The page a query's `page` asks for, within 1..pages; 1 for anything but a small number."""
    return min(int(raw), pages) if raw.isdigit() and 0 < len(raw) < 9 and int(raw) else 1


def run_list(*, user: AbstractBaseUser | AnonymousUser, revision: Revision | None = None) -> QuerySet[AnalysisRun]:
    """The runs the user may see, newest first, without their reports (`finding_count` counts)."""
    runs = (
        AnalysisRun.objects.filter(revision__design__workspace__memberships__user_id=getattr(user, "pk", None))
        .select_related("revision", "base_revision")
        .defer("report")
        .order_by("-created_at")
    )
    return runs if revision is None else runs.filter(revision=revision)


# The report's keys in the order PostgreSQL's jsonb keeps them (shorter first, then bytewise),
# which is the order a report read back from its column always had: the exports and the API
# put the findings back in it, so their documents stay the same as when the report held them.
def _jsonb_key_order(key: str) -> tuple[int, bytes]:
    raw = key.encode()
    return len(raw), raw


# A finding's keys in the report are the engine Finding's fields (its `as_dict`), each a column.
FINDING_FIELDS = tuple(sorted((f.name for f in fields(EngineFinding)), key=_jsonb_key_order))


def with_first_places(findings: QuerySet[Finding], count: int) -> QuerySet[Finding]:
    """The findings without their `locations`, with `first_locations`: the first `count` of them,
    cut in PostgreSQL (a design-level finding's list runs to megabytes)."""
    return findings.defer("locations").annotate(
        first_locations=RawSQL(
            "jsonb_path_query_array(locations, %s::jsonpath)", (f"$[0 to {max(0, int(count) - 1)}]",), JSONField()
        )
    )


def finding_dicts(*, run: AnalysisRun) -> list[dict[str, Any]]:
    """The run's findings as the report lists them, in the report's order (the rows' insertion order)."""
    rows = Finding.objects.filter(run=run).order_by("id").values_list(*FINDING_FIELDS)
    return [dict(zip(FINDING_FIELDS, row, strict=True)) for row in rows]


def run_report_get(*, run: AnalysisRun) -> dict[str, Any] | None:
    """The whole workbench-report/1 document of a finished run (None until it has one)."""
    if run.report is None:
        return None
    report = {**run.report, "findings": finding_dicts(run=run)}
    if isinstance(report.get("endpoints"), dict):
        report["endpoints"] = endpoints_section_unpack(report["endpoints"])
    return dict(sorted(report.items(), key=lambda item: _jsonb_key_order(item[0])))


class _Group(NamedTuple):
    analyzer: str
    rule_id: str
    category: str
    severity: str
    open: int  # not suppressed
    n: int


def run_page_get(
    *,
    run: AnalysisRun,
    query: Mapping[str, str] | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
    findings_only: bool = False,
) -> dict[str, Any]:
    """What the run page shows: the run, its report's sections and, once finished, the findings
    that pass the filters in `query` (see RUN_PAGE_FILTERS) with their counts and the checklist
    (each item's `selected`: the verdict `user` gave it, which their form shows selected).
    `findings_only`: what the findings part alone needs (a filter or page asked by htmx)."""
    query = query or {}
    # The findings part alone shows nothing of the report's sections: not read for a filter.
    report, orphans = ({}, None) if findings_only and "report" in run.get_deferred_fields() else _run_page_report(run)
    context: dict[str, Any] = {
        "run": run,
        "revision": run.revision,
        "design": run.revision.design,
        "workspace": run.revision.design.workspace,
        "report": report,
        "trace": report.get("traceability"),
        "analyzers": report.get("analyzers", []),
        "poll_ms": settings.ANALYSIS_POLL_MILLISECONDS,
        "severities": SEVERITIES,
        "filters": {k: query.get(k, "") for k in RUN_PAGE_FILTERS},
    }
    if context["trace"] and not findings_only:
        # Operations without a story can number in the thousands (a public API has no stories):
        # the page lists the first ones and says how many more the exports hold.
        shown_orphans = settings.RUN_PAGE_MAX_TRACE_ROWS
        if orphans is not None:  # read by `_run_page_report`, without the other operations
            head, total = orphans
        else:
            orphans = [row for row in context["trace"].get("endpoints", []) if not row.get("stories")]
            head, total = orphans, len(orphans)
        context["orphan_endpoints"] = head[:shown_orphans]
        context["orphan_endpoints_more"] = max(0, total - shown_orphans)
    if not run.is_finished:
        return context
    everything = run.findings.all()
    if not findings_only:
        context["top_problems"] = _top_problems(run=run, top=report.get("summary", {}).get("top") or [])
        context["diagram"] = run_diagram_get(run=run, trace=context["trace"])
    # Every count the page shows (severities, suppressed, rules, what the filters leave, the
    # checklist) comes from one grouped scan of the run's findings: a few hundred groups, where
    # separate counts each scanned tens of thousands of rows. It counts `run` (never null), which
    # the finding_run_counts index holds with every column grouped on: PostgreSQL reads the index
    # alone, not the wide rows.
    groups = [
        _Group(*row)
        for row in everything.order_by()
        .values_list("analyzer", "rule_id", "category", "severity")
        .annotate(open=Count("run", filter=Q(suppressed__isnull=True)), n=Count("run"))
    ]
    if not findings_only:
        context["scorecard"] = _scorecard(run=run, report=report, groups=groups)
    shown = everything
    for field, key in (("severity", "severity"), ("analyzer", "analyzer"), ("rule_id", "rule")):
        if query.get(key):
            shown = shown.filter(**{field: query[key]})
    category = query.get("category", "")
    prefix = category + (":" if category != "DP" else "")
    if category:
        shown = shown.filter(category__startswith=prefix)
    with_suppressed = query.get("suppressed") == "1"
    if not with_suppressed:
        shown = shown.filter(suppressed__isnull=True)
    limit = settings.RUN_PAGE_MAX_FINDINGS
    passing = [g for g in groups if _passes(g, query)]
    shown_count = sum(g.n if with_suppressed else g.open for g in passing)
    context.update(_filter_options(groups=groups, query=query, with_suppressed=with_suppressed))
    pages = max(1, -(-shown_count // limit))
    page = page_number(query.get("page", ""), pages)
    first = (page - 1) * limit

    def page_query(number: int) -> str:
        kept = {k: v for k, v in query.items() if k in RUN_PAGE_FILTERS and v}
        return urlencode({**kept, "page": number})

    context.update(
        findings=list(with_first_places(shown, settings.RUN_PAGE_MAX_PLACES)[first : first + limit]),
        page=page,
        pages=pages,
        first_shown=first + 1 if shown_count else 0,
        last_shown=min(first + limit, shown_count),
        previous_query=page_query(page - 1) if page > 1 else None,
        next_query=page_query(page + 1) if page < pages else None,
        shown_count=shown_count,
        finding_count=sum(g.n for g in groups),
        severity_counts=[(s, sum(g.n for g in groups if g.severity == s)) for s in SEVERITIES],
        suppressed_count=sum(g.n - g.open for g in groups),
        rule_ids=sorted({g.rule_id for g in groups}),
        finding_limit=limit,
    )
    # A top problem links to its finding on this page, or to the page of its rule's findings.
    on_page = {f.pk for f in context["findings"]}
    for group in context.get("top_problems", []):
        for finding in group["findings"]:
            rule = {"rule": finding.rule_id, **({"suppressed": "1"} if finding.suppressed else {})}
            elsewhere = "?" + urlencode(rule)
            finding.page_href = ("" if finding.pk in on_page else elsewhere) + f"#finding-{finding.pk}"
    if "security" in report and not findings_only:
        open_counts: Counter[tuple[str, str]] = Counter()
        for g in groups:
            if g.analyzer == "security":
                open_counts[(g.category, g.severity)] += g.open
        reviews: dict[str, list[ChecklistReview]] = {}
        # Verdicts belong to the revision: a re-run of it shows those already given.
        for review in ChecklistReview.objects.filter(revision_id=run.revision_id).select_related("reviewer"):
            reviews.setdefault(review.key, []).append(review)
        items = report_checklist(report=report, open_counts=open_counts)
        labels = dict(ReviewStatus.choices)
        for item in items:
            item["reviews"] = reviews.get(item["key"], [])
            item["label"] = labels[item["status"]]
            own = [r.status for r in item["reviews"] if user is not None and r.reviewer_id == user.pk]
            item["selected"] = own[0] if own else item["status"]
        context["checklist"] = items
        context["reviewed_count"] = sum(1 for item in items if item["reviews"])
        context["review_statuses"] = ReviewStatus.choices
    return context


# The run page reads the stored report without what it never shows, each part picked out of the
# column in one query: the query plans but for the budget figures of the queries over their budget
# (a design's plans, each with its variants, run to megabytes), the design section's lists of
# names (its counts stay) and the traceability section's row for every operation (on Microsoft
# Graph's description, 1 MB and 3 MB of the report's 4 MB, which the page spent more time reading
# and decoding than on anything else). Of the operations it reads what its matrix lists: how many
# have no story, and the first of them in the report's order. The column is read once (`r`: a
# reference to the stored value would be decompressed again by each expression using it). The
# operations without a story are found by the JSON paths below, passed as parameters.
_PAGE_REPORT_SQL = """
SELECT
  CASE WHEN jsonb_typeof(r) = 'object' THEN COALESCE((
    SELECT jsonb_object_agg(k, v) FROM jsonb_each(r) AS s(k, v)
    WHERE k NOT IN ('queryplans', 'design', 'traceability')), '{}'::jsonb) END,
  CASE WHEN jsonb_typeof(r -> 'queryplans') = 'object' THEN jsonb_build_object('queries', CASE
    WHEN jsonb_typeof(r -> 'queryplans' -> 'queries') = 'array' THEN COALESCE((
      SELECT jsonb_agg(jsonb_build_object(
        'name', q -> 'name', 'story', q -> 'story', 'stories', q -> 'stories', 'endpoint', q -> 'endpoint',
        'scaled_ms', q -> 'scaled_ms', 'budget_ms', q -> 'budget_ms', 'over_budget', q -> 'over_budget'))
      FROM jsonb_array_elements(r -> 'queryplans' -> 'queries') AS q
      WHERE q -> 'over_budget' = 'true'::jsonb), '[]'::jsonb)
    ELSE '[]'::jsonb END) END,
  CASE WHEN jsonb_typeof(r -> 'design') = 'object' THEN COALESCE((
    SELECT jsonb_object_agg(k, CASE WHEN jsonb_typeof(v) = 'object' THEN v - 'names' ELSE v END)
    FROM jsonb_each(r -> 'design') AS d(k, v)), '{}'::jsonb) ELSE r -> 'design' END,
  CASE WHEN jsonb_typeof(r -> 'traceability') = 'object' THEN COALESCE((
    SELECT jsonb_object_agg(k, v) FROM jsonb_each(r -> 'traceability') AS t(k, v) WHERE k <> 'endpoints'),
    '{}'::jsonb) END,
  CASE WHEN jsonb_typeof(r -> 'traceability' -> 'endpoints') = 'array' THEN
    jsonb_array_length(jsonb_path_query_array(r, %(count)s::jsonpath)) END,
  CASE WHEN jsonb_typeof(r -> 'traceability' -> 'endpoints') = 'array' THEN
    jsonb_path_query_array(r, %(head)s::jsonpath) END
FROM (SELECT report || '{}'::jsonb AS r FROM analysis_analysisrun WHERE id = %(run)s OFFSET 0) AS run
"""
# An operation without a story has no `stories`, or an empty or null one (traceability writes a
# list): as a JSON path filter. They are counted by their `.type()`, which every item has.
_NO_STORY = "(!exists(@.stories[*]) || @.stories == null)"
# The first operations without a story are looked for among the first ORPHAN_WINDOW times as many
# operations as the page lists; when fewer are found there and more exist, `_orphans` reads them all.
_ORPHAN_WINDOW = 4
_ORPHANS_SQL = "SELECT jsonb_path_query_array(report, %(all)s::jsonpath) FROM analysis_analysisrun WHERE id = %(run)s"


def _run_page_report(run: AnalysisRun) -> tuple[dict[str, Any], tuple[list[dict[str, Any]], int] | None]:
    """The report the run page shows: the run's own when it was read with the run, else read
    here without what the page never shows (see `_PAGE_REPORT_SQL`). Read so, it comes with the
    first operations without a story and their count (None: the report's own traceability section
    has them)."""
    if "report" not in run.get_deferred_fields():
        return run.report or {}, None
    shown = settings.RUN_PAGE_MAX_TRACE_ROWS
    paths = {
        "count": f"$.traceability.endpoints[*] ? {_NO_STORY}.type()",
        "head": f"$.traceability.endpoints[0 to {shown * _ORPHAN_WINDOW - 1}] ? {_NO_STORY}",
    }
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_REPORT_SQL, {"run": run.pk, **paths})
        row = cursor.fetchone()
    if row is None or row[0] is None:
        run.report = None
        return {}, None
    report, queryplans, design, trace, orphan_count, orphan_head = map(_json, row)
    if queryplans is not None:
        report["queryplans"] = queryplans
    if design is not None:
        report["design"] = design
    orphans = None
    if trace is not None:
        report["traceability"] = trace
        if orphan_count is not None:
            if len(orphan_head) < min(shown, orphan_count):
                orphan_head = _orphans(run)
            orphans = (orphan_head[:shown], orphan_count)
    # The page's templates ask `run.report` whether there is one: answer from what was read rather
    # than have the deferred column read whole. Nothing saves the run on this path (a GET).
    run.report = report
    return report, orphans


def _orphans(run: AnalysisRun) -> list[dict[str, Any]]:
    """Every operation without a story, in the report's order (when the first ones are not among
    the first operations: a design whose stories name most of them)."""
    with connection.cursor() as cursor:
        cursor.execute(_ORPHANS_SQL, {"run": run.pk, "all": f"$.traceability.endpoints[*] ? {_NO_STORY}"})
        row = cursor.fetchone()
    return (_json(row[0]) if row is not None else None) or []


def _json(value: Any) -> Any:
    """A jsonb column read through a cursor: the driver hands Django's connection its text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _passes(group: _Group, query: Mapping[str, str], *, ignoring: str = "") -> bool:
    """Whether a group of findings passes the page's filters (all but `ignoring`)."""
    category = query.get("category", "") if ignoring != "category" else ""
    prefix = category + (":" if category != "DP" else "")
    return (
        (ignoring == "severity" or not query.get("severity") or group.severity == query["severity"])
        and (ignoring == "analyzer" or not query.get("analyzer") or group.analyzer == query["analyzer"])
        and (ignoring == "rule" or not query.get("rule") or group.rule_id == query["rule"])
        and (not category or group.category.startswith(prefix))
    )


def _filter_options(*, groups: list[_Group], query: Mapping[str, str], with_suppressed: bool) -> dict[str, Any]:
    """Each filter's options with the count choosing it would show, given the other filters:
    with analyzer=security chosen, the severity options count security's findings only."""

    def counted(ignoring: str, attribute: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        for g in groups:
            if _passes(g, query, ignoring=ignoring):
                counts[getattr(g, attribute)] += g.n if with_suppressed else g.open
        return counts

    severities = counted("severity", "severity")
    analyzers = counted("analyzer", "analyzer")
    rules = counted("rule", "rule_id")
    return {
        "severity_options": [(s, severities[s]) for s in SEVERITIES],
        "analyzer_options": [(a, analyzers[a]) for a in sorted({g.analyzer for g in groups})],
        "rule_options": [(r, rules[r]) for r in sorted({g.rule_id for g in groups})],
    }


def _top_problems(*, run: AnalysisRun, top: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The report's top problems (`summary.top`: fingerprints grouped by story, then endpoint,
    then the rest of the design) with their rows, which the page links to."""
    wanted = [fingerprint for group in top for fingerprint in group["findings"]]
    if not wanted:
        return []
    rows = {f.fingerprint: f for f in with_first_places(run.findings.filter(fingerprint__in=wanted), 1)}
    return [
        {"by": group["by"], "name": group["name"], "findings": [rows[f] for f in group["findings"] if f in rows]}
        for group in top
    ]


def analyzer_choices() -> list[dict[str, Any]]:
    """The analyzers a run can be asked for, as the revision page offers them; the design pages
    read them here rather than from the job app's registry."""
    from apps.analysis.engine.pipeline import ANALYZERS

    return [
        {
            "name": a.name,
            "title": a.title,
            "run": a.run is not None,
            "not_built": a.not_built,
            "summary": a.summary,
            "sandbox": a.sandbox,
        }
        for a in ANALYZERS
    ]


# The analyzers' own pages on the run (tabs), and where the others' part of the run page is.
_ANALYZER_PAGES = {
    "migrations": "migrations_preview:tab",
    "endpoints": "endpoints:tab",
    "queryplans": "queryplans:tab",
}
_ANALYZER_ANCHORS = {"traceability": "#traceability", "security": "#checklist"}
# Locks that stop a table's writes (or reads and writes) while the statement runs.
_BLOCKING = {"writes", "reads and writes", "reads", "reads (and writes)"}


def _scorecard(*, run: AnalysisRun, report: Mapping[str, Any], groups: list[_Group]) -> dict[str, Any]:
    """The top of a finished run's page: counts by severity (with a chart) and by analyzer, what
    did not run and why, the stories over their latency budget and the migrations that lock
    large tables, each from the report's own sections."""
    by_severity = [(s, sum(g.n for g in groups if g.severity == s)) for s in SEVERITIES]
    over_budget = _over_budget(report.get("queryplans"))
    locking = _locking(report.get("migrations"))
    shown = settings.RUN_PAGE_SCORECARD_ROWS
    analyzers = []
    for entry in report.get("analyzers", []):
        name = entry.get("name", "")
        counts = {s: sum(g.n for g in groups if g.analyzer == name and g.severity == s) for s in SEVERITIES}
        page = _ANALYZER_PAGES.get(name)
        analyzers.append(
            {
                "name": name,
                "status": entry.get("status", ""),
                "reason": entry.get("reason", ""),
                "total": sum(counts.values()),
                "counts": [counts[s] for s in SEVERITIES],
                "url": reverse(page, args=[run.pk]) if page else _ANALYZER_ANCHORS.get(name, ""),
            }
        )
    return {
        "total": sum(n for _, n in by_severity),
        "suppressed": sum(g.n - g.open for g in groups),
        "by_severity": by_severity,
        "chart": mark_safe(severity_chart(by_severity)),  # noqa: S308 - built from escaped text
        "analyzers": analyzers,
        "not_run": [a for a in analyzers if a["status"] != "succeeded"],
        "over_budget": over_budget[:shown],
        "over_budget_more": max(0, len(over_budget) - shown),
        "queryplans_ran": isinstance(report.get("queryplans"), dict),
        "locking": locking[:shown],
        "locking_more": max(0, len(locking) - shown),
        "migrations_ran": isinstance(report.get("migrations"), dict),
        "large_rows": settings.RUN_PAGE_LARGE_TABLE_ROWS,
    }


def _over_budget(section: Any) -> list[dict[str, Any]]:
    """The stories whose queries take longer than the story's budget at the declared volumes
    (the query plans' `over_budget`), each with its slowest query; the slowest first."""
    if not isinstance(section, dict):
        return []
    stories: dict[str, dict[str, Any]] = {}
    for query in section.get("queries") or []:
        if not query.get("over_budget"):
            continue
        for story in query.get("stories") or [query.get("story") or ""]:
            row = stories.setdefault(story, {"story": story, "queries": 0, "worst": None})
            row["queries"] += 1
            if row["worst"] is None or (query.get("scaled_ms") or 0) > (row["worst"].get("scaled_ms") or 0):
                row["worst"] = {
                    "name": query.get("name", ""),
                    "endpoint": query.get("endpoint"),
                    "scaled_ms": query.get("scaled_ms"),
                    "budget_ms": query.get("budget_ms"),
                }
    return sorted(stories.values(), key=lambda r: -(r["worst"]["scaled_ms"] or 0))


def _locking(section: Any) -> list[dict[str, Any]]:
    """The migration's statements that block a table's writes (or reads) while it holds at least
    RUN_PAGE_LARGE_TABLE_ROWS declared rows; the riskiest first, then the largest table."""
    if not isinstance(section, dict):
        return []
    large = settings.RUN_PAGE_LARGE_TABLE_ROWS
    found = [
        {
            "table": st.get("table"),
            "lock_level": st.get("lock_level", ""),
            "blocks": st.get("blocks", ""),
            "rows": st.get("rows"),
            "risk": st.get("risk", ""),
            "estimate_seconds": st.get("estimate_seconds"),
            "sql": st.get("sql", "")[:300],
            "safe_alternative": bool(st.get("safe_alternative")),
        }
        for st in section.get("statements") or []
        if st.get("blocks", "none") != "none" and (st.get("rows") or 0) >= large
    ]
    risk = {"high": 0, "medium": 1, "low": 2}
    return sorted(found, key=lambda r: (risk.get(r["risk"], 3), -(r["rows"] or 0)))


def run_diagram_get(*, run: AnalysisRun, trace: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The entity-relationship diagram of the run's tables (from the report's traceability
    section), each table linked to its line; None when the design has no tables."""
    return _diagram(revision=run.revision, entities=(trace or {}).get("entities") or [])


def revision_diagram_get(*, revision: Revision) -> dict[str, Any] | None:
    """The diagram of a revision's tables as its newest finished analysis read them (the
    traceability section's entities, read alone); None before one has, or without tables."""
    entities = (
        AnalysisRun.objects.filter(revision=revision)
        .annotate(entities=RawSQL("report -> 'traceability' -> 'entities'", (), output_field=JSONField()))
        .filter(entities__isnull=False)
        .order_by("-pk")
        .values_list("pk", "entities")
        .first()
    )
    if entities is None or not isinstance(entities[1], list):
        return None
    diagram = _diagram(revision=revision, entities=entities[1])
    return {**diagram, "run_id": entities[0]} if diagram else None


def _diagram(*, revision: Revision, entities: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    if not entities:
        return None
    rows = []
    for entity in entities:
        href = None
        if entity.get("document"):
            href = reverse("designs:source", args=[revision.design_id, revision.number, entity["document"]])
            if entity.get("line"):
                href += f"?line={entity['line']}#L{entity['line']}"
        rows.append({**entity, "href": href})
    erd = draw_erd(rows, max_tables=settings.RUN_PAGE_MAX_DIAGRAM_TABLES)
    return {
        "svg": mark_safe(erd.svg),  # noqa: S308 - every name in it is escaped by draw_erd
        "tables": erd.tables,
        "relations": erd.relations,
        "tables_left_out": erd.tables_left_out,
        "relations_left_out": erd.relations_left_out,
        "volumes_declared": any(isinstance(e.get("rows"), int) for e in entities),
    }
