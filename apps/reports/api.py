"""The report's exports over the API: /api/v1/runs/{id}/export/{fmt}/."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.analysis.selectors import run_get, run_report_get
from apps.reports.services import EXPORT_FORMATS, ExportFailed, run_export


class RunExportApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """The run's report with its review (triage, suppressions, checklist verdicts) as a file:
    `json` (workbench-report/1 with `review`), `md` (for a pull request's description), `sarif`
    (2.1.0, reviewers' waivers as external accepted suppressions), `html` (one self-contained
    file) or `pdf` (printed from the HTML). 404 until the run has a report."""

    serializer_class = None

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple:  # type: ignore[type-arg]
        # The file is the answer whatever the Accept header asks (application/pdf, text/markdown):
        # errors are answered in JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(EXPORT_FORMATS), description="the format"
            )
        ],
        responses={
            (200, content_type.split(";")[0]): OpenApiResponse(OpenApiTypes.BINARY, description=f"the {fmt} export")
            for fmt, content_type in EXPORT_FORMATS.items()
        }
        | {
            404: OpenApiResponse(description="no such run for you, or no report yet"),
            503: OpenApiResponse(description="the PDF could not be printed"),
        },
    )
    def get(self, request: Request, run_id: int, fmt: str) -> HttpResponse | Response:
        if fmt not in EXPORT_FORMATS:
            return Response(
                {"detail": f"Unknown format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        run, _ = run_get(user=request.user, run_id=run_id)
        report = run_report_get(run=run)
        if report is None:
            return Response(
                {"detail": f"The run is {run.status}; it has no report yet."}, status=status.HTTP_404_NOT_FOUND
            )
        try:
            body = run_export(run=run, report=report, fmt=fmt)
        except ExportFailed as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response = HttpResponse(body, content_type=EXPORT_FORMATS[fmt])
        response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-report.{fmt}"'
        return response
