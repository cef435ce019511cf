from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from apps.accounts.models import Role
from apps.accounts.selectors import workspace_get
from apps.designs import selectors, services
from apps.designs.engine.loader import DesignInput
from apps.designs.engine.model import Problem
from apps.designs.models import Design, Revision
from apps.designs.services import DesignRejected


class ProblemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField()
    message = serializers.CharField()
    fix = serializers.CharField()
    document = serializers.CharField(source="source.document")
    line = serializers.IntegerField(source="source.line", allow_null=True)
    column = serializers.IntegerField(source="source.column", allow_null=True)


def rejected(problems: tuple[Problem, ...]) -> Response:
    return Response(
        {
            "detail": "The design cannot be analysed; nothing was saved.",
            "problems": ProblemSerializer(problems, many=True).data,
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


class DocumentField(serializers.CharField):
    """A pasted text. NUL and lone surrogates are not refused here, without a place, but by the
    parsers, which name their line (and refuse the paste, so it is never saved)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(required=False, allow_blank=True, trim_whitespace=False, default="", **kwargs)  # type: ignore[arg-type]
        unplaced = (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)
        self.validators = [v for v in self.validators if not isinstance(v, unplaced)]


class TextsInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    document = DocumentField()
    document_name = serializers.CharField(required=False, allow_blank=True, default="design.md", max_length=200)
    stories = DocumentField()
    openapi = DocumentField()
    data_model = DocumentField()
    queries = DocumentField()

    def texts(self) -> DesignInput:
        return DesignInput(**self.validated_data)


class RevisionOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = Revision
        fields = (
            "id",
            "design",
            "number",
            "created_by",
            "created_at",
            "document_name",
            "summary",
            "problem_count",
        )


class RevisionDetailSerializer(RevisionOutputSerializer):
    class Meta(RevisionOutputSerializer.Meta):
        fields = (
            *RevisionOutputSerializer.Meta.fields,
            "document",
            "stories",
            "openapi",
            "data_model",
            "queries",
        )


class DesignOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    workspace = serializers.CharField(source="workspace.slug")
    latest_revision = serializers.SerializerMethodField()

    class Meta:
        model = Design
        fields = ("id", "workspace", "name", "created_at", "latest_revision")

    def get_latest_revision(self, design: Design) -> int | None:
        revision = design.latest_revision
        return revision.number if revision else None


class DesignListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: the workspace's designs. POST: a new design with its first revision."""

    serializer_class = DesignOutputSerializer

    class InputSerializer(TextsInputSerializer):
        name = serializers.CharField(max_length=200)

        class Meta:
            ref_name = "DesignCreate"

    def get_queryset(self) -> QuerySet[Design]:
        if getattr(self, "swagger_fake_view", False):
            return Design.objects.none()
        workspace, _ = workspace_get(user=self.request.user, slug=self.kwargs["slug"])
        return selectors.design_list(workspace=workspace)

    @extend_schema(request=InputSerializer, responses={201: DesignOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        workspace, membership = workspace_get(user=request.user, slug=slug)
        if not membership.can(Role.EDITOR):
            raise PermissionDenied("Viewers cannot add designs.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        name = data.pop("name")
        try:
            design, _ = services.design_create(
                workspace=workspace,
                user=request.user,
                name=name,
                texts=DesignInput(**data),
            )
        except DesignRejected as exc:
            return rejected(exc.problems)
        return Response(DesignOutputSerializer(design).data, status=status.HTTP_201_CREATED)


class DesignDetailApi(generics.GenericAPIView):  # type: ignore[type-arg]
    serializer_class = DesignOutputSerializer

    def get(self, request: Request, design_id: int) -> Response:
        design, _ = selectors.design_get(user=request.user, design_id=design_id)
        return Response(DesignOutputSerializer(design).data)


class RevisionListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: a design's revisions, newest first. POST: paste a new revision (the texts)."""

    serializer_class = RevisionOutputSerializer

    def get_queryset(self) -> QuerySet[Revision]:
        if getattr(self, "swagger_fake_view", False):
            return Revision.objects.none()
        design, _ = selectors.design_get(user=self.request.user, design_id=self.kwargs["design_id"])
        return design.revisions.select_related("created_by").order_by("-number")

    @extend_schema(request=TextsInputSerializer, responses={201: RevisionOutputSerializer})
    def post(self, request: Request, design_id: int) -> Response:
        design, membership = selectors.design_get(user=request.user, design_id=design_id)
        if not membership.can(Role.EDITOR):
            raise PermissionDenied("Viewers cannot add revisions.")
        serializer = TextsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            revision = services.revision_create(design=design, user=request.user, texts=serializer.texts())
        except DesignRejected as exc:
            return rejected(exc.problems)
        return Response(RevisionOutputSerializer(revision).data, status=status.HTTP_201_CREATED)


class RevisionDetailApi(generics.GenericAPIView):  # type: ignore[type-arg]
    serializer_class = RevisionDetailSerializer

    def get(self, request: Request, revision_id: int) -> Response:
        revision, _ = selectors.revision_get(user=request.user, revision_id=revision_id)
        return Response(RevisionDetailSerializer(revision).data)
