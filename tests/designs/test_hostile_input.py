"""Hostile pastes end as problems on their line: never a hang, never an exception other than
InputError, never data PostgreSQL cannot store."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.openapi import parse_openapi
from apps.designs.engine.structured import load_structured
from apps.designs.engine.text import InputError, unstorable_at, utf8_storable
from tests.deadline import deadline

LIMITS = ParseLimits()

RECURSIVE_ALIASES = [
    ("x: &a [*a]\n", 1),
    ("a: &x {b: *x}\n", 1),
    ("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a: &p\n    get:\n      x: [*p]\n", 4),
]


@pytest.mark.parametrize(("text", "line"), RECURSIVE_ALIASES)
def test_it_refuses_a_recursive_yaml_alias_at_once_naming_its_line(text: str, line: int) -> None:
    with deadline(2), pytest.raises(InputError) as raised:
        load_structured(text, document="d.yaml", max_yaml_nodes=LIMITS.max_yaml_nodes)
    problem = raised.value.problem
    assert problem.code == "input.yaml-recursive-alias"
    assert problem.fatal
    assert problem.source.line == line
    assert f"line {line}" in problem.message
    assert problem.fix


def test_a_recursive_alias_in_a_design_document_is_a_fatal_problem_on_its_line() -> None:
    document = "# D\n\n```openapi\nopenapi: 3.1.0\npaths: &p {x: *p}\n```\n"
    with deadline(2):
        result = parse_design(DesignInput(document=document), limits=LIMITS)
    assert [(p.code, p.source.line) for p in result.fatal] == [("input.yaml-recursive-alias", 5)]


@pytest.mark.parametrize(
    ("field", "text", "line"),
    [
        ("openapi", '{"openapi": "3.1.0",\n "info": {"title": "a\\u0000b", "version": "1"}, "paths": {}}', 2),
        ("openapi", '{"openapi": "3.1.0",\n "info": {"t\\u0000": "x"}, "paths": {}}', 2),
        ("openapi", '{"openapi": "3.1.0",\n\n "info": {"title": "\\ud800", "version": "1"}, "paths": {}}', 3),
        ("openapi", '{"openapi": "3.1.0",\n "info": {"title": "\\udc00", "version": "1"}, "paths": {}}', 2),
        ("openapi", 'openapi: 3.1.0\ninfo: {title: "a\\0b", version: "1"}\npaths: {}\n', 2),
        ("openapi", 'openapi: 3.1.0\ninfo: {title: "a\\x00b", version: "1"}\npaths: {}\n', 2),
        ("openapi", "openapi: 3.1.0\ninfo: {title: a\ud800, version: '1'}\npaths: {}\n", 2),
        ("document", "# D\n\n### S-1: a\x00b\nAs a user, I want x, so that y.\n", 3),
        ("document", "# D\n\n### S-1: ab\nAs a user, I want \udfff, so that y.\n", 4),
        ("stories", "### S-1: ok\n\nAs a user, I want x\x00, so that y.\n", 3),
        ("data_model", "Table a {\n  id int [pk, note: 'x\x00']\n}\n", 2),
        ("queries", "-- name: q\nSELECT 1\x00;\n", 2),
    ],
)
def test_text_postgresql_cannot_store_is_a_fatal_problem_on_its_line(field: str, text: str, line: int) -> None:
    result = parse_design(DesignInput(**{field: text}), limits=LIMITS)
    assert [p.code for p in result.fatal] == ["input.unstorable-text"], result.problems
    assert result.fatal[0].source.line == line
    assert f"line {line}" in result.fatal[0].message


def test_escaped_backslashes_and_surrogate_pairs_are_ordinary_text() -> None:
    text = '{"openapi": "3.1.0", "info": {"title": "\\\\u0000 \\ud83d\\ude00", "version": "1"}, "paths": {}}'
    settings, _, problems, _ = parse_openapi(text, document="o.json", limits=LIMITS)
    assert settings.title == "\\u0000 \U0001f600"
    assert problems == []


@pytest.mark.parametrize(
    "text",
    [
        '{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},\n "x-n": ' + "1" * 5000 + ', "paths": {}}',
        'openapi: 3.1.0\ninfo: {title: t, version: "1"}\nx-n: ' + "1" * 5000 + "\npaths: {}\n",
    ],
)
def test_an_integer_longer_than_python_reads_is_a_problem_on_its_line(text: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_openapi(text, document="o", limits=LIMITS)
    assert raised.value.problem.source.line == (2 if text.startswith("{") else 3)
    assert raised.value.problem.fatal
    assert "digits" in raised.value.problem.message


def test_yaml_keys_are_read_as_the_strings_they_are_written_as() -> None:
    data, _ = load_structured("responses:\n  200: x\n  true: y\n  null: z\n", document="d.yaml", max_yaml_nodes=100)
    assert data == {"responses": {"200": "x", "true": "y", "null": "z"}}


# --- Wrong-typed nodes in an otherwise valid OpenAPI document --------------------------------

VALID: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Shop", "version": "1"},
    "servers": [{"url": "https://api.example.com/v1"}],
    "tags": [{"name": "orders"}],
    "security": [{"bearer": []}],
    "paths": {
        "/orders/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {
                "operationId": "getOrder",
                "tags": ["orders"],
                "security": [{"bearer": []}],
                "parameters": [{"name": "expand", "in": "query", "schema": {"type": "string", "maxLength": 20}}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}},
                    }
                },
            },
            "post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
                "responses": {"201": {"description": "created"}},
            },
        }
    },
    "components": {
        "schemas": {
            "Order": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "lines": {"type": "array", "items": {"type": "string"}}},
            }
        },
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}
_GET = ("paths", "/orders/{id}", "get")
_PLACES = [
    ("info",),
    ("servers",),
    ("servers", 0),
    ("servers", 0, "url"),
    ("tags",),
    ("tags", 0),
    ("security",),
    ("security", 0),
    ("paths",),
    ("paths", "/orders/{id}"),
    ("paths", "/orders/{id}", "parameters"),
    ("components",),
    ("components", "schemas"),
    ("components", "schemas", "Order"),
    ("components", "schemas", "Order", "properties"),
    ("components", "securitySchemes"),
    ("components", "securitySchemes", "bearer"),
    _GET,
    (*_GET, "tags"),
    (*_GET, "security"),
    (*_GET, "security", 0),
    (*_GET, "parameters"),
    (*_GET, "parameters", 0),
    (*_GET, "parameters", 0, "schema"),
    (*_GET, "responses"),
    (*_GET, "responses", "200"),
    (*_GET, "responses", "200", "content"),
    (*_GET, "responses", "200", "content", "application/json"),
    ("paths", "/orders/{id}", "post", "requestBody"),
    ("paths", "/orders/{id}", "post", "requestBody", "content"),
]
_VALUES: list[Any] = [5, 1.5, True, None, "x", [], [1], {}, {"k": 2}]


def _mutations() -> list[tuple[str, str]]:
    """(label, text): every place replaced by every wrong-typed value, in YAML and in JSON."""
    cases = []
    for place in _PLACES:
        for value in _VALUES:
            data = copy.deepcopy(VALID)
            node = data
            for part in place[:-1]:
                node = node[part]
            node[place[-1]] = value
            label = "/".join(map(str, place)) + f"={value!r}"
            cases.append((label + " yaml", yaml.safe_dump(data, sort_keys=False)))
            cases.append((label + " json", json.dumps(data, indent=1)))
    yaml_text = yaml.safe_dump(VALID, sort_keys=False)
    for key in ("1", "true", "null", "1.5", "[1]"):
        cases.append((f"content key {key}", yaml_text.replace("application/json:", f"{key}:", 1)))
        cases.append((f"security key {key}", yaml_text.replace("- bearer: []", f"- {key}: []", 1)))
    return cases


MUTATIONS = _mutations()


def parse_or_problem(text: str) -> None:
    """Parse one OpenAPI text as the app does; InputError is the only exception allowed."""
    problem = None
    try:
        parse_openapi(text, document="openapi.yaml", limits=LIMITS)
    except InputError as exc:
        problem = exc.problem
    assert problem is None or (problem.fatal and problem.source.line >= 1)
    result = parse_design(DesignInput(openapi=text), limits=LIMITS)
    assert all(p.source.line and p.source.line >= 1 for p in result.problems)


@pytest.mark.parametrize("text", [t for _, t in MUTATIONS], ids=[label for label, _ in MUTATIONS])
def test_a_wrong_typed_node_is_a_problem_not_a_crash(text: str) -> None:
    parse_or_problem(text)


@pytest.mark.parametrize(
    "place", [("servers",), ("components", "schemas"), ("tags",), ("info",), ("paths",), (*_GET, "tags")]
)
def test_a_wrong_typed_node_is_reported_on_its_line_and_ignored(place: tuple[str, ...]) -> None:
    data = copy.deepcopy(VALID)
    node = data
    for part in place[:-1]:
        node = node[part]
    node[place[-1]] = 5
    text = yaml.safe_dump(data, sort_keys=False)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.strip() == f"{place[-1]}: 5")
    result = parse_design(DesignInput(openapi=text), limits=LIMITS)
    wrong = [p for p in result.problems if p.code == "openapi.wrong-type"]
    assert [p.source.line for p in wrong] == [line]
    assert f"line {line}" in wrong[0].message
    assert "ignored" in wrong[0].message
    assert wrong[0].fix


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ascii",
        "a\x00b",
        "caf\u00e9",
        "\U0001f600 face",
        "mix \u00e9 \ud800 x",
        "\udfff\x00",
        "\x00 then \ud800",
    ],
)
def test_one_pass_measures_a_text_as_utf8_and_finds_what_postgresql_cannot_store(text: str) -> None:
    encoded, unstorable = utf8_storable(text)
    assert (len(encoded), unstorable) == (len(text.encode("utf-8", "surrogatepass")), unstorable_at(text))
