from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import selectors, services
from apps.accounts.models import Workspace


class WorkspaceOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    role = serializers.SerializerMethodField()

    class Meta:
        model = Workspace
        fields = ("id", "name", "slug", "created_at", "role")

    def get_role(self, workspace: Workspace) -> str | None:
        user = self.context["request"].user
        membership = next((m for m in workspace.memberships.all() if m.user_id == user.pk), None)
        return membership.role if membership else None


class WorkspaceListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: the workspaces the caller belongs to. POST: create one, with the caller as owner."""

    serializer_class = WorkspaceOutputSerializer

    class InputSerializer(serializers.Serializer):  # type: ignore[type-arg]
        name = serializers.CharField(max_length=100)

        class Meta:
            ref_name = "WorkspaceCreate"

    def get_queryset(self) -> QuerySet[Workspace]:
        if getattr(self, "swagger_fake_view", False):
            return Workspace.objects.none()
        return selectors.workspace_list(user=self.request.user).prefetch_related("memberships").order_by("name")

    @extend_schema(request=InputSerializer, responses={201: WorkspaceOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            workspace = services.workspace_create(user=request.user, name=serializer.validated_data["name"])
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return Response(
            WorkspaceOutputSerializer(workspace, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class WorkspaceDetailApi(generics.GenericAPIView):  # type: ignore[type-arg]
    serializer_class = WorkspaceOutputSerializer

    def get(self, request: Request, slug: str) -> Response:
        workspace, _ = selectors.workspace_get(user=request.user, slug=slug)
        return Response(WorkspaceOutputSerializer(workspace, context={"request": request}).data)
