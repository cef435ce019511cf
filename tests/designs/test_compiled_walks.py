"""The compiled walks of the OpenAPI parser and of the security review build exactly what their
Python counterparts build, on real specifications and on documents made to hit every corner."""

import json
from typing import Any

import pytest

from apps.designs.engine import openapi
from apps.designs.engine.limits import ParseLimits
from apps.security.engine import review
from tests.public_specs import SPECS, spec_path

BY_KEY = {spec.key: spec for spec in SPECS}


def _parsed(key: str, document: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """The parse result and API document of a public specification, or of `document`."""
    from apps.designs.engine.loader import DesignInput, input_from_file, parse_design

    if document is not None:
        result = parse_design(DesignInput(openapi=json.dumps(document)), limits=ParseLimits())
    else:
        path = spec_path(BY_KEY[key])
        result = parse_design(input_from_file(path.name, path.read_text(encoding="utf-8")), limits=ParseLimits())
    assert result.model.api_document is not None
    return result, result.model.api_document


def _rule_findings(result: Any, doc: Any, run: Any) -> list:
    """The findings `run(review)` reports on a fresh review of the parsed design."""
    reviewed = review._Review(model=result.model, doc=doc)
    run(reviewed)
    return reviewed.findings


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


def _both(text: str, name: str) -> tuple[list, list]:
    """Endpoints from the compiled walk and from the Python one, each on a fresh parse."""
    results = []
    for build in (openapi._compiled_endpoints, openapi._endpoints):
        doc = openapi.load_openapi(text, document=name, limits=ParseLimits())
        paths = doc.data.get("paths") or {}
        results.append(build(doc, paths, base_path="/v1", default_security=(("b",),), limits=ParseLimits()))
    return results[0], results[1]


def _fields(endpoint: Any) -> tuple:
    return (*(getattr(endpoint, f) for f in endpoint.__slots__ if f != "schemas_reached"), endpoint.schema_names)


@pytest.mark.parametrize("key", ["stripe", "train-travel", "readme"])  # JSON, and YAML (no compiled locator)
def test_the_compiled_endpoint_walk_matches_the_python_one(key: str) -> None:
    assert openapi._build_endpoints is not None  # compiled
    path = spec_path(BY_KEY[key])
    compiled, python = _both(path.read_text(encoding="utf-8"), path.name)
    assert len(compiled) >= 7
    assert compiled == python
    assert [_fields(e) for e in compiled] == [_fields(e) for e in python]
    assert {type(p.source) for e in compiled for p in e.parameters} == {
        type(p.source) for e in python for p in e.parameters
    }


def test_the_compiled_endpoint_walk_matches_on_every_corner() -> None:
    compiled, python = _both(json.dumps(CORNERS, indent=1), "corners.json")
    assert [_fields(e) for e in compiled] == [_fields(e) for e in python]
    by_key = {e.key: e for e in compiled}
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


def _calls(implementation: str, doc: Any, responses_objects: list) -> list[tuple]:
    calls: list[tuple] = []

    def hit(rule_id: str, where: str, node: object, message: str) -> None:
        calls.append(("hit", rule_id, where, id(node), message))

    def once(rule_id: str, where: str, node: object, message: str) -> None:
        calls.append(("once", rule_id, where, id(node), message))

    if implementation == "compiled":
        review._responses_rules(
            responses_objects, doc.resolve, hit, once, review._RESPONSES_RULES, review._RATE_LIMIT_SETS
        )
    else:
        review._python_responses_rules(doc, responses_objects, hit, once)
    return calls


@pytest.mark.parametrize("key", ["corners", "stripe", "github", "train-travel"])
def test_the_compiled_responses_checks_make_the_python_ones_calls(key: str) -> None:
    assert review._responses_rules is not None  # compiled
    corners = None
    if key == "corners":
        numbered = {"/num": {"get": {"responses": {400: {}, 429: {"headers": {"Retry-After": {}}}}}}}
        corners = dict(CORNERS, paths={**CORNERS["paths"], **numbered})
    _, doc = _parsed(key, corners)
    objects = review._python_schema_scan(
        doc.data,
        set(review._SKIP_KEYS),
        False,
        lambda *a: None,
        review._SCHEMA_HITS,
        lambda *a: None,
        lambda *a: None,
        review._credential_name,
    )
    compiled = _calls("compiled", doc, objects)
    assert len(compiled) >= 2
    assert compiled == _calls("python", doc, objects)


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


@pytest.mark.parametrize("key", ["bodies", "stripe", "github", "train-travel"])
def test_the_compiled_body_prefilter_keeps_every_operation_the_body_rules_report_on(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert review._body_candidates is not None  # compiled
    result, doc = _parsed(key, BODIES if key == "bodies" else None)
    prefiltered = _rule_findings(result, doc, lambda reviewed: review._body_rules(reviewed, doc))
    monkeypatch.setattr(review, "_body_candidates", None)
    every = _rule_findings(result, doc, lambda reviewed: review._body_rules(reviewed, doc))
    monkeypatch.undo()
    assert prefiltered == every
    candidates = review._body_operations(doc)
    if key in ("stripe", "github"):
        assert every and len(candidates) < sum(1 for _ in review._operations(doc)) / 2
    if key == "bodies":
        # In the walk's order; /quiet names nothing the rules look for.
        assert [(path, method) for path, method, _ in candidates] == [
            ("/users", "get"),  # returns `Password`
            ("/users", "put"),  # its 4XX error carries `trace` (its is_staff is read-only)
            ("/users", "post"),
            ("/users", "delete"),
            ("/users", "patch"),
        ]
        assert {f.rule_id for f in every} == {
            "sec.api3.privileged-field-writable",
            "sec.api7.url-input",
            "sec.api3.secret-in-response",
            "sec.api8.error-leaks-internals",
        }


@pytest.mark.parametrize("key", ["corners", "stripe", "github"])
def test_the_compiled_parameter_flags_match_the_python_ones(key: str) -> None:
    assert review._parameter_flags is not None  # compiled
    corners = None
    if key == "corners":
        corners = json.loads(json.dumps(CORNERS))
        corners["paths"]["/a/{id}"]["get"]["parameters"] += [
            {"name": "user_id", "in": "path", "schema": {"$ref": "#/components/schemas/Int"}},
            {"name": "per_page", "in": "query", "schema": {"type": "integer", "enum": [10]}},
            {"name": "page_size", "in": "query", "schema": {"type": "integer"}},
            {"name": "callback", "in": "query"},
            {"name": 5, "in": "query"},
        ]
        corners["components"]["schemas"]["Int"] = {"type": "integer"}
    _, doc = _parsed(key, corners)
    compiled_cache: dict[int, Any] = {}
    python_cache: dict[int, Any] = {}
    flagged = 0
    for _path, method, item, operation in review._operations(doc):
        parameters = [*(item.get("parameters") or []), *(operation.get("parameters") or [])]
        compiled = review._parameter_flags(parameters, compiled_cache, doc.resolve, review._name_facts, method == "get")
        assert compiled == review._python_parameter_flags(doc, parameters, python_cache, method == "get")
        flagged += len(compiled)
    assert flagged > 0
    assert compiled_cache == python_cache


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


@pytest.mark.parametrize("key", ["operations", "stripe", "github", "readme"])
def test_the_compiled_operation_walk_reports_what_the_python_one_reports(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert review._operation_checks is not None  # compiled
    result, doc = _parsed(key, OPERATIONS if key == "operations" else None)
    compiled = _rule_findings(result, doc, lambda reviewed: review._operation_rules(reviewed, doc, []))
    monkeypatch.setattr(review, "_operation_checks", None)
    python = _rule_findings(result, doc, lambda reviewed: review._operation_rules(reviewed, doc, []))
    monkeypatch.undo()
    assert len(python) >= (1 if key == "readme" else 5)
    assert compiled == python
    if key == "operations":
        assert sorted({(f.rule_id, f.locations[0].pointer) for f in python}) == [
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
    assert review._is_webhook(path) == (review._WEBHOOK_PATH.search(path) is not None)
