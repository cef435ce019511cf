"""Which fields of a body the body rules look at, and where each is written: a field reached
along several paths is listed once, at the place it was first met."""

from typing import Any

from apps.designs.engine.model import ApiDocument
from apps.security.engine.rules.bodies import _Bodies


def _bodies(schemas: dict[str, Any]) -> _Bodies:
    return _Bodies(ApiDocument(data={"components": {"schemas": schemas}}, locate=lambda ptr: None))


def _listed(found: tuple) -> list[tuple[str, str, str | None]]:
    return [(name, parent, ref_at) for name, _, parent, ref_at in found]


def test_a_schema_named_by_two_parts_gives_its_fields_once() -> None:
    bodies = _bodies({"Secret": {"type": "object", "properties": {"password": {"type": "string"}}}})
    body = {
        "allOf": [{"$ref": "#/components/schemas/Secret"}, {"$ref": "#/components/schemas/Secret"}],
        "properties": {"api_key": {"type": "string"}, "owner": {"$ref": "#/components/schemas/Secret"}},
    }
    assert _listed(bodies.flagged("response", body, "/body")) == [
        ("api_key", "/body", None),
        ("password", "/components/schemas/Secret", None),
    ]


def test_names_that_read_alike_are_one_field() -> None:
    """YAML lets a mapping hold both 1 and "1": the same field to the rules, listed once."""
    first, second = {"type": "string", "format": "uri"}, {"type": "string", "format": "url"}
    found = _bodies({}).flagged("request", {"type": "object", "properties": {1: first, "1": second}}, "/body")
    assert _listed(found) == [("1", "/body", None)]
    assert found[0][1] is first


def test_nested_fields_are_written_under_their_parent_or_where_a_ref_leads() -> None:
    bodies = _bodies({"Hook": {"type": "object", "properties": {"callback": {"type": "string"}}}})
    body = {
        "type": "object",
        "properties": {
            "a/b": {"type": "object", "properties": {"webhook_url": {"type": "string"}}},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Hook"}},
            "either": {"anyOf": [{"type": "string"}, {"properties": {"url": {"type": "string"}}}]},
        },
    }
    assert _listed(bodies.flagged("request", body, "/body")) == [
        ("webhook_url", "/body/properties/a~1b", None),
        ("callback", "/components/schemas/Hook", None),
        ("url", "/body/properties/either/anyOf/1", None),
    ]
