"""The security review's walks of bodies and operations, on documents made to hit their corners."""

import json
from typing import Any

import pytest

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.receivers import WEBHOOK_PATH, is_webhook
from apps.security.engine.reporter import Review, walk
from apps.security.engine.rules import schemas
from apps.security.engine.rules.bodies import body_rules
from apps.security.engine.rules.operations import operation_rules


def _parsed(document: dict[str, Any]) -> tuple[Any, Any]:
    """The parse result and API document of `document`."""
    from apps.designs.engine.loader import DesignInput, parse_design

    result = parse_design(DesignInput(openapi=json.dumps(document)), limits=ParseLimits())
    assert result.model.api_document is not None
    return result, result.model.api_document


def _rule_findings(result: Any, doc: Any, run: Any) -> list:
    """The findings `run(review)` reports on a fresh review of the parsed design."""
    reviewed = Review(model=result.model, doc=doc)
    run(reviewed)
    return reviewed.finish()


BODIES: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/users": {
            "post": {
                "requestBody": {"$ref": "#/components/requestBodies/User"},
                "responses": {
                    "201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}
                },
            },
            "put": {
                "requestBody": {
                    "content": {"application/json": {"schema": {"properties": {"is_staff": {"readOnly": True}}}}}
                },
                "responses": {
                    "4XX": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                },
            },
            "patch": {
                "requestBody": {
                    "content": {
                        "a/b": {"schema": {"type": "array", "items": {"properties": {"avatar": {"format": "uri"}}}}}
                    }
                },
                "responses": {"200": {"$ref": "#/components/responses/Plain"}},
            },
            "get": {
                "requestBody": {"content": {"a/b": {"schema": {"properties": {"role": {}}}}}},  # not a write
                "responses": {"200": {"content": {"a/b": {"schema": {"oneOf": [{"properties": {"Password": {}}}]}}}}},
            },
            "delete": {"responses": {"500": {"content": {"a/b": {"schema": {"properties": {"stack": {}}}}}}, "x": {}}},
        },
        "/quiet": {"get": {"responses": {"200": {"content": {"a/b": {"schema": {"properties": {"name": {}}}}}}}}},
    },
    "components": {
        "schemas": {
            "User": {
                "allOf": [
                    {"$ref": "#/components/schemas/Base"},
                    {"properties": {"api_key": {"writeOnly": True}, "token": {}}},
                ]
            },
            "Base": {"properties": {"id": {}, "owner_id": {}, "callback_url": {}}},
            "Error": {"properties": {"trace": {}, "message": {}}},
        },
        "requestBodies": {"User": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}},
        "responses": {"Plain": {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    },
}


def test_the_body_rules_report_on_requests_responses_and_errors() -> None:
    result, doc = _parsed(BODIES)
    every = _rule_findings(result, doc, lambda reviewed: body_rules(reviewed, doc=doc))
    assert {f.rule_id for f in every} == {
        "sec.api3.privileged-field-writable",
        "sec.api7.url-input",
        "sec.api3.secret-in-response",
        "sec.api8.error-leaks-internals",
    }
    # /quiet names nothing the rules look for; PUT's is_staff is read-only, GET's role is not a write.
    assert not any("/quiet" in f.message or "is_staff" in f.message or "`role`" in f.message for f in every)


OPERATIONS: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "security": [{"key": []}],
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}},
    "paths": {
        "/public": {"get": {"security": [], "responses": {}}, "head": {"security": [], "responses": {}}},
        "/open": {"post": {"security": [{}, {"key": []}], "responses": {}}, "options": {"security": None}},
        "/none": {"delete": {"security": None}, "trace": {"security": []}, "get": {"security": {}}},
        "/admin/users/{user_id}": {
            "parameters": [{"name": "user_id", "in": "path", "schema": {"type": "integer"}}],
            "get": {"parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}]},
            "put": {"security": [{"key": []}], "deprecated": True},
        },
        "/hooks/payments": {"post": {"security": [], "parameters": [{"name": "X-Signature", "in": "header"}]}},
        "/webhook": {"post": {"security": [], "parameters": [{"name": "redirect", "in": "query"}]}},
        "/items": {"get": {"parameters": [{"name": "callback_url", "in": "query"}]}, "patch": {"deprecated": "yes"}},
    },
}


