"""Drift between a pasted OpenAPI document and the one drf-spectacular produced: small hand-written
pairs, one behaviour each (apps/endpoints/engine/drift.py)."""

from __future__ import annotations

import copy
import time
from typing import Any

from apps.endpoints.engine import drift as d
from apps.endpoints.engine.drift import Drift, DriftLimits, find_drift

ORDER = {
    "type": "object",
    "required": ["id", "reference", "total"],
    "properties": {
        "id": {"type": "integer", "format": "int64", "readOnly": True},
        "reference": {"type": "string"},
        "total": {"type": "integer"},
        "placed_at": {"type": "string", "format": "date-time", "readOnly": True},
    },
}


def _doc(paths: dict[str, Any], *, schemas: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}
    if schemas is not None:
        doc["components"] = {"schemas": schemas}
    doc.update(top)
    return doc


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _get(schema: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    response = {"description": "ok", **(_json(schema) if schema is not None else {})}
    return {"responses": {"200": response}, **extra}


def _kinds(items: list[Drift]) -> list[str]:
    return [item.kind for item in items]


def _one(items: list[Drift], kind: str) -> Drift:
    found = [item for item in items if item.kind == kind]
    assert len(found) == 1, items
    return found[0]


# --- operations and paths -------------------------------------------------------------------------


def test_identical_documents_have_no_drift() -> None:
    doc = _doc({"/orders/{id}": {"get": _get({"$ref": "#/components/schemas/Order"})}}, schemas={"Order": ORDER})
    assert find_drift(doc, copy.deepcopy(doc)) == []


def test_an_operation_not_served_and_one_served_beyond_the_document_are_found() -> None:
    pasted = _doc({"/orders": {"get": _get(), "post": _get()}})
    generated = _doc({"/orders": {"get": _get()}, "/carts": {"get": _get()}})
    items = find_drift(pasted, generated)
    missing = _one(items, d.OPERATION_MISSING)
    assert (missing.operation, missing.pasted, missing.generated) == (
        "POST /orders",
        "/paths/~1orders/post",
        "/paths/~1orders",
    )
    extra = _one(items, d.OPERATION_EXTRA)
    assert (extra.operation, extra.generated) == ("GET /carts", "/paths/~1carts/get")


def test_path_parameter_names_and_trailing_slashes_are_not_differences() -> None:
    param = {"in": "path", "required": True, "schema": {"type": "integer"}}
    pasted = _doc({"/orders/{orderId}": {"get": _get(parameters=[{"name": "orderId", **param}])}})
    generated = _doc({"/orders/{id}/": {"get": _get(parameters=[{"name": "id", **param}])}})
    assert find_drift(pasted, generated) == []


def test_the_servers_base_path_is_not_a_difference() -> None:
    pasted = _doc(
        {"/orders": {"get": _get()}},
        servers=[{"url": "https://api.example.com/{version}", "variables": {"version": {"default": "v1"}}}],
    )
    assert find_drift(pasted, _doc({"/v1/orders": {"get": _get()}})) == []
    assert find_drift(pasted, _doc({"/orders": {"get": _get()}})) == []


def test_drf_spectacular_s_own_schema_view_is_not_an_extra_operation() -> None:
    schema_view = {
        "operationId": "schema_retrieve",
        "responses": {
            "200": {"description": "", "content": {"application/vnd.oai.openapi": {"schema": {"type": "object"}}}}
        },
    }
    generated = _doc({"/orders": {"get": _get()}, "/schema/": {"get": schema_view}})
    assert find_drift(_doc({"/orders": {"get": _get()}}), generated) == []


def test_head_and_options_operations_are_served_by_drf_itself() -> None:
    pasted = _doc({"/orders": {"get": _get(), "head": _get(), "options": _get()}})
    assert find_drift(pasted, _doc({"/orders": {"get": _get()}})) == []


# --- parameters -----------------------------------------------------------------------------------


def test_parameters_missing_extra_required_and_typed_differently_are_found() -> None:
    pasted = _doc(
        {
            "/orders": {
                "get": _get(
                    parameters=[
                        {"name": "status", "in": "query", "required": True, "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "format": "int32"}},
                        {"name": "since", "in": "query", "schema": {"type": "string"}},
                    ]
                )
            }
        }
    )
    generated = _doc(
        {
            "/orders": {
                "get": _get(
                    parameters=[
                        {"name": "status", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "string"}},
                        {"name": "page", "in": "query", "schema": {"type": "integer"}},
                    ]
                )
            }
        }
    )
    items = find_drift(pasted, generated)
    assert sorted(_kinds(items)) == sorted(
        [d.PARAMETER_REQUIRED, d.PARAMETER_TYPE, d.PARAMETER_MISSING, d.PARAMETER_EXTRA]
    )
    assert _one(items, d.PARAMETER_REQUIRED).pasted == "/paths/~1orders/get/parameters/0"
    assert (
        _one(items, d.PARAMETER_TYPE).description
        == "query parameter limit is integer in the pasted document, string when generated"
    )
    assert _one(items, d.PARAMETER_TYPE).generated == "/paths/~1orders/get/parameters/1/schema"
    assert "since" in _one(items, d.PARAMETER_MISSING).description
    assert _one(items, d.PARAMETER_EXTRA).generated == "/paths/~1orders/get/parameters/2"


def test_a_path_parameter_of_another_type_is_found_whatever_its_name() -> None:
    pasted = _doc(
        {
            "/orders/{orderId}": {
                "get": _get(
                    parameters=[
                        {
                            "name": "orderId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "format": "uuid"},
                        }
                    ]
                )
            }
        }
    )
    generated = _doc(
        {
            "/orders/{id}": {
                "get": _get(parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}])
            }
        }
    )
    item = _one(find_drift(pasted, generated), d.PARAMETER_TYPE)
    assert item.operation == "GET /orders/{orderId}"
    assert (item.pasted, item.generated) == (
        "/paths/~1orders~1{orderId}/get/parameters/0/schema",
        "/paths/~1orders~1{id}/get/parameters/0/schema",
    )


