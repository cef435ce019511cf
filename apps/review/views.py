"""Review pages: line threads on a revision's documents, verdicts, and the comparison of two
revisions. Every write is a plain form POST answered by a redirect (usable without JavaScript)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.models import Role
from apps.designs.models import Revision
from apps.designs.selectors import design_get, revision_by_number
from apps.designs.services import revision_documents
from apps.review import selectors, services
from apps.review.models import Thread


def _bad_request(exc: ValidationError) -> HttpResponse:
    return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8")


def _thread_url(thread: Thread, at: str) -> str:
    """The source page the thread was acted on from (`at`: a revision number of the same design,
    from the form), at the thread; the thread's own revision when `at` names none."""
    revision: Revision = thread.revision
    if at.isascii() and at.isdigit() and len(at) < 10:
        revision = thread.revision.design.revisions.filter(number=int(at)).first() or revision
    name = next((n for f, n, _ in revision_documents(revision) if f == thread.field), None)
    if name is None:
        revision, name = thread.revision, thread.document_name
    url = reverse("designs:source", args=[revision.design_id, revision.number, name])
    return f"{url}#thread-{thread.pk}"


@login_required
@require_POST
def thread_create(request: HttpRequest, design_id: int, number: int, document: str) -> HttpResponse:
    """Any member, viewers included, may open a thread on a line."""
    design, _ = design_get(user=request.user, design_id=design_id)
    revision = revision_by_number(design=design, number=number)
    try:
        thread = services.thread_create(
            revision=revision,
            user=request.user,
            document=document,
            line=request.POST.get("line", ""),
            body=request.POST.get("body", ""),
        )
    except ValidationError as exc:
        return _bad_request(exc)
    return redirect(_thread_url(thread, str(number)))


@login_required
@require_POST
def thread_reply(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread, _ = selectors.thread_get(user=request.user, thread_id=thread_id)
    try:
        services.comment_add(thread=thread, user=request.user, body=request.POST.get("body", ""))
    except ValidationError as exc:
        return _bad_request(exc)
    return redirect(_thread_url(thread, request.POST.get("at", "")))


@login_required
@require_POST
def thread_resolve(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread, _ = selectors.thread_get(user=request.user, thread_id=thread_id)
    services.thread_resolve(thread=thread, user=request.user)
    at = request.POST.get("at", "")
    if at and at != str(thread.revision.number):
        messages.info(
            request,
            f"Thread resolved. A resolved thread is shown only on r{thread.revision.number}, where it was opened.",
        )
    return redirect(_thread_url(thread, at))


@login_required
@require_POST
def thread_reopen(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread, _ = selectors.thread_get(user=request.user, thread_id=thread_id)
    services.thread_reopen(thread=thread)
    return redirect(_thread_url(thread, request.POST.get("at", "")))


@login_required
@require_POST
def verdict_set(request: HttpRequest, design_id: int, number: int) -> HttpResponse:
    design, membership = design_get(user=request.user, design_id=design_id)
    if not membership.can(Role.EDITOR):
        return HttpResponseForbidden(
            "Viewers cannot give a verdict: approving or requesting changes takes the editor or owner role. "
            "You can still comment on the lines of the design.",
            content_type="text/plain; charset=utf-8",
        )
    revision = revision_by_number(design=design, number=number)
    try:
        services.verdict_set(
            revision=revision,
            reviewer=request.user,
            verdict=request.POST.get("verdict", ""),
            comment=request.POST.get("comment", ""),
        )
    except ValidationError as exc:
        return _bad_request(exc)
    return redirect(reverse("designs:revision", args=[design.pk, revision.number]) + "#verdicts")


def _number(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


@login_required
def compare_pick(request: HttpRequest, design_id: int) -> HttpResponse:
    """The compare form's target: ?a=&b= (revision numbers) to the compare page's own address."""
    design, _ = design_get(user=request.user, design_id=design_id)
    a, b = _number(request.GET.get("a", "")), _number(request.GET.get("b", ""))
    if a is None or b is None:
        return HttpResponse(
            "Choose two revisions to compare: a (before) and b (after), by their numbers.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    return redirect("review:compare", design_id=design.pk, a=a, b=b)


@login_required
def compare(request: HttpRequest, design_id: int, a: int, b: int) -> HttpResponse:
    design, membership = design_get(user=request.user, design_id=design_id)
    old = revision_by_number(design=design, number=a)
    new = revision_by_number(design=design, number=b)
    context = selectors.compare_get(design=design, a=old, b=new)
    context["can_edit"] = membership.can(Role.EDITOR)
    return TemplateResponse(request, "review/compare.html", context)
