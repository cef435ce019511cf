from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh
from django_htmx.middleware import HtmxDetails

from apps.accounts.models import Role
from apps.accounts.selectors import workspace_get
from apps.analysis.models import AnalysisRun
from apps.analysis.selectors import run_get
from apps.guides import selectors, services
from apps.guides.engine.steps import CONDITIONS, KEY_PATTERN, Step
from apps.guides.models import StepState, TeamStep
from apps.security import services as security_services


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _message(text: str, *, status: int, css: str) -> HttpResponse:
    """A short answer the guide's script puts in the step's message slot (htmx swaps no error
    response by itself); without script it is the page the browser shows."""
    return HttpResponse(
        format_html('<p role="alert" class="{}">{}</p>', css, text), status=status, content_type="text/html"
    )


def _invalid(exc: ValidationError) -> HttpResponse:
    return _message(" ".join(exc.messages), status=400, css="error")


def _version(request: HttpRequest) -> int:
    raw = request.POST.get("version", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise ValidationError({"version": "The form lost its version number; reload the guide and try again."})
    return int(raw)


def _step_response(
    request: HtmxHttpRequest, run: AnalysisRun, key: str, membership: object, steps: list[Step] | None = None
) -> HttpResponse:
    """The step swapped in place, and everyone's progress out of band (`steps`: the run's, when
    the view built them already)."""
    if not request.htmx:
        return redirect(f"{run.get_absolute_url()}guide/#step-{key}")
    context = selectors.guide_get(run=run, user=request.user, membership=membership, steps=steps)  # type: ignore[arg-type]
    step = next((s for section in context["sections"] for s in section["steps"] if s["key"] == key), None)
    if step is None:  # the step left the guide meanwhile (a team step deleted): show the guide as it is
        return HttpResponseClientRefresh()
    step_html = render_to_string("guides/guide.html#step", {**context, "step": step}, request=request)
    people_html = render_to_string("guides/guide.html#people", {**context, "oob": True}, request=request)
    return HttpResponse(step_html + people_html)


@login_required
def guide(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    run, membership = run_get(user=request.user, run_id=run_id)
    context = selectors.guide_get(run=run, user=request.user, membership=membership)
    context["tab"] = "guide"
    return TemplateResponse(request, "guides/guide.html", context)


@login_required
@require_POST
def step_answer(request: HtmxHttpRequest, run_id: int, key: str) -> HttpResponse:
    """Any member (a viewer too: a junior works through the guide) marks a step done."""
    run, membership = run_get(user=request.user, run_id=run_id)
    steps = selectors.guide_steps(run=run)
    try:
        services.step_answer(
            run=run,
            person=request.user,
            key=key,
            keys=[s["key"] for s in steps],
            answer=request.POST.get("answer", ""),
            version=_version(request),
        )
    except ValidationError as exc:
        return _invalid(exc)
    except services.StaleStep as exc:
        return _message(str(exc), status=409, css="conflict")
    return _step_response(request, run, key, membership, steps)


def _review(request: HtmxHttpRequest, run_id: int, key: str, person_id: int, *, send_back: bool) -> HttpResponse:
    run, membership = run_get(user=request.user, run_id=run_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Only editors and owners sign off steps or send them back.")
    if (
        not KEY_PATTERN.match(key)
        or not StepState.objects.filter(revision_id=run.revision_id, key=key, person_id=person_id).exists()
    ):
        raise Http404
    try:
        version = _version(request)
        if send_back:
            services.step_send_back(
                run=run,
                reviewer=request.user,
                person_id=person_id,
                key=key,
                version=version,
                comment=request.POST.get("comment", ""),
            )
        else:
            services.step_sign_off(run=run, reviewer=request.user, person_id=person_id, key=key, version=version)
    except ValidationError as exc:
        return _invalid(exc)
    except services.StaleStep as exc:
        return _message(str(exc), status=409, css="conflict")
    return _step_response(request, run, key, membership)


@login_required
@require_POST
def step_sign_off(request: HtmxHttpRequest, run_id: int, key: str, person_id: int) -> HttpResponse:
    return _review(request, run_id, key, person_id, send_back=False)


@login_required
@require_POST
def step_send_back(request: HtmxHttpRequest, run_id: int, key: str, person_id: int) -> HttpResponse:
    return _review(request, run_id, key, person_id, send_back=True)


@login_required
@require_POST
def checklist_verdict(request: HtmxHttpRequest, run_id: int, key: str) -> HttpResponse:
    """An editor's or owner's verdict on a security checklist item, given from the guide: the same
    verdict the run page's checklist takes (one per reviewer and item of the revision)."""
    run, membership = run_get(user=request.user, run_id=run_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot review the checklist.")
    steps = selectors.guide_steps(run=run)
    if not key.startswith("owasp-") or key not in {s["key"] for s in steps}:
        raise Http404
    try:
        security_services.checklist_review_set(
            run=run,
            reviewer=request.user,
            key=key.removeprefix("owasp-").upper(),
            status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        return _invalid(exc)
    return _step_response(request, run, key, membership, steps)


@login_required
def team_steps(request: HttpRequest, slug: str) -> HttpResponse:
    """The workspace's own steps; editors and owners add them."""
    workspace, membership = workspace_get(user=request.user, slug=slug)
    can_edit = membership.can(Role.EDITOR)
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only editors and owners add team steps.")
        try:
            services.team_step_create(
                workspace=workspace,
                user=request.user,
                title=request.POST.get("title", ""),
                why=request.POST.get("why", ""),
                how=request.POST.get("how", ""),
                good=request.POST.get("good", ""),
                condition=request.POST.get("condition", "always"),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 400
        else:
            return redirect("guides:team-steps", slug=workspace.slug)
    context = {
        "workspace": workspace,
        "steps": TeamStep.objects.filter(workspace=workspace),
        "conditions": CONDITIONS.items(),
        "can_edit": can_edit,
        "posted": request.POST if status == 400 else {},
    }
    return TemplateResponse(request, "guides/team_steps.html", context, status=status)


@login_required
@require_POST
def team_step_delete(request: HttpRequest, slug: str, step_id: int) -> HttpResponse:
    workspace, membership = workspace_get(user=request.user, slug=slug)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Only editors and owners delete team steps.")
    services.team_step_delete(workspace=workspace, step_id=step_id)
    return redirect("guides:team-steps", slug=workspace.slug)