def test_path_level_and_referenced_parameters_count_as_the_operations_own() -> None:
    pasted = _doc(
        {"/orders": {"parameters": [{"$ref": "#/components/parameters/Limit"}], "get": _get()}},
        components={"parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}}}},
    )
    generated = _doc(
        {"/orders": {"get": _get(parameters=[{"name": "limit", "in": "query", "schema": {"type": "integer"}}])}}
    )
    assert find_drift(pasted, generated) == []


def test_accept_content_type_and_authorization_headers_are_not_parameters() -> None:
    headers = [
        {"name": name, "in": "header", "schema": {"type": "string"}}
        for name in ("Accept", "Content-Type", "Authorization")
    ]
    pasted = _doc({"/orders": {"get": _get(parameters=headers)}})
    assert find_drift(pasted, _doc({"/orders": {"get": _get()}})) == []


def test_a_header_parameter_the_generated_schema_does_not_declare_is_found() -> None:
    header = {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}}
    pasted = _doc({"/orders": {"post": _get(parameters=[header])}})
    assert _kinds(find_drift(pasted, _doc({"/orders": {"post": _get()}}))) == [d.PARAMETER_MISSING]
    generated = _doc({"/orders": {"post": _get(parameters=[{**header, "name": "idempotency-key"}])}})
    assert find_drift(pasted, generated) == []


# --- request bodies --------------------------------------------------------------------------------


def _post(body: dict[str, Any] | None, media: str = "application/json") -> dict[str, Any]:
    op: dict[str, Any] = {"responses": {"201": {"description": "created"}}}
    if body is not None:
        op["requestBody"] = {"content": {media: {"schema": body}}}
    return op


def test_a_request_body_not_read_and_one_read_beyond_the_document_are_found() -> None:
    body = {"type": "object", "properties": {"reference": {"type": "string"}}}
    assert _kinds(find_drift(_doc({"/o": {"post": _post(body)}}), _doc({"/o": {"post": _post(None)}}))) == [
        d.REQUEST_BODY_MISSING
    ]
    assert _kinds(find_drift(_doc({"/o": {"post": _post(None)}}), _doc({"/o": {"post": _post(body)}}))) == [
        d.REQUEST_BODY_EXTRA
    ]


def test_a_media_type_not_accepted_is_found_and_drfs_extra_parsers_are_not() -> None:
    body = {"type": "object", "properties": {"reference": {"type": "string"}}}
    pasted = _doc(
        {
            "/o": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": body}, "application/xml": {"schema": body}}
                    },
                    "responses": {"201": {"description": "x"}},
                }
            }
        }
    )
    generated_content = {
        media: {"schema": body}
        for media in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")
    }
    generated = _doc(
        {"/o": {"post": {"requestBody": {"content": generated_content}, "responses": {"201": {"description": "x"}}}}}
    )
    item = _one(find_drift(pasted, generated), d.MEDIA_TYPE_MISSING)
    assert item.pasted == "/paths/~1o/post/requestBody/content/application~1xml"
    assert item.generated == "/paths/~1o/post/requestBody/content"
    assert len(find_drift(pasted, generated)) == 1


