"""The compiled JSON position scanner agrees with walking the text, on every pointer."""

import json

import pytest

from apps.designs.engine import structured
from apps.designs.engine.structured import JsonLocator, load_structured, pointer

# Every kind of Python string (1, 2 and 4 bytes a character), escapes in keys and values, brackets
# and quotes inside strings, nested arrays, scalars of every type, and both layouts.
DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "caf\u00e9 \u2014 \U0001f600", "x-a/b~c": [1, 2.5, True, None, ']},{\\"']},
    "paths": {
        "/a/{id}": {"get": {"parameters": [{"name": "id", "in": "path"}, {"$ref": "#/x"}], "responses": {}}},
        "/b\u00e9": {"post": {"requestBody": {"content": {"application/json": {"schema": {"type": "string"}}}}}},
    },
    "list": [[], [[1], {"k": {}}], {}],
    "empty": {},
}


def _pointers(data: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _pointers(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _pointers(value, (*path, str(index)))
    return found


def test_the_scanner_is_compiled() -> None:
    # Without it every location falls back to walking the text: right, but far slower on big specs.
    assert structured.Positions is not None


@pytest.mark.parametrize("indent", [None, 2, "\t"])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_every_pointer_lands_where_the_text_walk_puts_it(indent: int | str | None, ascii_only: bool) -> None:
    text = json.dumps(DOCUMENT, indent=indent, ensure_ascii=ascii_only)
    data, locator = load_structured(text, document="d.json", line_offset=7, max_yaml_nodes=100)
    walker = JsonLocator(text, document="d.json", line_offset=7)  # no data: the pure-Python walk
    pointers = [pointer(*p) for p in _pointers(data)] + ["/nope", "/paths/~1a~1{id}/get/nope", "/list/9"]
    assert len(pointers) == 39
    for ptr in pointers:
        assert locator.ref(ptr) == walker.ref(ptr), ptr
    operation = data["paths"]["/a/{id}"]["get"]
    located = locator.node(operation, "/paths/~1a~1{id}/get")
    assert located == walker.ref("/paths/~1a~1{id}/get")
    assert located.line > 7 and text.splitlines()[located.line - 8][located.column - 1 :].startswith('"get"')


def test_a_duplicate_key_falls_back_to_the_text_walk() -> None:
    # json.loads keeps the last "a"; the text has two, so the scanner refuses and the walk answers.
    text = '{"a": {"x": 1},\n "b": 2,\n "a": {"y": 3}}'
    data, locator = load_structured(text, document="d.json", max_yaml_nodes=100)
    with pytest.raises(ValueError, match="duplicate key"):
        structured.Positions(text, data)
    assert locator.ref("/b").line == 2
    assert locator.node(data["a"], "/a").line == 3  # the "a" json.loads kept


def test_a_text_that_is_not_the_data_is_refused() -> None:
    with pytest.raises(ValueError, match="does not match"):
        structured.Positions('{"a": [1, 2]}', {"a": [1, 2, 3]})
    with pytest.raises(ValueError, match="does not match"):
        structured.Positions('{"a": 1}', {"b": 1})


def test_members_and_nodes_outside_the_data_have_no_position() -> None:
    data = json.loads('{"a": [10, {"b": 1}]}')
    positions = structured.Positions('{"a": [10, {"b": 1}]}', data)
    assert positions.get({"b": 1}) is None  # equal, but not the loaded object
    assert positions.get("a") is None
    assert positions.member(data["a"], 5) is None
    assert positions.member(data, "zzz") is None
    assert positions.member(data["a"], 1) == (1 << 32) | 12
    assert positions.get(data["a"][1]) == (1 << 32) | 12
    assert positions.member(data["a"][1], "b") == (1 << 32) | 13
    assert len(positions) == 3


def test_the_document_walks_skip_extensions_and_read_refs_everywhere() -> None:
    data = json.loads(json.dumps(DOCUMENT))
    data["paths"]["/a/{id}"]["get"]["examples"] = {"skipped": {"$ref": "#/in-example"}}
    data["x-ext"] = {"inner": {"$ref": "#/in-extension"}}
    pointers = [p for p, _ in structured.dict_objects(data, "/r", frozenset({"examples"}))]
    assert "/r/info/x-a~1b~0c" not in pointers  # an extension is not entered
    assert "/r/paths/~1a~1{id}/get/examples" not in pointers
    assert "/r/paths/~1a~1{id}/get/parameters/0" in pointers
    assert sorted(structured.ref_strings(data, 48)) == ["#/in-example", "#/in-extension", "#/x"]
    assert structured.ref_strings(data, 2) == ["#/in-extension"]  # the parameter's $ref lies 5 deep


def test_nesting_deeper_than_the_scan_goes_is_refused_not_a_crash() -> None:
    # json.loads stops near 1,500 levels; data built another way can go deeper, and the scan
    # (which recurses) stops at MAX_DEPTH so that the caller falls back to its walk.
    depth = 4500
    text = '{"a":' * depth + "1" + "}" * depth
    data: dict = {"a": 1}
    for _ in range(depth - 1):
        data = {"a": data}
    with pytest.raises(ValueError, match="does not match"):
        structured.Positions(text, data)
    shallow = '{"a":' * 100 + "1" + "}" * 100
    assert len(structured.Positions(shallow, json.loads(shallow))) == 100


@pytest.mark.parametrize(
    "text", ["", "plain ascii", "caf\u00e9", "\u2014 dash", "\U0001f600 face", "mix \u00e9\u2014\U0001f600 \ud800"]
)
def test_utf8_length_counts_a_lone_surrogate_as_three_bytes(text: str) -> None:
    assert structured.utf8_length(text) == len(text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("key", ["", "/paths/~1a/get", "caf\u00e9 \U0001f600", "x" * 2000])
def test_the_fingerprint_digest_is_sha256(key: str) -> None:
    import hashlib

    from apps.designs.engine import findings

    prefix = findings.fingerprint_prefix("security", "sec.api4.string-limit")
    assert findings.fingerprint_from(prefix, key) == hashlib.sha256((prefix + key).encode()).hexdigest()[:24]


def test_the_scan_collects_every_extension_key_and_the_text_search_serves_without_it() -> None:
    from apps.designs.engine.limits import ParseLimits
    from apps.designs.engine.loader import DesignInput, parse_design

    text = (
        '{"openapi": "3.0.3", "info": {"title": "t", "version": "1", "x-logo": {}}, "paths": {"/a": '
        '{"x-workbench-ignore": ["api4.no-429"], "get": {"responses": {}, "\\u0078-workbench-note": 1}}}, '
        '"components": {"x": {"description": "mentions x-workbench-other in prose"}}}'
    )
    data = json.loads(text)
    assert structured.Positions(text, data).extensions == {"x-logo", "x-workbench-ignore", "x-workbench-note"}
    locator = JsonLocator(text, document="d.json", data=data)
    assert locator.extension_keys() == {"x-logo", "x-workbench-ignore", "x-workbench-note"}

    def extensions(openapi: str) -> frozenset[str]:
        result = parse_design(DesignInput(openapi=openapi), limits=ParseLimits())
        assert result.model.api_document is not None
        return result.model.api_document.extensions

    # Keys only, as the scanner meets them; the workbench's own are kept.
    assert extensions(text) == {"x-workbench-ignore", "x-workbench-note"}
    # A duplicate key makes the scanner refuse: the data is walked instead, with the same answer.
    duplicated = text.replace('"version": "1"', '"version": "1", "version": "2"')
    with pytest.raises(ValueError, match="duplicate key"):
        structured.Positions(duplicated, json.loads(duplicated))
    walked = JsonLocator(duplicated, document="d.json", data=json.loads(duplicated)).extension_keys()
    assert walked == {"x-logo", "x-workbench-ignore", "x-workbench-note"}
    assert extensions(duplicated) == {"x-workbench-ignore", "x-workbench-note"}


def test_the_scan_collects_every_ref_it_meets_for_the_ref_check() -> None:
    text = json.dumps(
        {
            "a": {"$ref": "#/b"},
            "b": [{"$ref": "#/a"}, {"$ref": 5}, {"x": {"$ref": "other.json#/c"}}],
            "c": {"$refs": "#/not-a-ref", "description": "$ref: #/prose"},
        }
    )
    data = json.loads(text)
    assert structured.Positions(text, data).refs == {"#/b", "#/a", "other.json#/c"}
    assert JsonLocator(text, document="d.json", data=data).ref_values() == {"#/b", "#/a", "other.json#/c"}
    assert set(structured.ref_strings(data, 100)) == {"#/b", "#/a", "other.json#/c"}  # what the walk finds


# A path item and a response reached through `$ref`, the response with a `content` sibling that
# OpenAPI ignores: json.loads reads the same data with or without the scanner.
REFERENCED = (
    '{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},\n'
    ' "paths": {"/b": {"$ref": "#/components/pathItems/B"}},\n'
    ' "components": {"pathItems": {"B": {"get": {"responses": {"200": {"$ref": "#/components/responses/R",\n'
    '   "content": {"text/plain": {}}}}}}},\n'
    '  "responses": {"R": {"description": "r", "content": {"application/json": {}}}}}}'
)


def _at(text: str, needle: str) -> tuple[int, int]:
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


@pytest.mark.parametrize("compiled", [True, False])
def test_an_element_reached_through_a_ref_is_located_at_its_definition(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.designs.engine.limits import ParseLimits
    from apps.designs.engine.loader import DesignInput, parse_design

    if not compiled:
        monkeypatch.setattr(structured, "Positions", None)
    result = parse_design(DesignInput(openapi=REFERENCED), limits=ParseLimits())
    (endpoint,) = result.model.endpoints
    assert endpoint.key == "GET /b"
    # The operation is where `B`'s `get` is written, not at the `$ref` under /paths.
    assert (endpoint.source.line, endpoint.source.column) == _at(REFERENCED, '"get"') == (3, 37)
    assert endpoint.source.pointer == "/paths/~1b/get"
    (response,) = endpoint.responses
    # The response is its `$ref` in the operation; its body, read from the definition (the
    # sibling `content` is ignored), is located at that `$ref` too, not at the ignored sibling.
    assert (response.source.line, response.source.column) == _at(REFERENCED, '"200"')
    assert response.body is not None and response.body.media_type == "application/json"
    assert (response.body.source.line, response.body.source.column) == _at(REFERENCED, '"200"')


def test_the_text_walk_locates_every_container_where_the_scanner_does() -> None:
    for text in (json.dumps(DOCUMENT, indent=2, ensure_ascii=False), REFERENCED, '[{"a": [[], {}]}, [1, [2]]]'):
        data = json.loads(text)
        scanned = JsonLocator(text, document="d.json", data=data)
        walked = JsonLocator(text, document="d.json", data=data)
        walked._positions = False  # as when the scanner refuses or is not compiled
        stack: list[tuple[object, str]] = [(data, "")]
        while stack:
            node, ptr = stack.pop()
            assert scanned.node(node, ptr) == walked.node(node, ptr), ptr
            assert scanned.ref(ptr) == walked.ref(ptr), ptr
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            stack.extend((value, f"{ptr}/{structured.escape_pointer_part(str(key))}") for key, value in items)
        assert scanned.extension_keys() == walked.extension_keys()
        assert scanned.ref_values() == walked.ref_values()


def test_a_text_denser_than_the_room_asked_for_is_located_as_the_walk_locates_it() -> None:
    # The scanner asks up front for a container per 32 characters and a member per 16; a text of
    # bare brackets and digits holds several times that, and the arrays grow as they fill.
    text = json.dumps({"lists": [[] for _ in range(5000)], "digits": [1] * 20000, "last": {"a": [{}]}})
    data = json.loads(text)
    positions = structured.Positions(text, data)
    assert len(positions) == 5006 and len(positions) > len(text) // 32 + 1024
    scanned = JsonLocator(text, document="d.json", data=data)
    walked = JsonLocator(text, document="d.json", data=data)
    walked._positions = False
    for ptr, node in (("/lists/4999", data["lists"][4999]), ("/last/a/0", data["last"]["a"][0]), ("", data)):
        assert scanned.node(node, ptr) == walked.node(node, ptr), ptr
    for ptr in ("/digits/19999", "/lists/0", "/last"):
        assert scanned.ref(ptr) == walked.ref(ptr), ptr
    assert positions.member(data["digits"], 19999) == (1 << 32) | (text.index('1], "last"') + 1)


def test_data_changed_after_the_scan_is_answered_safely() -> None:
    text = '{"a": [1, 2, {"b": 3}], "c": {"d": 4, "e": [5]}, "f": 6}'
    data = json.loads(text)
    positions = structured.Positions(text, data)
    inner, items = data["c"], data["a"]
    assert positions.member(data, "f") == (1 << 32) | 50
    del data["c"]  # the dict changed size: its members are no longer answered
    assert positions.member(data, "f") is None
    assert positions.get(inner) == (1 << 32) | 25  # still held: its address cannot be reused
    items.clear()
    assert positions.member(items, 2) == (1 << 32) | 14  # what was recorded, never past it
    items.extend(range(10))
    assert positions.member(items, 9) is None
    assert positions.member(items, 2**70) is None and positions.member(items, -1) is None
    inner["d"] = {"new": 1}
    assert positions.get(inner["d"]) is None
    locator = JsonLocator(text, document="d.json", data=data)
    assert locator.ref("/f").line == 1  # the text answers when the table cannot


def test_a_text_that_disagrees_on_a_scalar_or_an_escaped_key_is_refused() -> None:
    for text, data in (
        ('{"a": "1"}', {"a": 1}),
        ('{"a": 1}', {"a": "1"}),
        ('{"a": {}}', {"a": 1}),
        ('{"\\u0061": 1}', {"b": 1}),
        ('{"\\ud83d\\ude00": 1}', {"\ud83d\ude00": 1}),  # a pair is one character, as json.loads reads it
        ('{"a\\q": 1}', {"a\\q": 1}),
    ):
        with pytest.raises(ValueError, match="does not match"):
            structured.Positions(text, data)
    assert len(structured.Positions('{"\\u0061\\n\\ud83d\\ude00": {}}', {"a\n\U0001f600": {}})) == 2