def test_the_operation_walk_reports_security_parameters_and_deprecation() -> None:
    result, doc = _parsed(OPERATIONS)
    python = _rule_findings(result, doc, lambda reviewed: operation_rules(reviewed, doc=doc, responses_objects=[]))
    assert sorted({(f.rule_id, loc.pointer) for f in python for loc in f.locations}) == [
        ("sec.api1.numeric-id", "/paths/~1admin~1users~1{user_id}/parameters/0/schema"),
        ("sec.api10.unsigned-webhook", "/paths/~1webhook/post"),
        ("sec.api2.unauthenticated-read", "/paths/~1none/get/security"),
        ("sec.api2.unauthenticated-read", "/paths/~1public/get/security"),
        ("sec.api2.unauthenticated-read", "/paths/~1public/head/security"),
        ("sec.api2.unauthenticated-write", "/paths/~1hooks~1payments/post/security"),
        ("sec.api2.unauthenticated-write", "/paths/~1none/delete/security"),
        ("sec.api2.unauthenticated-write", "/paths/~1open/post/security/0"),
        ("sec.api2.unauthenticated-write", "/paths/~1webhook/post/security"),
        ("sec.api4.unbounded-page-size", "/paths/~1admin~1users~1{user_id}/get/parameters/0"),
        ("sec.api5.admin-same-security", "/paths/~1admin~1users~1{user_id}/get/security"),  # inherited
        ("sec.api5.admin-same-security", "/paths/~1admin~1users~1{user_id}/put/security/0"),
        ("sec.api7.url-parameter", "/paths/~1items/get/parameters/0/name"),
        ("sec.api7.url-parameter", "/paths/~1webhook/post/parameters/0/name"),
        ("sec.api9.deprecated-operation", "/paths/~1admin~1users~1{user_id}/put/deprecated"),
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks",
        "/WebHook/x",
        "/callbacks",
        "/hooks",
        "/hook",
        "/hooksx",
        "/x/HOOKS/y",
        "/ho\u212aoks",
        "/users/{id}",
        "/hook\u017f",
    ],
)
def test_the_webhook_path_check_answers_as_the_pattern_does(path: str) -> None:
    assert is_webhook(path) == (WEBHOOK_PATH.search(path) is not None)


def test_the_schema_walk_gathers_what_the_rules_look_at_in_walk_order() -> None:
    document = {
        "openapi": "3.0.3",
        "paths": {
            "/a/{id}": {
                "parameters": [{"name": "id", "in": "path", "schema": {"$ref": "#/components/schemas/Id"}}],
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}},
                    "responses": {"200": {"headers": {"X-A": {"schema": {"type": "string"}}}}},
                    "x-ext": {"type": "string"},
                    "examples": {"type": "string"},
                },
            }
        },
        "components": {
            "schemas": {
                "Id": {"type": "integer"},
                "In": {"type": "object", "properties": {"nested": {"$ref": "#/components/schemas/Nested"}}},
                "Nested": {"type": "string"},
                "Out": {"type": "object", "properties": {"in": {"$ref": "#/components/schemas/In"}}},
            }
        },
    }
    walked = schemas._walk(document)
    looked_at = [(p, n) for p, n in walk(document) if "type" in n or "parameters" in n or "headers" in n]
    assert list(zip(walked.pointers, walked.objects, strict=True)) == looked_at
    assert [where for where, _, _ in walked.responses] == ["/paths/~1a~1{id}/post/responses"]
    assert walked.request_schemas == frozenset({"Id", "In", "Nested"})  # not Out: no request carries it


# Two request bodies whose schemas refer to each other: A (role, b -> B) and B (is_admin, a -> A).
_MUTUAL: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "security": [{"k": []}],
    "paths": {
        f"/{name.lower()}": {
            "post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}},
                "responses": {"201": {"description": "ok"}},
            }
        }
        for name in ("A", "B")
    },
    "components": {
        "securitySchemes": {"k": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "A": {
                "type": "object",
                "properties": {"role": {"type": "string"}, "b": {"$ref": "#/components/schemas/B"}},
            },
            "B": {
                "type": "object",
                "properties": {"is_admin": {"type": "boolean"}, "a": {"$ref": "#/components/schemas/A"}},
            },
        },
    },
}


def test_privileged_fields_of_mutually_recursive_bodies_are_reported_as_they_were() -> None:
    """The walk of a body's fields stops where a schema meets itself again, so what it finds of
    schemas that refer to each other depends on which it entered first. A faster walk that began
    at the body's own place reported `role` for POST /a alone and `is_admin` for both; this holds
    what the review reported before it (a walk reaching both fields from both bodies would
    report each for both operations: a change of verdicts, for its own change)."""
    result, doc = _parsed(_MUTUAL)
    found = _rule_findings(result, doc, lambda review: body_rules(review, doc=doc))
    places = {
        f.message.split("`")[1]: sorted(loc.pointer for loc in f.locations)
        for f in found
        if f.rule_id == "sec.api3.privileged-field-writable"
    }
    assert places == {
        "role": ["/components/schemas/A/properties/role", "/paths/~1a/post", "/paths/~1b/post"],
        "is_admin": ["/components/schemas/B/properties/is_admin", "/paths/~1b/post"],
    }