def test_request_fields_missing_extra_typed_and_required_differently_are_found_through_refs() -> None:
    pasted = _doc({"/o": {"post": _post({"$ref": "#/components/schemas/Order"})}}, schemas={"Order": ORDER})
    generated_order = {
        "type": "object",
        "required": ["reference"],
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "reference": {"type": "string"},
            "total": {"type": "string", "format": "decimal"},
            "note": {"type": "string"},
        },
    }
    generated = _doc(
        {"/o": {"post": _post({"$ref": "#/components/schemas/OrderRequest"})}},
        schemas={"OrderRequest": generated_order},
    )
    items = find_drift(pasted, generated)
    assert sorted(_kinds(items)) == sorted([d.FIELD_REQUIRED, d.FIELD_TYPE, d.FIELD_EXTRA])
    required = _one(items, d.FIELD_REQUIRED)
    assert required.description == "request field total is required in the pasted document, optional when generated"
    assert (required.pasted, required.generated) == (
        "/components/schemas/Order/properties/total",
        "/components/schemas/OrderRequest/properties/total",
    )
    assert (
        _one(items, d.FIELD_TYPE).description
        == "request field total is integer in the pasted document, string when generated"
    )
    assert _one(items, d.FIELD_EXTRA).generated == "/components/schemas/OrderRequest/properties/note"


def test_read_only_fields_are_not_expected_in_request_bodies() -> None:
    pasted = _doc({"/o": {"post": _post({"$ref": "#/components/schemas/Order"})}}, schemas={"Order": ORDER})
    request = {
        "type": "object",
        "required": ["reference", "total"],
        "properties": {"reference": {"type": "string"}, "total": {"type": "integer"}},
    }
    assert find_drift(pasted, _doc({"/o": {"post": _post(request)}})) == []


def test_a_missing_request_field_points_at_the_generated_properties() -> None:
    pasted = _doc(
        {
            "/o": {
                "post": _post(
                    {"type": "object", "properties": {"reference": {"type": "string"}, "coupon": {"type": "string"}}}
                )
            }
        }
    )
    generated = _doc({"/o": {"post": _post({"type": "object", "properties": {"reference": {"type": "string"}}})}})
    item = _one(find_drift(pasted, generated), d.FIELD_MISSING)
    assert item.description == "request field coupon is not read"
    assert (item.pasted, item.generated) == (
        "/paths/~1o/post/requestBody/content/application~1json/schema/properties/coupon",
        "/paths/~1o/post/requestBody/content/application~1json/schema/properties",
    )


# --- fields: types, formats, nullability, enums, nesting ------------------------------------------------


def _field_pair(pasted_field: dict[str, Any], generated_field: dict[str, Any]) -> list[Drift]:
    def doc(schema: dict[str, Any]) -> dict[str, Any]:
        return _doc({"/o": {"get": _get({"type": "object", "properties": {"f": schema}})}})

    return find_drift(doc(pasted_field), doc(generated_field))


def test_number_format_spellings_are_not_differences() -> None:
    assert _field_pair({"type": "integer", "format": "int64"}, {"type": "integer"}) == []
    assert _field_pair({"type": "integer"}, {"type": "integer", "format": "int32"}) == []
    assert _field_pair({"type": "number", "format": "double"}, {"type": "number", "format": "float"}) == []
    assert _kinds(_field_pair({"type": "number"}, {"type": "integer"})) == [d.FIELD_TYPE]


def test_a_string_format_the_generated_field_lacks_is_found() -> None:
    item = _one(_field_pair({"type": "string", "format": "date-time"}, {"type": "string"}), d.FIELD_FORMAT)
    assert item.description == "response field f has format date-time in the pasted document, none when generated"
    assert _field_pair({"type": "string", "format": "datetime"}, {"type": "string", "format": "date-time"}) == []
    assert _field_pair({"type": "string"}, {"type": "string", "format": "email"}) == []


