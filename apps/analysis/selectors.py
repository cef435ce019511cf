"""Reads of runs and their findings. Nothing here writes."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, JSONField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404

from apps.accounts.models import Membership
from apps.analysis.models import AnalysisRun, Finding
from apps.designs.engine.findings import Finding as EngineFinding
from apps.designs.engine.model import SEVERITIES
from apps.designs.models import Revision
from apps.endpoints.services import endpoints_section_unpack
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
    *, run: AnalysisRun, query: Mapping[str, str] | None = None, user: AbstractBaseUser | AnonymousUser | None = None
) -> dict[str, Any]:
    """What the run page shows: the run, its report's sections and, once finished, the findings
    that pass the filters in `query` (see RUN_PAGE_FILTERS) with their counts and the checklist
    (each item's `selected`: the verdict `user` gave it, which their form shows selected)."""
    query = query or {}
    report = run.report or {}
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
    if context["trace"]:
        # Operations without a story can number in the thousands (a public API has no stories):
        # the page lists the first ones and says how many more the exports hold.
        orphans = [row for row in context["trace"].get("endpoints", []) if not row.get("stories")]
        shown_orphans = settings.RUN_PAGE_MAX_TRACE_ROWS
        context["orphan_endpoints"] = orphans[:shown_orphans]
        context["orphan_endpoints_more"] = max(0, len(orphans) - shown_orphans)
    if not run.is_finished:
        return context
    everything = run.findings.all()
    context["top_problems"] = _top_problems(run=run, top=report.get("summary", {}).get("top") or [])
    # Every count the page shows (severities, suppressed, rules, what the filters leave, the
    # checklist) comes from one grouped scan of the run's findings: a few hundred groups, where
    # separate counts each scanned tens of thousands of rows.
    groups = [
        _Group(*row)
        for row in everything.order_by()
        .values_list("analyzer", "rule_id", "category", "severity")
        .annotate(open=Count("pk", filter=Q(suppressed__isnull=True)), n=Count("pk"))
    ]
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
    passing = [
        g
        for g in groups
        if (not query.get("severity") or g.severity == query["severity"])
        and (not query.get("analyzer") or g.analyzer == query["analyzer"])
        and (not query.get("rule") or g.rule_id == query["rule"])
        and (not category or g.category.startswith(prefix))
    ]
    shown_count = sum(g.n if with_suppressed else g.open for g in passing)
    pages = max(1, -(-shown_count // limit))
    raw_page = query.get("page", "")
    page = min(int(raw_page), pages) if raw_page.isdigit() and 0 < len(raw_page) < 9 and int(raw_page) else 1
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
    if "security" in report:
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

    return [{"name": a.name, "title": a.title, "run": a.run is not None, "not_built": a.not_built} for a in ANALYZERS]
