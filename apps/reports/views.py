from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from apps.analysis.selectors import run_get, run_report_get
from apps.reports.services import EXPORT_FORMATS, report_export


@login_required
def export(request: HttpRequest, run_id: int, fmt: str) -> HttpResponse:
    run, _ = run_get(user=request.user, run_id=run_id)
    report = run_report_get(run=run) if fmt in EXPORT_FORMATS else None
    if report is None:
        raise Http404
    response = HttpResponse(report_export(report=report, fmt=fmt), content_type=EXPORT_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-report.{fmt}"'
    return response