def test_nullable_and_3_1_null_types_mean_the_same() -> None:
    assert _field_pair({"type": ["string", "null"]}, {"type": "string", "nullable": True}) == []
    assert _field_pair({"type": "string", "nullable": True}, {"anyOf": [{"type": "string"}, {"type": "null"}]}) == []
    item = _one(_field_pair({"type": ["string", "null"]}, {"type": "string"}), d.FIELD_NULLABLE)
    assert item.description == "response field f may be null in the pasted document, is never null when generated"


def test_drf_spectacular_enum_unions_compare_as_one_enum() -> None:
    generated = {
        "nullable": True,
        "oneOf": [{"enum": ["placed", "paid"], "type": "string"}, {"enum": [""]}, {"enum": [None]}],
    }
    assert _field_pair({"type": ["string", "null"], "enum": ["placed", "paid", None]}, generated) == []
    item = _one(
        _field_pair(
            {"type": "string", "enum": ["placed", "paid", "shipped"]}, {"type": "string", "enum": ["placed", "paid"]}
        ),
        d.FIELD_ENUM,
    )
    assert "not accepted shipped" in item.description
    assert (
        "takes any value"
        in _one(_field_pair({"type": "string", "enum": ["a"]}, {"type": "string"}), d.FIELD_ENUM).description
    )


def test_all_of_is_merged_on_both_sides() -> None:
    pasted = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"properties": {"b": {"type": "integer"}}, "required": ["b"]},
        ]
    }
    generated = {"type": "object", "required": ["b"], "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    assert _field_pair(pasted, generated) == []


def test_a_union_without_discriminator_is_not_compared_beneath() -> None:
    union = {
        "oneOf": [
            {"type": "object", "properties": {"card": {"type": "string"}}},
            {"type": "object", "properties": {"iban": {"type": "string"}}},
        ]
    }
    assert _field_pair(union, {"type": "object", "additionalProperties": {}}) == []


def test_maps_compare_their_values_and_additional_properties_false_is_not_a_difference() -> None:
    assert _kinds(
        _field_pair(
            {"type": "object", "additionalProperties": {"type": "integer"}},
            {"type": "object", "additionalProperties": {"type": "string"}},
        )
    ) == [d.FIELD_TYPE]
    closed = {"type": "object", "additionalProperties": False, "properties": {"a": {"type": "string"}}}
    assert _field_pair(closed, {"type": "object", "properties": {"a": {"type": "string"}}}) == []


def test_array_items_and_nested_objects_are_compared() -> None:
    pasted = {
        "type": "array",
        "items": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}},
    }
    generated = {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}}
    item = _one(_field_pair(pasted, generated), d.FIELD_MISSING)
    assert item.description == "response field f[].qty is not sent"
    assert (
        item.pasted == "/paths/~1o/get/responses/200/content/application~1json/schema/properties/f/items/properties/qty"
    )


# --- responses ---------------------------------------------------------------------------------------------


def test_a_response_field_always_sent_is_not_a_difference_but_one_sometimes_missing_is() -> None:
    def doc(required: list[str]) -> dict[str, Any]:
        return _doc(
            {"/o": {"get": _get({"type": "object", "required": required, "properties": {"a": {"type": "string"}}})}}
        )

    assert find_drift(doc([]), doc(["a"])) == []
    item = _one(find_drift(doc(["a"]), doc([])), d.FIELD_REQUIRED)
    assert item.description == "response field a is required in the pasted document, optional when generated"


def test_write_only_fields_are_not_expected_in_responses() -> None:
    pasted = {
        "type": "object",
        "properties": {"password": {"type": "string", "writeOnly": True}, "name": {"type": "string"}},
    }
    assert (
        find_drift(
            _doc({"/o": {"get": _get(pasted)}}),
            _doc({"/o": {"get": _get({"type": "object", "properties": {"name": {"type": "string"}}})}}),
        )
        == []
    )


def test_another_success_code_is_one_difference() -> None:
    pasted = _doc({"/o": {"post": {"responses": {"201": _json({"type": "object"}) | {"description": "c"}}}}})
    generated = _doc({"/o": {"post": {"responses": {"200": _json({"type": "object"}) | {"description": "c"}}}}})
    item = _one(find_drift(pasted, generated), d.STATUS_CODE)
    assert item.description == "answers 200 where the pasted document says 201"
    assert (item.pasted, item.generated) == ("/paths/~1o/post/responses/201", "/paths/~1o/post/responses/200")
    assert len(find_drift(pasted, generated)) == 1


