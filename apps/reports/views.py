from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from apps.analysis.selectors import run_get
from apps.reports.services import EXPORT_FORMATS, report_render


@login_required
def export(request: HttpRequest, run_id: int, fmt: str) -> HttpResponse:
    run, _ = run_get(user=request.user, run_id=run_id)
    if fmt not in EXPORT_FORMATS or run.report is None:
        raise Http404
    response = HttpResponse(report_render(report=run.report, fmt=fmt), content_type=EXPORT_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-report.{fmt}"'
    return response
