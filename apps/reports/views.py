"""Exports of a run's report, the triage of its findings, and share links (the read-only page
for people without an account, and the run's page that manages them)."""

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from apps.accounts.models import Membership, Role
from apps.analysis.models import Finding
from apps.analysis.selectors import (
    FINDING_FIELDS,
    finding_get,
    page_number,
    run_get,
    run_report_get,
    with_first_places,
)
from apps.designs.engine.loader import parse_design
from apps.designs.models import Revision
from apps.designs.services import parse_limits, revision_input
from apps.reports import services
from apps.reports.anonymise import DesignNames, anonymise_report, design_names
from apps.reports.models import ShareLink
from apps.reports.selectors import report_review_get, share_link_for, share_link_open, share_links_of
from apps.reports.services import EXPORT_FORMATS, ExportFailed


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
def export(request: HttpRequest, run_id: int, fmt: str) -> HttpResponse:
    run, _ = run_get(user=request.user, run_id=run_id)
    report = run_report_get(run=run) if fmt in EXPORT_FORMATS else None
    if report is None:
        raise Http404
    try:
        body = services.run_export(run=run, report=report, fmt=fmt)
    except ExportFailed as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(body, content_type=EXPORT_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-report.{fmt}"'
    return response


# --- Triage -------------------------------------------------------------------------------------


@login_required
@require_POST
def triage(request: HtmxHttpRequest, finding_id: int) -> HttpResponse:
    """An editor or owner sets a finding's triage; htmx swaps the finding in place."""
    finding, membership = finding_get(user=request.user, finding_id=finding_id)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot triage findings.")
    try:
        services.triage_set(
            finding=finding,
            user=request.user,
            state=request.POST.get("state", ""),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8")
    if request.htmx:
        finding.refresh_from_db()
        return TemplateResponse(
            request,
            "analysis/run.html#finding-item",
            {"finding": finding, "run": finding.run, "revision": finding.run.revision, "can_edit": True},
        )
    return redirect("analysis:run", run_id=finding.run_id)


# --- Share links: the run's page that manages them ----------------------------------------------


_NEW_SHARE_KEY = "reports:new-share-url"


@never_cache  # the page after a link's creation shows its token, once: not for the browser's cache
@login_required
def shares(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run's share links: list, create (editors and owners), revoke, delete, view counts."""
    run, membership = run_get(user=request.user, run_id=run_id, with_report=False)
    can_edit = membership.can(Role.EDITOR)
    context: dict[str, Any] = {
        "run": run,
        "revision": run.revision,
        "design": run.revision.design,
        "workspace": run.revision.design.workspace,
        "can_edit": can_edit,
        "max_days": settings.SHARE_LINK_MAX_DAYS,
        "default_days": settings.SHARE_LINK_DEFAULT_DAYS,
        "max_logged_views": settings.SHARE_LINK_MAX_LOGGED_VIEWS,
        # The new link's address, shown once: kept in the session across the redirect after
        # the POST (so that a reload does not make another link), then forgotten.
        "share_url": request.session.pop(_NEW_SHARE_KEY, None) if request.method == "GET" else None,
        "error": None,
    }
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Viewers cannot share a run.")
        try:
            run_with_report, _ = run_get(user=request.user, run_id=run_id)
            _, token = services.share_link_create(
                run=run_with_report,
                user=request.user,
                days=request.POST.get("days", ""),
                anonymise=request.POST.get("anonymise") in {"1", "on", "true"},
            )
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
            status = 400
        else:
            request.session[_NEW_SHARE_KEY] = request.build_absolute_uri(reverse("reports:shared", args=[token]))
            return redirect("reports:shares", run_id=run.pk)
    context["links"] = list(share_links_of(run=run))
    return TemplateResponse(request, "reports/shares.html", context, status=status)


def _link_for_editor(request: HttpRequest, link_id: int) -> ShareLink:
    link = share_link_for(user=request.user, link_id=link_id)
    membership = Membership.objects.get(workspace=link.run.revision.design.workspace, user=request.user)
    if not membership.can(Role.EDITOR):
        raise PermissionDenied("Viewers cannot change share links.")
    return link


@login_required
@require_POST
def share_revoke(request: HttpRequest, link_id: int) -> HttpResponse:
    link = _link_for_editor(request, link_id)
    services.share_link_revoke(link=link)
    return redirect("reports:shares", run_id=link.run_id)


@login_required
@require_POST
def share_delete(request: HttpRequest, link_id: int) -> HttpResponse:
    link = _link_for_editor(request, link_id)
    run_id = link.run_id
    services.share_link_delete(link=link)
    return redirect("reports:shares", run_id=run_id)


# --- The shared page ----------------------------------------------------------------------------

_NOT_FOUND = "<!DOCTYPE html><title>Not found</title><p>Not found.</p>\n"


def _noindex(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


_SHARED_PARTS = ("format", "generated_at", "tool", "design", "analyzers", "summary", "changes")


def _revision_names(revision: Revision) -> DesignNames:
    """The names a revision's design gives (parsed once per revision, then cached)."""
    key = f"reports:design-names:v4:{revision.pk}"
    names = cache.get(key)
    if names is None:
        names = design_names(parse_design(revision_input(revision), limits=parse_limits()).model)
        cache.set(key, names, timeout=3600)
    return names


def _design_names(link: ShareLink) -> DesignNames:
    """The names to hide: the run's revision's, and its base revision's (the changes' "fixed"
    findings are the base's, named after tables and paths the later revision may have dropped)."""
    names = _revision_names(link.run.revision)
    base = link.run.base_revision
    return names if base is None else names | _revision_names(base)


def _finding_rows(
    rows: QuerySet[Finding], places: int, *, first: int = 0, count: int | None = None
) -> list[dict[str, Any]]:
    """Findings as the report lists them (`count` of them from `first`, or all), with their first
    `places` places only and how many there are: a design-level finding's list runs to megabytes."""
    fields = [f for f in FINDING_FIELDS if f != "locations"]
    found = with_first_places(rows, places).values_list(*fields, "first_locations", "location_count")
    if count is not None:
        found = found[first : first + count]
    out = []
    for row in found:
        finding = dict(zip(fields, row[: len(fields)], strict=True))
        finding["locations"] = row[len(fields)]
        finding["location_count"] = row[len(fields) + 1]
        out.append(finding)
    return out


def shared_context(link: ShareLink, page_query: str) -> dict[str, Any]:
    """What a share link's page shows: the run's report with its review and one page of findings,
    anonymised when the link says so. Only what the page shows is read and rewritten: the
    report's summary parts, the page's findings and the top problems' ones, the review; the
    findings are counted in PostgreSQL (a large API has tens of thousands)."""
    run = link.run
    if run.report is None:
        raise Http404
    report = run.report
    rows = Finding.objects.filter(run=run).order_by("id")
    counts = {
        (severity, analyzer): n
        for severity, analyzer, n in rows.order_by().values_list("severity", "analyzer").annotate(n=Count("pk"))
    }
    total = sum(counts.values())
    per_page = max(1, settings.SHARE_PAGE_FINDINGS)
    pages = max(1, -(-total // per_page))
    page = page_number(page_query, pages)
    first = (page - 1) * per_page
    places = settings.RUN_PAGE_MAX_PLACES
    shown_page = _finding_rows(rows, places, first=first, count=per_page)
    top = {fingerprint for group in report["summary"].get("top") or [] for fingerprint in group["findings"]}
    on_page = {f["fingerprint"] for f in shown_page}
    shown = shown_page + _finding_rows(rows.filter(fingerprint__in=top - on_page), places)
    # Only the parts the page shows are shared (not the generated code, plans or migration files).
    visible = {k: report[k] for k in _SHARED_PARTS if k in report}
    visible |= {"findings": shown, "review": report_review_get(run=run, guide=False)}
    if "security" in report:
        visible["security"] = {"checklist": report["security"].get("checklist") or []}
    if link.anonymise:
        visible = anonymise_report(visible, _design_names(link))
    context = services.report_document_context(
        report=visible,
        findings=visible["findings"][: len(shown_page)],
        title="" if link.anonymise else run.revision.design.name,
        counts=counts,
    )
    context["pager"] = (
        {
            "page": page,
            "pages": pages,
            "total": total,
            "first": first + 1,
            "last": min(first + per_page, total),
            "previous": page - 1 if page > 1 else None,
            "next": page + 1 if page < pages else None,
        }
        if pages > 1
        else None
    )
    context["link"] = link
    return context


@never_cache
@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """A share link's read-only report, for anyone holding the link. Unknown, revoked and expired
    links answer the same 404."""
    try:
        link = share_link_open(token=token)
        context = shared_context(link, request.GET.get("page", ""))
    except Http404:
        return _noindex(HttpResponseNotFound(_NOT_FOUND))
    services.share_view_log(link=link, address=request.META.get("REMOTE_ADDR"))
    return _noindex(HttpResponse(render_to_string("reports/shared.html", context, request=request)))


@require_GET
def report_schema(request: HttpRequest) -> HttpResponse:
    """The JSON Schema of the JSON export (`workbench-report/1`), for anyone checking a report they
    were given: the same file the tests validate every export against."""
    body = services.REPORT_SCHEMA_PATH.read_bytes()
    response = HttpResponse(body, content_type="application/schema+json")
    response["Content-Disposition"] = 'inline; filename="report.schema.json"'
    return response
