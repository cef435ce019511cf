from collections import Counter
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
from apps.designs.selectors import design_get, revision_by_number


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
@require_POST
def run_start(request: HtmxHttpRequest, design_id: int, number: int) -> HttpResponse:
    design, membership = design_get(user=request.user, design_id=design_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot start analyses.")
    revision = revision_by_number(design=design, number=number)
    base = None
    if request.POST.get("base"):
        base = design.revisions.filter(number=request.POST["base"]).first()
    try:
        run = services.run_start(
            revision=revision,
            user=request.user,
            only=request.POST.getlist("only") or None,
            base_revision=base,
        )
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    if request.htmx:
        return HttpResponseClientRedirect(run.get_absolute_url())
    return redirect("analysis:run", run_id=run.pk)


def _run_context(run: AnalysisRun) -> dict[str, Any]:
    # A run whose worker died is failed here too, without waiting for the periodic reaper.
    if run.status == RunStatus.RUNNING and services.run_reap_stale():
        run.refresh_from_db()
    findings = list(run.findings.all()) if run.is_finished else []
    report = run.report or {}
    return {
        "run": run,
        "revision": run.revision,
        "design": run.revision.design,
        "workspace": run.revision.design.workspace,
        "findings": findings,
        "severity_counts": Counter(f.severity for f in findings),
        "report": report,
        "trace": report.get("traceability"),
        "analyzers": report.get("analyzers", []),
        "poll_ms": settings.ANALYSIS_POLL_MILLISECONDS,
    }


@login_required
def run_detail(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    run, membership = selectors.run_get(user=request.user, run_id=run_id)
    context = _run_context(run)
    context["can_edit"] = membership.can(Role.EDITOR)
    if request.htmx and request.htmx.target == "run-status":
        return TemplateResponse(request, "analysis/run.html#run-status", context)
    return TemplateResponse(request, "analysis/run.html", context)


@login_required
@require_POST
def run_cancel(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    run, membership = selectors.run_get(user=request.user, run_id=run_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot cancel analyses.")
    services.run_cancel(run=run)
    if request.htmx:
        context = _run_context(run)
        context["can_edit"] = True
        return TemplateResponse(request, "analysis/run.html#run-status", context)
    return redirect("analysis:run", run_id=run.pk)
