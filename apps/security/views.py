from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from apps.accounts.models import Role
from apps.analysis.models import Finding
from apps.analysis.selectors import finding_get, run_get, run_page_get
from apps.security import services


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
@require_POST
def checklist_review(request: HtmxHttpRequest, run_id: int, key: str) -> HttpResponse:
    """A reviewer sets an item's status and note; htmx swaps the item in place."""
    run, membership = run_get(user=request.user, run_id=run_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot review the checklist.")
    try:
        services.checklist_review_set(
            run=run,
            reviewer=request.user,
            key=key,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    if request.htmx:
        context = run_page_get(run=run, user=request.user)
        context["item"] = next(i for i in context["checklist"] if i["key"] == key)
        context["can_edit"] = True
        item = render_to_string("analysis/run.html#checklist-item", context, request=request)
        # The progress line above the list changes too: swap it out of band.
        progress = render_to_string("analysis/run.html#checklist-progress", {**context, "oob": True}, request=request)
        return HttpResponse(item + progress)
    return redirect("analysis:run", run_id=run.pk)


def _finding_for_editor(request: HttpRequest, finding_id: int) -> Finding:
    finding, membership = finding_get(user=request.user, finding_id=finding_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot suppress findings.")
    return finding


def _finding_response(request: HtmxHttpRequest, finding: Finding) -> HttpResponse:
    finding.refresh_from_db()
    if request.htmx:
        return TemplateResponse(
            request,
            "analysis/run.html#finding-item",
            {"finding": finding, "revision": finding.run.revision, "can_edit": True},
        )
    return redirect("analysis:run", run_id=finding.run_id)


@login_required
@require_POST
def suppress(request: HtmxHttpRequest, finding_id: int) -> HttpResponse:
    finding = _finding_for_editor(request, finding_id)
    try:
        services.suppression_create(finding=finding, user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    return _finding_response(request, finding)


@login_required
@require_POST
def unsuppress(request: HtmxHttpRequest, finding_id: int) -> HttpResponse:
    finding = _finding_for_editor(request, finding_id)
    services.suppression_delete(finding=finding)
    return _finding_response(request, finding)
