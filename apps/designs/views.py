import hashlib
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from apps.accounts.models import Role
from apps.accounts.selectors import workspace_get
from apps.analysis.selectors import analyzer_choices, revision_diagram_get, run_list
from apps.designs import selectors, services
from apps.designs.engine.loader import DesignInput
from apps.designs.forms import DesignForm, PasteForm
from apps.designs.models import Revision
from apps.designs.services import DesignRejected, revision_input


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _texts(form: PasteForm) -> DesignInput:
    """The texts of a valid form; an uploaded file replaces the field of its kind."""
    data = form.cleaned_data
    texts = {field: data.get(field) or "" for field in ("document", "stories", "openapi", "data_model", "queries")}
    name = (data.get("document_name") or "").strip() or "design.md"
    if form.upload is not None:
        texts[form.upload.field] = form.upload.text
        if form.upload.field == "document":
            name = form.upload.name
    return DesignInput(**texts, document_name=name)


def _form_problems(form: PasteForm) -> dict[str, Any]:
    """An invalid form's refused upload, shown where a paste's problems are."""
    return {"problems": (form.upload_problem,)} if form.upload_problem is not None else {}


def _validation_context(texts: DesignInput) -> dict[str, Any]:
    result = services.design_validate(texts=texts)
    return {
        "result": result,
        "counts": result.model.counts(),
        "problems": result.problems,
    }


def _validation_key(texts: DesignInput) -> str:
    digest = hashlib.sha256()
    for part in (texts.document_name, texts.document, texts.stories, texts.openapi, texts.data_model, texts.queries):
        encoded = part.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    return f"design-validation:{digest.hexdigest()}"


@login_required
def design_new(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    workspace, membership = workspace_get(user=request.user, slug=slug)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot add designs.")
    form = DesignForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {
        "workspace": workspace,
        "form": form,
        "debounce_ms": settings.DESIGN_VALIDATE_DEBOUNCE_MS,
    }
    if request.method == "POST" and not form.is_valid():
        context.update(_form_problems(form))
    elif request.method == "POST":
        try:
            design, revision = services.design_create(
                workspace=workspace,
                user=request.user,
                name=form.cleaned_data["name"],
                texts=_texts(form),
            )
        except DesignRejected as exc:
            context["problems"] = exc.problems
            return render(request, "designs/new.html", context, status=422)
        except ValidationError as exc:
            form.add_error(None, exc)
            return render(request, "designs/new.html", context, status=422)
        return redirect("designs:revision", design_id=design.pk, number=revision.number)
    return render(
        request,
        "designs/new.html",
        context,
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def validate(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Live validation while typing: parse without saving, render the problems beside the text."""
    workspace_get(user=request.user, slug=slug)
    form = PasteForm(request.POST, request.FILES or None)
    form.is_valid()
    if form.upload_problem is not None:
        return TemplateResponse(request, "designs/_validation.html", {**_form_problems(form), "counts": None})
    texts = _texts(form)
    # The same document validated again (another tab, a form restored by the browser) is not
    # parsed again: the rendered answer is kept for DESIGN_VALIDATION_CACHE_SECONDS.
    key = _validation_key(texts)
    cached = cache.get(key)
    if cached is not None:
        return HttpResponse(cached)
    try:
        context = _validation_context(texts)
    except DesignRejected as exc:
        context = {"problems": exc.problems, "counts": None}
    response = TemplateResponse(request, "designs/_validation.html", context).render()
    cache.set(key, response.content, settings.DESIGN_VALIDATION_CACHE_SECONDS)
    return response


@login_required
def design_detail(request: HtmxHttpRequest, design_id: int) -> HttpResponse:
    design, membership = selectors.design_get(user=request.user, design_id=design_id)
    revisions = design.revisions.order_by("-number")
    latest = revisions.first()
    initial = asdict(revision_input(latest)) if latest else {}
    return render(
        request,
        "designs/detail.html",
        {
            "design": design,
            "workspace": design.workspace,
            "revisions": revisions,
            "can_edit": membership.can(Role.EDITOR),
            "form": PasteForm(initial=initial),
            "debounce_ms": settings.DESIGN_VALIDATE_DEBOUNCE_MS,
        },
    )


@login_required
@require_POST
def revision_new(request: HtmxHttpRequest, design_id: int) -> HttpResponse:
    design, membership = selectors.design_get(user=request.user, design_id=design_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot add revisions.")
    form = PasteForm(request.POST, request.FILES or None)
    context: dict[str, Any] = {
        "design": design,
        "workspace": design.workspace,
        "revisions": design.revisions.order_by("-number"),
        "can_edit": True,
        "form": form,
        "debounce_ms": settings.DESIGN_VALIDATE_DEBOUNCE_MS,
    }
    if form.is_valid():
        try:
            revision = services.revision_create(design=design, user=request.user, texts=_texts(form))
        except DesignRejected as exc:
            context["problems"] = exc.problems
            return render(request, "designs/detail.html", context, status=422)
        return redirect("designs:revision", design_id=design.pk, number=revision.number)
    context.update(_form_problems(form))
    return render(request, "designs/detail.html", context, status=422)


def _documents(revision: Revision) -> list[tuple[str, str]]:
    return [(name, text) for _, name, text in services.revision_documents(revision)]


@login_required
def revision_detail(request: HtmxHttpRequest, design_id: int, number: int) -> HttpResponse:
    design, membership = selectors.design_get(user=request.user, design_id=design_id)
    revision = selectors.revision_by_number(design=design, number=number)
    other_revisions = list(design.revisions.exclude(pk=revision.pk).order_by("-number").only("pk", "number"))
    # "Compare with" starts at the revision before this one: a new revision is most often read
    # as a change to the last.
    previous = next((other for other in other_revisions if other.number < revision.number), None)
    return render(
        request,
        "designs/revision.html",
        {
            "design": design,
            "workspace": design.workspace,
            "revision": revision,
            "documents": [(name, len(text.splitlines())) for name, text in _documents(revision)],
            "runs": run_list(user=request.user, revision=revision)[:20],
            "can_edit": membership.can(Role.EDITOR),
            "analyzers": analyzer_choices(),
            "sandbox_enabled": settings.ANALYSIS_SANDBOX_ENABLED,
            "proof_enabled": settings.ENDPOINTS_PROOF_ENABLED,
            "other_revisions": other_revisions,
            "previous_number": previous.number if previous else None,
            "diagram": revision_diagram_get(revision=revision),
        },
    )


@login_required
def revision_source(request: HtmxHttpRequest, design_id: int, number: int, document: str) -> HttpResponse:
    """One document of a revision with numbered lines; a window around ?line= for long texts."""
    design, _ = selectors.design_get(user=request.user, design_id=design_id)
    revision = selectors.revision_by_number(design=design, number=number)
    text = next((t for name, t in _documents(revision) if name == document), None)
    if text is None:
        raise Http404
    lines = text.splitlines()
    try:
        focus = max(1, int(request.GET.get("line", "1")))
    except ValueError:
        focus = 1
    window = settings.SOURCE_VIEW_MAX_LINES
    start = max(1, min(focus - window // 2, len(lines) - window + 1))
    end = min(len(lines), start + window - 1)
    shown = [(n, lines[n - 1][: settings.SOURCE_VIEW_MAX_LINE_CHARS]) for n in range(start, end + 1)]
    return render(
        request,
        "designs/source.html",
        {
            "design": design,
            "workspace": design.workspace,
            "revision": revision,
            "document": document,
            "lines": shown,
            "focus": focus,
            "total": len(lines),
            "truncated": start > 1 or end < len(lines),
        },
    )
