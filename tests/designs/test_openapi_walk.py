"""The OpenAPI parser's walk of paths into endpoints, on a document made to hit every corner."""

import json
from typing import Any

from apps.designs.engine import openapi
from apps.designs.engine.limits import ParseLimits

CORNERS: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "security": [{"b": []}],
    "paths": {
        "/a/{id}": {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": ["integer", "null"], "maximum": 9}},
                {"name": "shared", "in": "query", "schema": {"$ref": "#/components/schemas/Str"}},
                {"in": "query"},  # no name: skipped
                "not a parameter",
            ],
            "get": {
                "operationId": 7,
                "description": "d" * 400,  # no summary: the description, cut at 300
                "tags": "ab",  # a string is iterated, as Python does
                "parameters": [
                    {"name": "shared", "in": "query", "required": 1, "schema": {"type": "null"}},  # replaces it
                    {"$ref": "#/components/parameters/Limit"},
                    {"$ref": "#/components/parameters/Loop"},
                ],
                "responses": {
                    "200": {"description": 5, "content": {"text/plain": {}, "application/hal+json": {"schema": None}}},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "429": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Page"}}
                            }
                        }
                    },
                    "500": {"$ref": "#/components/responses/Loop"},
                    "default": "not a response",
                },
                "security": [{"z": [], "a": []}, "x"],
                "deprecated": "yes",
            },
            "post": {
                "summary": "",
                "tags": None,
                "requestBody": {"$ref": "#/components/requestBodies/Make"},
                "responses": {
                    "201": {
                        "headers": {"RateLimit": {}},
                        "content": {
                            "a/b": {
                                "schema": {
                                    "allOf": [{"$ref": "#/components/schemas/Page"}, {"properties": {"extra": {}}}]
                                }
                            }
                        },
                    }
                },
                "security": None,
            },
            "trace": "not an operation",
        },
        "/b~c": {"$ref": "#/components/pathItems/B"},
        "/loop": {"$ref": "#/paths/~1loop"},
        "/webhook": {
            "put": {"responses": {"4XX": {}, "204": {"headers": {"RateLimit-Limit": {}, "RateLimit-Reset": {}}}}}
        },
    },
    "components": {
        "schemas": {
            "Str": {"type": "string", "maxLength": 3, "enum": ["a"], "format": "x"},
            "Page": {"type": "object", "properties": {"items": {}, "next": {"$ref": "#/components/schemas/Str"}}},
            "A~1b": {"properties": {"x": {}}},
        },
        "parameters": {
            "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}},
            "Loop": {"$ref": "#/components/parameters/Loop"},
        },
        "responses": {
            "NotFound": {
                "description": "nf",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A~01b"}}},
            },
            "Loop": {"$ref": "#/components/responses/Loop"},
        },
        "requestBodies": {"Make": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}},
        "pathItems": {"B": {"delete": {"responses": {"204": {}}}}},
    },
}


def test_the_endpoint_walk_reads_every_corner() -> None:
    doc = openapi.load_openapi(json.dumps(CORNERS, indent=1), document="corners.json", limits=ParseLimits())
    paths = doc.data.get("paths") or {}
    endpoints = openapi._endpoints(doc, paths, base_path="/v1", default_security=(("b",),), limits=ParseLimits())
    by_key = {e.key: e for e in endpoints}
    get = by_key["GET /a/{id}"]
    assert get.operation_id == "7" and get.summary == "d" * 300 and get.tags == ("a", "b")
    assert [(p.name, p.required, p.schema_type) for p in get.parameters] == [
        ("id", True, "integer"),
        ("shared", True, "null"),
        ("limit", False, "integer"),
    ]
    assert get.parameters[0].constraints == {"maximum": 9}
    assert get.security == (("a", "z"), ()) and get.deprecated is True and get.pagination == "limit"
    assert [r.status for r in get.responses] == ["200", "404", "429"]
    ok, not_found, too_many = get.responses
    assert ok.description == "5" and ok.body is not None and ok.body.media_type == "application/hal+json"
    assert ok.body.schema_pointer is None  # `schema: null`
    assert not_found.body is not None and not_found.body.schema_name == "A~1b"  # the key as written
    assert too_many.body is not None and too_many.body.is_array and too_many.body.schema_name == "Page"
    post = by_key["POST /a/{id}"]
    assert post.tags == () and post.security == () and post.security_declared
    assert post.request_body is not None and post.request_body.fields == ("items", "next")
    assert post.responses[0].body is not None and post.responses[0].body.fields == ("items", "next", "extra")
    assert "DELETE /b~c" in by_key and not any(key.endswith("/loop") for key in by_key)
