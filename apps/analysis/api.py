import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.analysis import selectors, services
from apps.analysis.engine.pipeline import ANALYZER_NAMES
from apps.analysis.models import AnalysisRun, Finding, RenameMode, RunStatus
from apps.designs.engine.model import SEVERITIES
from apps.designs.selectors import revision_get


class RunOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    design = serializers.IntegerField(source="revision.design_id")
    revision_number = serializers.IntegerField(source="revision.number")
    base_revision_number = serializers.IntegerField(source="base_revision.number", default=None)

    class Meta:
        model = AnalysisRun
        fields = (
            "id",
            "design",
            "revision",
            "revision_number",
            "base_revision_number",
            "only",
            "renames",
            "status",
            "progress",
            "stages",
            "error",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "finding_count",
        )


class FindingOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    locations = serializers.JSONField(
        source="first_locations",
        read_only=True,
        help_text="The first FINDINGS_API_MAX_PLACES places (all of them are in the run's report); "
        "`location_count` says how many there are.",
    )

    class Meta:
        model = Finding
        fields = (
            "id",
            "run",
            "analyzer",
            "rule_id",
            "severity",
            "priority",
            "title",
            "message",
            "fix",
            "references",
            "fingerprint",
            "category",
            "cwe",
            "suppressed",
            "stories",
            "endpoints",
            "change",
            "resolved_by",
            "location_count",
            "locations",
        )


class RunFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    design = django_filters.NumberFilter(field_name="revision__design_id")
    revision = django_filters.NumberFilter(field_name="revision_id")

    class Meta:
        model = AnalysisRun
        fields = ("status", "design", "revision")


class FindingFilter(django_filters.FilterSet):
    severity = django_filters.ChoiceFilter(choices=[(s, s) for s in SEVERITIES])
    analyzer = django_filters.CharFilter()
    rule_id = django_filters.CharFilter()
    fingerprint = django_filters.CharFilter()

    class Meta:
        model = Finding
        fields = ("severity", "analyzer", "rule_id", "fingerprint")


class RunStartApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Start an analysis of a revision. Poll GET /runs/{id}/ for progress."""

    serializer_class = RunOutputSerializer

    class InputSerializer(serializers.Serializer):  # type: ignore[type-arg]
        only = serializers.ListField(
            child=serializers.ChoiceField(choices=ANALYZER_NAMES),
            required=False,
            default=list,
        )
        base_revision_number = serializers.IntegerField(required=False, allow_null=True, default=None)
        renames = serializers.ChoiceField(
            choices=RenameMode.choices,
            default=RenameMode.DETECT,
            help_text="How the migration preview treats a changed name: `detect` renames, or `drop_add`.",
        )

        class Meta:
            ref_name = "RunStart"

    @extend_schema(request=InputSerializer, responses={202: RunOutputSerializer, 503: RunOutputSerializer})
    def post(self, request: Request, revision_id: int) -> Response:
        revision, membership = revision_get(user=request.user, revision_id=revision_id)
        if not membership.can(Role.EDITOR):
            raise PermissionDenied("Viewers cannot start analyses.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        base = None
        if serializer.validated_data["base_revision_number"] is not None:
            base = revision.design.revisions.filter(number=serializer.validated_data["base_revision_number"]).first()
            if base is None:
                raise serializers.ValidationError({"base_revision_number": "No such revision of this design."})
        try:
            run = services.run_start(
                revision=revision,
                user=request.user,
                only=serializer.validated_data["only"],
                base_revision=base,
                renames=serializer.validated_data["renames"],
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        if run.status == RunStatus.FAILED:  # not started: the job queue was unreachable
            return Response(
                {**RunOutputSerializer(run).data, "detail": run.error}, status=status.HTTP_503_SERVICE_UNAVAILABLE
            )
        return Response(RunOutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunListApi(generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = RunOutputSerializer
    filterset_class = RunFilter

    def get_queryset(self) -> QuerySet[AnalysisRun]:
        if getattr(self, "swagger_fake_view", False):
            return AnalysisRun.objects.none()
        return selectors.run_list(user=self.request.user)


class RunDetailApi(generics.GenericAPIView):  # type: ignore[type-arg]
    serializer_class = RunOutputSerializer

    def get(self, request: Request, run_id: int) -> Response:
        run, _ = selectors.run_get(user=request.user, run_id=run_id, with_report=False)
        return Response(RunOutputSerializer(run).data)


class RunCancelApi(generics.GenericAPIView):  # type: ignore[type-arg]
    serializer_class = RunOutputSerializer

    @extend_schema(request=None, responses={200: RunOutputSerializer})
    def post(self, request: Request, run_id: int) -> Response:
        run, membership = selectors.run_get(user=request.user, run_id=run_id)
        if not membership.can(Role.EDITOR):
            raise PermissionDenied("Viewers cannot cancel analyses.")
        return Response(RunOutputSerializer(services.run_cancel(run=run)).data)


class RunReportApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """The run's report in the workbench-report/1 JSON format (404 until the run has one)."""

    serializer_class = None

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, run_id: int) -> Response:
        run, _ = selectors.run_get(user=request.user, run_id=run_id)
        report = selectors.run_report_get(run=run)
        if report is None:
            return Response(
                {"detail": f"The run is {run.status}; it has no report yet."},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(report)


class FindingListApi(generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = FindingOutputSerializer
    filterset_class = FindingFilter

    def get_queryset(self) -> QuerySet[Finding]:
        if getattr(self, "swagger_fake_view", False):
            return Finding.objects.none()
        run, _ = selectors.run_get(user=self.request.user, run_id=self.kwargs["run_id"], with_report=False)
        return selectors.with_first_places(run.findings.all(), settings.FINDINGS_API_MAX_PLACES)
