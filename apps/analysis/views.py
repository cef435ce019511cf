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
from apps.analysis.models import RunStatus
from apps.designs.selectors import design_get, revision_by_number
from workbench.validators import require_storable


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
@require_POST
def run_start(request: HtmxHttpRequest, design_id: int, number: int) -> HttpResponse:
    design, membership = design_get(user=request.user, design_id=design_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot start analyses.")
    revision = revision_by_number(design=design, number=number)
    if request.POST.get("analyzers_shown") and not request.POST.getlist("only"):
        # The revision page's form with every analyzer unticked: without the marker, no `only`
        # would mean all of them, the opposite of what the user asked for.
        return HttpResponse(
            "No analyzer was ticked: tick at least one analyzer to run, then start the analysis again.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
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


@login_required
def run_detail(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    # The report is read by run_page_get, without the parts the page does not show.
    run, membership = selectors.run_get(user=request.user, run_id=run_id, with_report=False)
    try:
        for key in selectors.RUN_PAGE_FILTERS:
            require_storable(request.GET.get(key, ""), field=key, label=f"{key} filter")
    except ValidationError as exc:
        message = " ".join(" ".join(v) for v in exc.message_dict.values())
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    findings_only = bool(request.htmx and request.htmx.target == "findings")
    context = selectors.run_page_get(run=run, query=request.GET, user=request.user, findings_only=findings_only)
    context["can_edit"] = membership.can(Role.EDITOR)
    if request.htmx and request.htmx.target in {"run-status", "findings"}:
        return TemplateResponse(request, f"analysis/run.html#{request.htmx.target}", context)
    return TemplateResponse(request, "analysis/run.html", context)


@login_required
@require_POST
def run_status(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """The run page's progress poll: the status part of the page, after failing the run if its
    worker stopped sending heartbeats (so the viewer need not wait for the periodic reaper).

    A POST, since it may write: the page's own GET only reads.
    """
    run, membership = selectors.run_get(user=request.user, run_id=run_id)
    if run.status == RunStatus.RUNNING and services.run_reap_stale(run_id=run.pk):
        run.refresh_from_db()
    context = selectors.run_page_get(run=run, user=request.user)
    context["can_edit"] = membership.can(Role.EDITOR)
    return TemplateResponse(request, "analysis/run.html#run-status", context)


@login_required
@require_POST
def run_cancel(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    run, membership = selectors.run_get(user=request.user, run_id=run_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot cancel analyses.")
    services.run_cancel(run=run)
    if request.htmx:
        context = selectors.run_page_get(run=run, user=request.user)
        context["can_edit"] = True
        return TemplateResponse(request, "analysis/run.html#run-status", context)
    return redirect("analysis:run", run_id=run.pk)
