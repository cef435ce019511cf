"""Hostile documents give a finding or a clear error within the limits: never a crash or a hang."""

import json

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.security.engine.review import analyze_security


def _document(paths: dict, **extra: object) -> str:
    return json.dumps({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths, **extra})


def test_100000_operations_are_refused_with_the_limit_named() -> None:
    paths = {f"/r{i}": {"get": {"responses": {"200": {"description": "ok"}}}} for i in range(100_000)}
    result = parse_design(DesignInput(openapi=_document(paths)), limits=ParseLimits())
    (problem,) = result.fatal
    assert problem.code == "openapi.too-many-operations"
    assert "100,000 operations, more than the limit of 25,000" in problem.message
    assert "DESIGN_MAX_OPERATIONS" in problem.fix


def test_a_50000_character_path_is_reviewed() -> None:
    long_path = "/" + "a" * 50_000 + "/{id}"
    text = _document(
        {
            long_path: {
                "delete": {
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": {"204": {"description": "gone"}},
                }
            }
        }
    )
    result = parse_design(DesignInput(openapi=text), limits=ParseLimits())
    assert result.ok
    findings, _ = analyze_security(result.model)
    assert "sec.api2.unauthenticated-write" in {f.rule_id for f in findings}


def test_broken_and_circular_refs_are_findings_not_crashes() -> None:
    text = _document(
        {
            "/a": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Loop"}}}},
                    "responses": {"200": {"$ref": "#/components/responses/Missing"}},
                }
            }
        },
        components={
            "schemas": {
                "Loop": {"$ref": "#/components/schemas/Loop2"},
                "Loop2": {"$ref": "#/components/schemas/Loop"},
                "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}},
            }
        },
    )
    result = parse_design(DesignInput(openapi=text), limits=ParseLimits())
    assert [p.code for p in result.problems] == ["openapi.broken-ref"]
    findings, _ = analyze_security(result.model)
    assert findings  # the review still ran over what could be read


def test_a_schema_nested_1000_levels_is_a_clear_error() -> None:
    schema = '{"type": "string"}'
    for _ in range(1000):
        schema = '{"type": "object", "properties": {"x": ' + schema + "}}"
    text = (
        '{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}, "components": {"schemas": {"Deep": '
        + schema
        + "}}}"
    )
    result = parse_design(DesignInput(openapi=text), limits=ParseLimits())
    assert [p.code for p in result.fatal] == ["input.too-deep"]
