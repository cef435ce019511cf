"""The endpoints tab of a run: the generated app's file tree, each file highlighted, a download
of each and a zip of the minimal project around it. Everything is served from the stored report."""

import posixpath

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from apps.analysis.selectors import run_get
from apps.endpoints.selectors import endpoints_file_get, endpoints_tab_get, endpoints_zip_get


@require_GET
@login_required
def endpoints_tab(request: HttpRequest, run_id: int, path: str | None = None) -> HttpResponse:
    run, _ = run_get(user=request.user, run_id=run_id)
    return TemplateResponse(request, "endpoints/tab.html", endpoints_tab_get(run=run, path=path))


@require_GET
@login_required
def endpoints_file_download(request: HttpRequest, run_id: int, path: str) -> HttpResponse:
    run, _ = run_get(user=request.user, run_id=run_id)
    # The path only selects one of the report's files; the content is the report's, byte for byte.
    file = endpoints_file_get(run=run, path=path)
    response = HttpResponse(file["content"].encode("utf-8"), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, posixpath.basename(file["path"]))
    return response


@require_GET
@login_required
def endpoints_zip(request: HttpRequest, run_id: int) -> HttpResponse:
    run, _ = run_get(user=request.user, run_id=run_id)
    response = HttpResponse(endpoints_zip_get(run=run), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-endpoints.zip"'
    return response