def test_drfs_own_error_codes_and_default_are_not_differences_but_other_codes_are() -> None:
    def responses(*codes: str) -> dict[str, Any]:
        return _doc({"/o/{id}": {"delete": {"responses": {code: {"description": code} for code in codes}}}})

    assert find_drift(responses("204", "401", "404", "default"), responses("204", "400", "403")) == []
    items = find_drift(responses("204", "409"), responses("204", "202"))
    assert _kinds(items) == [d.STATUS_MISSING, d.STATUS_EXTRA]
    assert items[0].description == "never answers 409"


def test_a_status_range_covers_its_codes() -> None:
    pasted = _doc({"/o": {"get": {"responses": {"2XX": {"description": "ok"}}}}})
    assert find_drift(pasted, _doc({"/o": {"get": {"responses": {"200": {"description": "ok"}}}}})) == []


def test_a_response_without_its_body_is_found() -> None:
    pasted = _doc({"/o": {"get": _get({"type": "object"})}})
    item = _one(find_drift(pasted, _doc({"/o": {"get": _get()}})), d.RESPONSE_BODY_MISSING)
    assert item.pasted == "/paths/~1o/get/responses/200/content"


def test_response_headers_are_not_compared() -> None:
    pasted = _doc(
        {
            "/o": {
                "get": {
                    "responses": {
                        "200": {"description": "ok", "headers": {"X-Rate-Limit": {"schema": {"type": "integer"}}}}
                    }
                }
            }
        }
    )
    assert find_drift(pasted, _doc({"/o": {"get": _get()}})) == []


# --- security -------------------------------------------------------------------------------------------


SCHEMES_PASTED = {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "oauth": {"type": "oauth2", "flows": {}}}
}
SCHEMES_DRF = {
    "securitySchemes": {
        "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
        "basicAuth": {"type": "http", "scheme": "basic"},
    }
}
DRF_AUTH = [{"cookieAuth": []}, {"basicAuth": []}]


def test_an_operation_admitting_anonymous_callers_against_the_document_is_found() -> None:
    pasted = _doc(
        {"/o": {"get": _get(security=[{"bearer": []}])}, "/p": {"get": _get(security=[])}}, components=SCHEMES_PASTED
    )
    generated = _doc(
        {"/o": {"get": _get(security=[*DRF_AUTH, {}])}, "/p": {"get": _get(security=DRF_AUTH)}}, components=SCHEMES_DRF
    )
    items = [i for i in find_drift(pasted, generated) if i.kind != d.SECURITY_SCHEMES]
    assert [(i.kind, i.operation) for i in items] == [(d.SECURITY_ANONYMOUS, "GET /o"), (d.SECURITY_REQUIRED, "GET /p")]
    assert (items[0].pasted, items[0].generated) == ("/paths/~1o/get/security", "/paths/~1o/get/security")


def test_the_kinds_of_scheme_are_compared_once_for_the_whole_api_and_scopes_not_at_all() -> None:
    pasted = _doc(
        {"/o": {"get": _get()}, "/p": {"get": _get(security=[{"oauth": ["orders:read"]}])}},
        components=SCHEMES_PASTED,
        security=[{"bearer": []}],
    )
    generated = _doc(
        {"/o": {"get": _get(security=DRF_AUTH)}, "/p": {"get": _get(security=DRF_AUTH)}}, components=SCHEMES_DRF
    )
    items = find_drift(pasted, generated)
    assert _kinds(items) == [d.SECURITY_SCHEMES, d.SECURITY_SCHEMES]
    assert items[0].operation == ""
    assert (
        items[0].description
        == "HTTP bearer authentication is not offered (the generated project offers API key in a cookie, HTTP basic)"
    )
    assert (items[0].pasted, items[0].generated) == (
        "/components/securitySchemes/bearer",
        "/components/securitySchemes",
    )
    assert items[1].description.startswith("oauth2 authentication is not offered")


# --- hostile input ---------------------------------------------------------------------------------------


def test_cyclic_refs_end_and_a_difference_inside_the_cycle_is_found_once() -> None:
    def doc(child_type: str) -> dict[str, Any]:
        schemas = {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": child_type},
                    "parent": {"$ref": "#/components/schemas/Node"},
                    "other": {"$ref": "#/components/schemas/Other"},
                },
            },
            "Other": {"type": "object", "properties": {"back": {"$ref": "#/components/schemas/Node"}}},
            "Loop": {"$ref": "#/components/schemas/Loop"},
        }
        return _doc(
            {
                "/n": {"get": _get({"$ref": "#/components/schemas/Node"})},
                "/l": {"get": _get({"$ref": "#/components/schemas/Loop"})},
            },
            schemas=schemas,
        )

    items = find_drift(doc("string"), doc("integer"))
    assert _kinds(items) == [d.FIELD_TYPE]
    assert items[0].pasted == "/components/schemas/Node/properties/name"


