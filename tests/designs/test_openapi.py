import json

import pytest

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.openapi import parse_openapi
from apps.designs.engine.text import InputError

LIMITS = ParseLimits()


def _spec(paths: dict, **extra: object) -> str:
    return json.dumps(
        {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": paths,
            **extra,
        },
        indent=1,
    )


def test_it_resolves_refs_to_parameters_bodies_and_responses() -> None:
    text = _spec(
        {
            "/items/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "put": {
                    "requestBody": {"$ref": "#/components/requestBodies/Item"},
                    "responses": {"200": {"$ref": "#/components/responses/Item"}},
                },
            }
        },
        components={
            "parameters": {
                "Id": {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            },
            "requestBodies": {
                "Item": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}
            },
            "responses": {
                "Item": {
                    "description": "ok",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
                }
            },
            "schemas": {
                "Item": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Base"},
                        {"properties": {"name": {"type": "string"}}},
                    ]
                },
                "Base": {"properties": {"id": {"type": "integer"}}},
            },
        },
    )
    _, endpoints, problems, _ = parse_openapi(text, document="api.json", limits=LIMITS)
    assert problems == []
    (endpoint,) = endpoints
    assert [(p.name, p.location, p.required) for p in endpoint.parameters] == [("id", "path", True)]
    assert endpoint.request_body is not None
    assert endpoint.request_body.schema_name == "Item"
    assert endpoint.request_body.fields == ("id", "name")
    assert endpoint.responses[0].body is not None and endpoint.responses[0].body.schema_name == "Item"
    assert set(endpoint.schema_names) == {"Item", "Base"}
    # Every element points at the operation's own text: a body reached through a $ref at the
    # object holding the $ref (the nearest part of its pointer that exists), not at the component.
    lines = text.splitlines()
    for source, written in [
        (endpoint.source, '"put": {'),
        (endpoint.parameters[0].source, "{"),
        (endpoint.request_body.source, '"requestBody": {'),
        (endpoint.responses[0].source, '"200": {'),
        (endpoint.responses[0].body.source, '"200": {'),
    ]:
        assert source.line is not None and source.column is not None
        assert source.line < lines.index(' "components": {') + 1
        assert lines[source.line - 1][source.column - 1 :].startswith(written), source


def test_circular_schemas_do_not_loop() -> None:
    text = _spec(
        {
            "/nodes": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}},
                        }
                    }
                }
            }
        },
        components={
            "schemas": {
                "Node": {
                    "properties": {
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Node"},
                        },
                        "parent": {"$ref": "#/components/schemas/Node"},
                    }
                },
                "Loop": {"$ref": "#/components/schemas/Loop"},
            }
        },
    )
    _, endpoints, problems, doc = parse_openapi(text, document="api.json", limits=LIMITS)
    assert endpoints[0].schema_names == ("Node",)
    assert doc.deref({"$ref": "#/components/schemas/Loop"}) == (
        None,
        "#/components/schemas/Loop",
    )
    assert problems == []


def test_it_refuses_external_refs_without_fetching_them() -> None:
    text = _spec({"/a": {"get": {"responses": {"200": {"$ref": "https://evil.example/responses.yaml#/Ok"}}}}})
    _, _, problems, _ = parse_openapi(text, document="api.json", limits=LIMITS)
    assert [p.code for p in problems] == ["openapi.external-ref"]
    assert problems[0].source.pointer == "/paths/~1a/get/responses/200/$ref"
    assert text.splitlines()[problems[0].source.line - 1].strip().startswith('"$ref"')


def test_a_broken_local_ref_is_a_problem_with_its_line() -> None:
    text = _spec({"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Nope"}}}}})
    _, _, problems, _ = parse_openapi(text, document="api.json", limits=LIMITS)
    assert [p.code for p in problems] == ["openapi.broken-ref"]
    assert problems[0].severity == "high"


def test_swagger_2_is_named_with_what_to_do() -> None:
    with pytest.raises(InputError) as raised:
        parse_openapi('swagger: "2.0"\ninfo: {title: t}\n', document="api.yaml", limits=LIMITS)
    assert raised.value.problem.code == "openapi.swagger-2"
    assert "Swagger 2.0" in raised.value.problem.message
    assert "Convert" in raised.value.problem.fix


def test_a_document_without_version_is_refused() -> None:
    with pytest.raises(InputError) as raised:
        parse_openapi("info: {title: t}\npaths: {}\n", document="api.yaml", limits=LIMITS)
    assert raised.value.problem.code == "openapi.no-version"


def test_security_comes_from_the_operation_or_the_document() -> None:
    text = _spec(
        {"/a": {"get": {"responses": {}}, "post": {"security": [], "responses": {}}}},
        security=[{"bearer": []}],
    )
    _, endpoints, _, _ = parse_openapi(text, document="api.json", limits=LIMITS)
    by_method = {e.method: e for e in endpoints}
    assert by_method["GET"].security == (("bearer",),)
    assert by_method["POST"].security == ()
    assert by_method["POST"].security_declared


def test_it_detects_pagination_styles() -> None:
    def query(name: str) -> dict:
        return {"name": name, "in": "query", "schema": {"type": "string"}}

    text = _spec({f"/{n}": {"get": {"parameters": [query(n)], "responses": {}}} for n in ("cursor", "page", "offset")})
    _, endpoints, _, _ = parse_openapi(text, document="api.json", limits=LIMITS)
    assert [e.pagination for e in endpoints] == ["cursor", "page", "offset"]


def test_the_servers_base_path_prefixes_full_paths() -> None:
    text = _spec(
        {"/a": {"get": {"responses": {}}}},
        servers=[{"url": "https://x.example/api/v2/"}],
    )
    settings, endpoints, _, _ = parse_openapi(text, document="api.json", limits=LIMITS)
    assert settings.base_path == "/api/v2"
    assert endpoints[0].full_path == "/api/v2/a"


def _nested(levels: int) -> str:
    schema = '{"type": "string"}'
    for _ in range(levels):
        schema = '{"type": "object", "properties": {"x": ' + schema + "}}"
    head = '{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"post": {"requestBody": {"content": {"application/json": {"schema": '
    return head + schema + '}}}, "responses": {}}}}}'


def test_a_schema_nested_200_levels_is_read() -> None:
    _, endpoints, _, _ = parse_openapi(_nested(200), document="deep.json", limits=LIMITS)
    assert endpoints[0].request_body is not None
    assert endpoints[0].request_body.fields == ("x",)


def test_a_schema_nested_1000_levels_is_a_clear_error_not_a_crash() -> None:
    with pytest.raises(InputError) as raised:
        parse_openapi(_nested(1000), document="deep.json", limits=LIMITS)
    assert raised.value.problem.code == "input.too-deep"
    assert raised.value.problem.fatal
