"""What the generated views, permissions, pagination and idempotency share (no design-specific code)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import django_filters
from django import forms
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import generics, pagination, permissions, serializers, status
from rest_framework.exceptions import MethodNotAllowed, NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

IDEMPOTENCY_HEADER = "Idempotency-Key"


def owner_id(request: Request) -> Any:
    """The id of the owner row (e.g. the customer) the caller is: the user's attribute named by
    the DESIGN_OWNER_ATTRIBUTE setting (by default the user's own primary key)."""
    return getattr(request.user, getattr(settings, "DESIGN_OWNER_ATTRIBUTE", "pk"), None)


def max_page_size() -> int:
    return int(getattr(settings, "API_MAX_PAGE_SIZE", 100))


@dataclass(frozen=True)
class Operation:
    """One operation of a path: what it does, with which serializers, and what guards it."""

    action: str  # list, retrieve, create, update, partial_update, destroy, receive, not_implemented
    status: int = 200
    input: Any = None
    output: Any = None
    permissions: tuple[Any, ...] = ()
    throttles: tuple[Any, ...] = ()
    pagination: Any = None
    filterset: Any = None
    # Columns set from the path (column -> URL keyword) when rows are read and created.
    parents: dict[str, str] = field(default_factory=dict)
    # The lookup to the owner's id ("customer_id", "order__customer_id", "pk"), "" if none.
    owner: str = ""
    # The URL keyword that names the owner's row itself (404 when it is not the caller's).
    owner_kwarg: str = ""
    lookup_kwarg: str = ""
    # Column set from the Idempotency-Key header on create, "" if none.
    idempotency_column: str = ""
    idempotent: bool = False
    idempotency_required: bool = False
    # Header parameters the API documents: (name, required), for the schema.
    headers: tuple[tuple[str, bool], ...] = ()
    # Columns the request does not carry that the row is saved with, from the caller.
    owner_column: str = ""
    # Fields the row needs that neither the request nor the caller gives (a total the server works
    # out): the view's server_values() must return them; until it does, the create answers 501.
    server_set: tuple[str, ...] = ()
    # A call from a third party (a webhook) is kept in the inbox app under this name.
    received_as: str = ""
    # The call must carry the HMAC-SHA256 of its body (WEBHOOK_SECRET) in this header; "" when
    # it need not (it is authenticated otherwise).
    signature_header: str = ""


class DesignSchema(AutoSchema):
    """What drf-spectacular says of an operation: its own request and response serializers and
    its success status (one view serves every method of a path)."""

    def _design_operation(self) -> Operation | None:
        return self.view.operations.get(self.method.upper())

    def get_request_serializer(self) -> Any:
        op = self._design_operation()
        return op.input if op else None

    def get_response_serializers(self) -> Any:
        op = self._design_operation()
        return {op.status: op.output} if op else None

    def get_paginated_name(self, serializer_name: str) -> str:
        # A page served as a bare array and one in an envelope of the same rows are two shapes.
        if isinstance(self._get_paginator(), BareList):
            return f"{serializer_name}Page"
        return super().get_paginated_name(serializer_name)

    def get_override_parameters(self) -> list[Any]:
        op = self._design_operation()
        return [
            OpenApiParameter(name, str, OpenApiParameter.HEADER, required=required)
            for name, required in (op.headers if op else ())
        ]


class DesignView(generics.GenericAPIView):
    """A path of the API: each method's Operation says what it does."""

    operations: dict[str, Operation] = {}
    base_queryset: Any = None
    schema = DesignSchema()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Only the path's own methods: Django answers 405 to the others, and the schema lists no more.
        cls.http_method_names = [method.lower() for method in cls.operations]

    @property
    def operation(self) -> Operation:
        if self.request.method not in self.operations:
            raise MethodNotAllowed(self.request.method)
        return self.operations[self.request.method]

    @property
    def action(self) -> str:
        return self.operation.action

    @property
    def pagination_class(self) -> Any:
        return self.operation.pagination

    @property
    def filterset_class(self) -> Any:
        return self.operation.filterset

    @property
    def filter_backends(self) -> list[Any]:
        return [DjangoFilterBackend] if self.operation.filterset else []

    def get_queryset(self) -> Any:
        op = self.operation
        queryset = self.base_queryset.all()
        for column, kwarg in op.parents.items():
            queryset = queryset.filter(**{column: self.kwargs[kwarg]})
        if op.owner and not self.request.user.is_superuser:
            queryset = queryset.filter(**{op.owner: owner_id(self.request)})
        return queryset if queryset.ordered else queryset.order_by("pk")  # pages need an order

    def get_serializer_class(self) -> Any:
        op = self.operation
        return op.input or op.output

    def get_permissions(self) -> list[Any]:
        return [permission() for permission in self.operation.permissions]

    def get_throttles(self) -> list[Any]:
        """The project's default rates (DEFAULT_THROTTLE_CLASSES) and the operation's own."""
        return [*super().get_throttles(), *(throttle() for throttle in self.operation.throttles)]

    def get_object(self) -> Any:
        op = self.operation
        self.lookup_url_kwarg = op.lookup_kwarg
        self.lookup_field = "pk"
        return super().get_object()

    def _check_owner_kwarg(self) -> None:
        op = self.operation
        mine = str(owner_id(self.request))
        if op.owner_kwarg and not self.request.user.is_superuser and str(self.kwargs[op.owner_kwarg]) != mine:
            raise NotFound

    def _dispatch_operation(self, request: Request, **kwargs: Any) -> Response:
        self._check_owner_kwarg()
        op = self.operation
        return getattr(self, f"_{op.action}")(request, op)

    def _list(self, request: Request, op: Operation) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(op.output(page, many=True).data)
        return Response(op.output(queryset[: max_page_size()], many=True).data, status=op.status)

    def _retrieve(self, request: Request, op: Operation) -> Response:
        instance = self.get_object()
        return Response(op.output(instance).data if op.output else None, status=op.status)

    def _create(self, request: Request, op: Operation) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if op.idempotent:
            if not key and op.idempotency_required:
                raise ValidationError({IDEMPOTENCY_HEADER: "This header is required."})
            remembered = cache.get(self._idempotency_cache_key(key)) if key else None
            if remembered is not None:
                return Response(remembered[1], status=remembered[0])
        self._check_parents(op)
        serializer = op.input(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        values = {column: self.kwargs[kwarg] for column, kwarg in op.parents.items()}
        if op.owner_column:
            values[op.owner_column] = owner_id(request)
        if op.server_set:
            values.update(self.server_values(request, serializer.validated_data))
            unset = [name for name in op.server_set if name not in values]
            if unset:
                detail = f"Not implemented yet: {type(self).__name__}.server_values() must set {', '.join(unset)}."
                return Response({"detail": detail}, status=status.HTTP_501_NOT_IMPLEMENTED)
        if op.idempotency_column and key:
            values[op.idempotency_column] = key
        instance = serializer.save(**values)
        data = op.output(instance, context=self.get_serializer_context()).data if op.output else None
        if op.idempotent and key:
            cache.set(self._idempotency_cache_key(key), (op.status, data), settings.IDEMPOTENCY_KEY_SECONDS)
        return Response(data, status=op.status)

    def _check_parents(self, op: Operation) -> None:
        """404 unless each row the path names as the new row's parent exists and, where the owner is
        reached through it (`order__customer_id`), is the caller's."""
        model = self.base_queryset.model
        for column, kwarg in op.parents.items():
            name = column.removesuffix("_id")
            parent = model._meta.get_field(name).related_model
            rows = parent.objects.filter(pk=self.kwargs[kwarg])
            if op.owner.startswith(f"{name}__") and not self.request.user.is_superuser:
                rows = rows.filter(**{op.owner.removeprefix(f"{name}__"): owner_id(self.request)})
            if not rows.exists():
                raise NotFound

    def _idempotency_cache_key(self, key: str) -> str:
        return f"idempotency:{self.request.user.pk}:{self.request.method}:{self.request.path}:{key}"

    def _update(self, request: Request, op: Operation, *, partial: bool = False) -> Response:
        instance = self.get_object()
        serializer = op.input(instance, data=request.data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        instance = serializer.save()
        data = op.output(instance, context=self.get_serializer_context()).data if op.output else None
        return Response(data, status=op.status)

    def _partial_update(self, request: Request, op: Operation) -> Response:
        return self._update(request, op, partial=True)

    def _destroy(self, request: Request, op: Operation) -> Response:
        self.get_object().delete()
        return Response(status=op.status)

    def server_values(self, request: Request, validated: dict[str, Any]) -> dict[str, Any]:
        """The fields of a new row that the server works out (Operation.server_set): write them here."""
        return {}

    def _receive(self, request: Request, op: Operation) -> Response:
        """A call from a third party: its signature checked, its body validated against the
        request schema, then kept whole, as sent, in the inbox (inbox.ReceivedEvent) for the
        team's code to handle. A delivery repeated with the same Idempotency-Key and the same
        body is kept once; the key is not signed, so another body under it is kept too."""
        if op.signature_header:
            verify_signature(request, op.signature_header)
        if op.input is not None:
            op.input(data=request.data).is_valid(raise_exception=True)
        payload = request.data
        delivery = request.headers.get(IDEMPOTENCY_HEADER, "") if op.idempotent else ""
        if op.idempotency_required and not delivery:
            raise ValidationError({IDEMPOTENCY_HEADER: "This header is required."})
        events = apps.get_model("inbox", "ReceivedEvent").objects
        if not (delivery and events.filter(operation=op.received_as, delivery=delivery, payload=payload).exists()):
            events.create(operation=op.received_as, payload=payload, delivery=delivery)
        return Response(status=op.status)

    def _not_implemented(self, request: Request, op: Operation) -> Response:
        if op.input is not None and request.method in {"POST", "PUT", "PATCH"}:
            op.input(data=request.data).is_valid(raise_exception=True)
        return Response({"detail": "Not implemented yet."}, status=status.HTTP_501_NOT_IMPLEMENTED)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._dispatch_operation(request, **kwargs)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._dispatch_operation(request, **kwargs)

    def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._dispatch_operation(request, **kwargs)

    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._dispatch_operation(request, **kwargs)

    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._dispatch_operation(request, **kwargs)


def verify_signature(request: Request, header: str) -> None:
    """403 unless `header` holds the hex HMAC-SHA256 of the request's raw body under the
    WEBHOOK_SECRET setting (a `sha256=` prefix allowed); refused too while no secret is set."""
    secret = getattr(settings, "WEBHOOK_SECRET", "")
    if not secret:
        raise PermissionDenied("WEBHOOK_SECRET is not set: signed calls cannot be verified.")
    given = request.headers.get(header, "").removeprefix("sha256=")
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise PermissionDenied("The signature does not match the body.")


class IsOwner(permissions.BasePermission):
    """Object-level: the row belongs to the caller (the view's owner lookup); superusers pass."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        lookup = view.operation.owner
        if not lookup or request.user.is_superuser:
            return True
        value = obj
        for part in lookup.split("__"):
            value = getattr(value, part)
        return str(value) == str(owner_id(request))


class HasRole(permissions.BasePermission):
    """Function-level: the caller is in one of `roles` (Django groups of those names)."""

    roles: tuple[str, ...] = ()

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.is_superuser or user.groups.filter(name__in=self.roles).exists()


class Page(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param: str | None = None

    def get_page_size(self, request: Request) -> int:
        return min(super().get_page_size(request) or self.page_size, max_page_size())


class LimitOffset(pagination.LimitOffsetPagination):
    default_limit = 50

    def get_limit(self, request: Request) -> int:
        return min(super().get_limit(request) or self.default_limit, max_page_size())

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        # Without a limit parameter (limit_query_param None), only the offset is documented.
        return [p for p in super().get_schema_operation_parameters(view) if p["name"] is not None]


class Cursor(pagination.CursorPagination):
    page_size = 50
    ordering = "-pk"

    def get_page_size(self, request: Request) -> int:
        return min(super().get_page_size(request) or self.page_size, max_page_size())


class FormatsModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose text columns named in Meta.formats take the format the API gives them
    ("email": EmailField, "uri": URLField), with the validators the column gives (unique ...)."""

    _FORMATS = {"email": serializers.EmailField, "uri": serializers.URLField}

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[Any, dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        wanted = getattr(self.Meta, "formats", {}).get(field_name)
        return self._FORMATS.get(wanted, field_class), kwargs


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    """A whole-number query parameter (django-filter's NumberFilter takes decimals)."""

    field_class = forms.IntegerField


class BareList:
    """A page answered as the bare array the API documents; the next and previous pages in a
    Link header (RFC 8288) instead of an envelope."""

    def get_paginated_response(self, data: Any) -> Response:
        links = [
            f'<{url}>; rel="{rel}"'
            for rel, url in (("next", self.get_next_link()), ("prev", self.get_previous_link()))
            if url
        ]
        return Response(data, headers={"Link": ", ".join(links)} if links else None)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return schema  # the page's own array, as served


def rename_fields(serializer: Any, names: dict[str, str]) -> None:
    """Give declared serializer fields the API's own names where those are not Python identifiers."""
    declared = serializer._declared_fields
    for attribute, name in names.items():
        declared[name] = declared.pop(attribute)


def rename_filters(filterset: Any, names: dict[str, str]) -> None:
    """Give filters the query parameter names the API uses where those are not Python identifiers."""
    for attribute, name in names.items():
        filterset.base_filters[name] = filterset.base_filters.pop(attribute)
