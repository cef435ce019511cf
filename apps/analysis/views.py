from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from apps.accounts.models import Role
from apps.analysis import selectors, services
from apps.analysis.models import AnalysisRun, RunStatus
from apps.designs.engine.model import SEVERITIES
from apps.designs.selectors import design_get, revision_by_number
from apps.security.models import ChecklistReview, ReviewStatus
from apps.security.services import report_checklist
from workbench.validators import require_storable


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


FILTERS = ("severity", "analyzer", "rule", "suppressed", "category")


@login_required
@require_POST
def run_start(request: HtmxHttpRequest, design_id: int, number: int) -> HttpResponse:
    design, membership = design_get(user=request.user, design_id=design_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot start analyses.")
    revision = revision_by_number(design=design, number=number)
    base = None
    if request.POST.get("base"):
        number = request.POST["base"]
        base = design.revisions.filter(number=int(number)).first() if number.isascii() and number.isdigit() else None
        if base is None:
            return HttpResponse(
                f"The base {number[:20]!a} is not a revision number of this design; choose one from the list.",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
    try:
        run = services.run_start(
            revision=revision,
            user=request.user,
            only=request.POST.getlist("only") or None,
            base_revision=base,
            renames=request.POST.get("renames") or "detect",
        )
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    if request.htmx:
        return HttpResponseClientRedirect(run.get_absolute_url())
    return redirect("analysis:run", run_id=run.pk)


def run_page_context(run: AnalysisRun, query: Mapping[str, str] | None = None) -> dict[str, Any]:
    # A run whose worker died is failed here too, without waiting for the periodic reaper.
    if run.status == RunStatus.RUNNING and services.run_reap_stale():
        run.refresh_from_db()
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
        "filters": {k: query.get(k, "") for k in FILTERS},
    }
    if not run.is_finished:
        return context
    everything = run.findings.all()
    counts = Counter(everything.values_list("severity", flat=True))
    shown = everything
    for field, key in (("severity", "severity"), ("analyzer", "analyzer"), ("rule_id", "rule")):
        if query.get(key):
            shown = shown.filter(**{field: query[key]})
    if query.get("category"):
        shown = shown.filter(category__startswith=query["category"] + (":" if query["category"] != "DP" else ""))
    if query.get("suppressed") != "1":
        shown = shown.filter(suppressed__isnull=True)
    limit = settings.RUN_PAGE_MAX_FINDINGS
    context.update(
        findings=list(shown[:limit]),
        shown_count=shown.count(),
        finding_count=sum(counts.values()),
        severity_counts=[(s, counts.get(s, 0)) for s in SEVERITIES],
        suppressed_count=everything.filter(suppressed__isnull=False).count(),
        rule_ids=sorted(set(everything.values_list("rule_id", flat=True))),
        finding_limit=limit,
    )
    if "security" in report:
        graded = everything.filter(analyzer="security").only("category", "severity", "suppressed")
        reviews: dict[str, list[ChecklistReview]] = {}
        for review in run.checklist_reviews.select_related("reviewer"):
            reviews.setdefault(review.key, []).append(review)
        items = report_checklist(report=report, findings=graded)
        labels = dict(ReviewStatus.choices)
        for item in items:
            item["reviews"] = reviews.get(item["key"], [])
            item["label"] = labels[item["status"]]
        context["checklist"] = items
        context["reviewed_count"] = sum(1 for item in items if item["reviews"])
        context["review_statuses"] = ReviewStatus.choices
    return context


@login_required
def run_detail(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    run, membership = selectors.run_get(user=request.user, run_id=run_id)
    try:
        for key in FILTERS:
            require_storable(request.GET.get(key, ""), field=key, label=f"{key} filter")
    except ValidationError as exc:
        message = " ".join(" ".join(v) for v in exc.message_dict.values())
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    context = run_page_context(run, request.GET)
    context["can_edit"] = membership.can(Role.EDITOR)
    if request.htmx and request.htmx.target in {"run-status", "findings"}:
        return TemplateResponse(request, f"analysis/run.html#{request.htmx.target}", context)
    return TemplateResponse(request, "analysis/run.html", context)


@login_required
@require_POST
def run_cancel(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    run, membership = selectors.run_get(user=request.user, run_id=run_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot cancel analyses.")
    services.run_cancel(run=run)
    if request.htmx:
        context = run_page_context(run)
        context["can_edit"] = True
        return TemplateResponse(request, "analysis/run.html#run-status", context)
    return redirect("analysis:run", run_id=run.pk)