def test_deep_nesting_stops_at_the_named_depth_limit() -> None:
    def nested(levels: int, leaf: str) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": leaf}
        for _ in range(levels):
            schema = {"type": "object", "properties": {"x": schema}}
        return schema

    pasted = _doc({"/o": {"get": _get(nested(5_000, "string"))}})
    generated = _doc({"/o": {"get": _get(nested(5_000, "integer"))}})
    items = find_drift(pasted, generated, limits=DriftLimits(max_depth=40))
    assert _kinds(items) == [d.TRUNCATED]
    assert "nests deeper than 40 levels (max_depth)" in items[0].description
    # Within the limit the same difference is found.
    assert _kinds(
        find_drift(
            _doc({"/o": {"get": _get(nested(30, "string"))}}), _doc({"/o": {"get": _get(nested(30, "integer"))}})
        )
    ) == [d.FIELD_TYPE]


def test_deep_all_of_nesting_ends() -> None:
    def doc() -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "string"}}}
        for _ in range(3_000):
            schema = {"allOf": [schema]}
        return _doc({"/o": {"get": _get(schema)}})

    assert find_drift(doc(), doc()) == []


def test_a_huge_document_stops_at_the_named_limits_in_bounded_time() -> None:
    pasted = _doc(
        {f"/r{i}": {"get": _get({"type": "object", "properties": {"a": {"type": "string"}}})} for i in range(20_000)}
    )
    generated = _doc(
        {f"/r{i}": {"get": _get({"type": "object", "properties": {"a": {"type": "integer"}}})} for i in range(20_000)}
    )
    started = time.monotonic()
    items = find_drift(pasted, generated, limits=DriftLimits(max_items=1_000))
    assert len(items) == 1_001
    assert items[-1].kind == d.TRUNCATED
    assert items[-1].description == "comparison stopped: more than 1000 differences (max_items)"
    items = find_drift(pasted, generated, limits=DriftLimits(max_comparisons=500))
    assert items[-1].description == "comparison stopped: more than 500 schemas compared (max_comparisons)"
    assert time.monotonic() - started < 10


def test_malformed_documents_give_drift_not_exceptions() -> None:
    garbage: list[Any] = [
        None,
        [],
        "paths",
        {"paths": []},
        {"paths": {"/o": None, "/p": {"get": []}, "/q": {"get": {"parameters": "x", "responses": []}}}},
        {
            "paths": {
                "/o": {
                    "get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/nowhere"}}}}}}
                }
            }
        },
        {
            "paths": {
                "/o": {
                    "get": {
                        "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "other.yaml#/X"}}}}}
                    }
                }
            }
        },
        {"paths": {"/o": {"$ref": "#/paths/~1o"}}},
        {
            "paths": {
                "/o": {
                    "get": {"security": [None, "x"], "parameters": [{"$ref": "#/components/parameters/P"}, {"name": 3}]}
                }
            }
        },
    ]
    for pasted in garbage:
        for generated in garbage:
            items = find_drift(pasted, generated)
            assert all(isinstance(item, Drift) for item in items)


def test_drift_items_are_plain_data() -> None:
    item = find_drift(_doc({"/o": {"get": _get()}}), _doc({}))[0]
    assert item.as_dict() == {
        "kind": "operation-missing",
        "operation": "GET /o",
        "description": "GET /o is not served",
        "pasted": "/paths/~1o/get",
        "generated": "/paths",
    }


def test_fields_under_an_object_the_pasted_document_leaves_open_are_not_extra() -> None:
    generated = _doc({"/export": {"get": _get({"type": "object", "properties": {"id": {"type": "integer"}}})}})
    for open_ended in (True, {}):
        pasted = _doc({"/export": {"get": _get({"type": "object", "additionalProperties": open_ended})}})
        assert find_drift(pasted, generated) == []
    # Said nowhere (JSON Schema's default), the served field is one the document does not tell.
    silent = _doc({"/export": {"get": _get({"type": "object", "properties": {}})}})
    assert _kinds(find_drift(silent, generated)) == [d.FIELD_EXTRA]
