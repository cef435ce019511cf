"""On real specifications, every location found by identity (the compiled scan) is the one that
walking the text for the finding's pointer gives: the fast path changes speed, never lines."""

import pytest

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import input_from_file, parse_design
from apps.designs.engine.structured import JsonLocator
from apps.security.engine.review import analyze_security
from tests.public_specs import SPECS, spec_path

BY_KEY = {spec.key: spec for spec in SPECS}


@pytest.mark.parametrize("key", ["github", "stripe"])  # pretty-printed and minified JSON
def test_finding_and_endpoint_lines_match_the_text_walk(key: str) -> None:
    path = spec_path(BY_KEY[key])
    text = path.read_text(encoding="utf-8")
    result = parse_design(input_from_file(path.name, text), limits=ParseLimits())
    assert result.ok
    findings, _ = analyze_security(result.model)
    walker = JsonLocator(text, document=path.name)  # no data: walks the text for each pointer
    located = [loc for f in findings for loc in f.locations if loc.pointer is not None]
    endpoint_parts = [
        source
        for endpoint in result.model.endpoints
        for source in (
            endpoint.source,
            *(p.source for p in endpoint.parameters),
            *(r.source for r in endpoint.responses),
        )
    ]
    # A spread sample (every rule is represented) rather than all: the text walk is the slow way.
    step = max(1, len(located) // 700)
    sample = located[::step] + endpoint_parts[:: max(1, len(endpoint_parts) // 300)]
    rules = {f.rule_id for f in findings[::step]}
    assert len(sample) > 500 and len(rules) >= 8
    for source in sample:
        assert source.pointer is not None
        expected = walker.ref(source.pointer)
        assert (source.line, source.column) == (expected.line, expected.column), source.pointer


def test_the_bulk_reporting_path_fingerprints_like_every_other() -> None:
    from apps.analysis.engine.findings import fingerprint

    path = spec_path(BY_KEY["stripe"])
    result = parse_design(input_from_file(path.name, path.read_text(encoding="utf-8")), limits=ParseLimits())
    findings, _ = analyze_security(result.model)
    bulk = [f for f in findings if f.rule_id in {"sec.api4.string-limit", "sec.api4.no-429", "sec.api8.error-401"}]
    assert len(bulk) > 1000
    for f in bulk:
        assert f.fingerprint == fingerprint("security", f.rule_id, f.locations[0].pointer or "")
    # Reported once each, whether or not the path checks for duplicates.
    assert len({f.fingerprint for f in findings}) == len(findings) == 12_680


def test_the_compiled_schema_checks_match_the_python_ones() -> None:
    from apps.security.engine import review

    assert review._schema_scan is not review._python_schema_scan  # compiled
    crafted = {
        "paths": {
            "/a": {"get": {"responses": {"200": {}}, "parameters": [{"name": "access_token", "in": "query"}]}},
            "/c": {"get": {"parameters": [{"name": "page", "in": "query"}, {"name": "token", "in": "header"}]}},
            "/d": {"parameters": {"parameters": [{"name": "access_token", "in": "path"}]}},  # a `parameters` value
            "/b": {"responses": "not a mapping"},
        },
        "components": {
            "responses": {"x": {"responses": {}}},  # not under /paths
            "schemas": {
                "s": {"type": "string"},
                "bounded": {"type": "string", "maxLength": 3, "format": "uuid"},
                "choice": {"type": "string", "enum": ["a"]},
                "list": {"type": ["string", "null", 3], "pattern": "x"},
                "arr": {"type": "array", "maxItems": 2, "headers": {}},
                "arr2": {"type": ["array", "integer"], "minimum": 0, "exclusiveMaximum": 9},
                "i30": {"type": "integer", "minimum": 0, "maximum": 9, "format": "int32"},
                "i31": {"type": "integer", "minimum": 0, "exclusiveMinimum": 0, "maximum": 9},
                "obj": {"type": "object", "additionalProperties": True, "unevaluatedProperties": {"not": {}}},
                "closed": {"type": "object", "additionalProperties": False, "unevaluatedProperties": {}},
                "none": {"type": None},
                "odd": {"type": 5},
            },
        },
    }
    documents = [crafted]
    for key in ("github", "stripe", "train-travel", "readme"):
        path = spec_path(BY_KEY[key])
        parsed = parse_design(input_from_file(path.name, path.read_text(encoding="utf-8")), limits=ParseLimits())
        assert parsed.model.api_document is not None
        documents.append(parsed.model.api_document.data)

    def scan(implementation: object, data: object, oas31: bool) -> tuple[list[tuple], list]:
        calls: list[tuple] = []
        responses = implementation(  # type: ignore[operator]
            data,
            {"example", "examples"},
            oas31,
            lambda rule_id, where, node, message: calls.append((rule_id, where, id(node), message)),
            review._SCHEMA_HITS,
            lambda where, node: calls.append(("node rules", where, id(node))),
            lambda where, node: calls.append(("object rules", where, id(node))),
            review._credential_name,
        )
        return calls, [(where, id(node)) for where, node in responses]

    for data in documents:
        for oas31 in (False, True):
            assert scan(review._schema_scan, data, oas31) == scan(review._python_schema_scan, data, oas31)
    calls, responses = scan(review._schema_scan, crafted, True)
    # In walk order (the stack takes the last member first). OpenAPI 3.1: arr2 is bounded by
    # minimum and exclusiveMaximum, i31 is not (minimum and exclusiveMinimum both).
    assert [call[:2] for call in calls] == [
        ("object rules", "/components/schemas/obj"),
        ("sec.api4.integer-limit", "/components/schemas/i31"),
        ("sec.api4.integer-format", "/components/schemas/i31"),
        ("sec.api4.array-limit", "/components/schemas/arr2"),
        ("sec.api4.integer-format", "/components/schemas/arr2"),
        ("node rules", "/components/schemas/arr"),
        ("sec.api4.string-limit", "/components/schemas/list"),
        ("sec.api4.string-limit", "/components/schemas/s"),
        ("sec.api4.string-restricted", "/components/schemas/s"),
        ("node rules", "/paths/~1a/get"),
    ]
    assert [where for where, _ in responses] == ["/paths/~1a/get/responses"]


def _review_findings(key: str, *, compiled: bool) -> list:
    """The whole review of a public specification, with the compiled reporting path or the
    Python `hit` closure it stands for."""
    from apps.security.engine import review

    path = spec_path(BY_KEY[key])
    result = parse_design(input_from_file(path.name, path.read_text(encoding="utf-8")), limits=ParseLimits())
    assert result.ok and result.model.api_document is not None
    if compiled:
        return analyze_security(result.model)[0]
    original = review.Reporter
    review.Reporter = None  # type: ignore[assignment,misc]
    try:
        return analyze_security(result.model)[0]
    finally:
        review.Reporter = original


@pytest.mark.parametrize("key", ["stripe", "train-travel"])
def test_the_compiled_reporter_builds_the_findings_the_python_path_builds(key: str) -> None:
    from apps.designs.engine._jsonpos import Reporter

    from apps.security.engine import review

    assert review.Reporter is Reporter
    compiled = _review_findings(key, compiled=True)
    python = _review_findings(key, compiled=False)
    assert len(compiled) > 50
    assert compiled == python  # every field: message, locations, fingerprint, references ...
    assert [type(f) for f in compiled] == [type(f) for f in python]
    assert {type(loc) for f in compiled for loc in f.locations} == {type(loc) for f in python for loc in f.locations}


def test_compiled_sources_match_the_python_lookup_and_fall_back_by_pointer() -> None:
    from apps.designs.engine._jsonpos import Positions, Sources

    from apps.designs.engine.model import SourceRef

    text = '{\n  "a": {"b": [1, {"c": {}}]},\n  "€": [[]]\n}'
    import json

    data = json.loads(text)
    locator = JsonLocator(text, document="d.json", line_offset=10, data=data)
    compiled = locator.node_lookup()
    assert type(compiled) is Sources
    python = locator.node  # the method it stands for
    cases = [
        (data, ""),
        (data["a"], "/a"),
        (data["a"]["b"], "/a/b"),
        (data["a"]["b"][1], "/a/b/1"),
        (data["a"]["b"][1]["c"], "/a/b/1/c"),
        (data["€"][0], "/€/0"),
        ({"not": "in the data"}, "/a/b/1"),  # unknown object: located by its pointer
        ("a scalar", "/a/b/0"),
    ]
    for node, pointer in cases:
        built = compiled(node, pointer)
        assert type(built) is SourceRef
        assert built == python(node, pointer) == locator.ref(pointer), pointer
    assert compiled(data["a"]["b"][1]["c"], "/a/b/1/c") == SourceRef("d.json", 12, 19, "/a/b/1/c")
    with pytest.raises(TypeError):
        compiled(data)  # (node, pointer)
    positions = Positions(text, data)

    class WithPostInit:
        __slots__ = ("column", "document", "line", "pointer")

        def __post_init__(self) -> None:
            pass

    class NoSlots:
        pass

    class Three:
        __slots__ = ("column", "document", "line")

    # Only classes whose __init__ merely stores its fields can be built without it.
    for refused in (WithPostInit, NoSlots, Three, "not a class"):
        with pytest.raises(TypeError):
            Sources(positions, "d.json", 0, refused, locator.ref)
