import json
import time
import tracemalloc

import pytest

from apps.designs.engine.structured import load_structured
from apps.designs.engine.text import InputError, LineIndex, decode_document


def _bomb(levels: int = 9, width: int = 9) -> str:
    text = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    previous = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        text += f"{name}: &{name} [" + ", ".join([f"*{previous}"] * width) + "]\n"
        previous = name
    return text


def test_it_refuses_a_yaml_alias_bomb_fast_and_in_bounded_memory() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(InputError) as raised:
        load_structured(_bomb(), document="bomb.yaml", max_yaml_nodes=1_000_000)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert raised.value.problem.code == "input.yaml-too-large"
    assert raised.value.problem.fatal
    # 9**9 = 387M nodes if expanded; refusing must not expand them.
    assert elapsed < 2
    assert peak < 20 * 1024 * 1024


def test_it_accepts_a_few_harmless_aliases() -> None:
    data, _ = load_structured("base: &b {x: 1}\nother: *b\n", document="d.yaml", max_yaml_nodes=100)
    assert data == {"base": {"x": 1}, "other": {"x": 1}}


def test_it_keeps_dates_as_strings() -> None:
    data, _ = load_structured("example: 2024-01-31\n", document="d.yaml", max_yaml_nodes=100)
    assert data == {"example": "2024-01-31"}


def test_it_names_the_line_of_invalid_yaml() -> None:
    with pytest.raises(InputError) as raised:
        load_structured(
            "a: 1\nb: [1, 2\nc: 3\n",
            document="d.yaml",
            line_offset=10,
            max_yaml_nodes=100,
        )
    problem = raised.value.problem
    assert problem.code == "input.invalid-yaml"
    assert problem.source.line is not None and problem.source.line > 10
    assert f"line {problem.source.line}" in problem.message


def test_it_names_the_line_of_invalid_json() -> None:
    with pytest.raises(InputError) as raised:
        load_structured('{\n  "a": 1,\n  "b": }\n', document="d.json", max_yaml_nodes=100)
    assert raised.value.problem.code == "input.invalid-json"
    assert raised.value.problem.source.line == 3


def test_json_locator_finds_keys_in_minified_json() -> None:
    text = '{"paths":{"/a":{"get":{"x":1}},"/b/{id}":{"post":{}}},"info":{}}'
    _, locator = load_structured(text, document="d.json", max_yaml_nodes=100)
    ref = locator.ref("/paths/~1b~1{id}/post")
    assert ref.line == 1
    assert text[ref.column - 1 :].startswith('"post"')


def test_yaml_locator_points_at_the_key() -> None:
    text = "paths:\n  /a:\n    get:\n      x: 1\n"
    _, locator = load_structured(text, document="d.yaml", line_offset=5, max_yaml_nodes=100)
    ref = locator.ref("/paths/~1a/get")
    assert (ref.line, ref.column) == (8, 5)


def test_a_missing_pointer_falls_back_to_its_nearest_ancestor() -> None:
    _, locator = load_structured("a:\n  b: 1\n", document="d.yaml", max_yaml_nodes=100)
    assert locator.ref("/a/zzz").line == 1


def test_non_utf8_bytes_are_refused_with_their_line() -> None:
    with pytest.raises(InputError) as raised:
        decode_document(b"line one\nline \xff two\n", document="x.md")
    assert raised.value.problem.source.line == 2
    assert "0xff" in raised.value.problem.message


def test_line_index_maps_offsets() -> None:
    index = LineIndex("ab\ncd\n")
    assert index.position(0) == (1, 1)
    assert index.position(4) == (2, 2)


def test_json_is_loaded_as_the_standard_library_loads_it() -> None:
    """orjson reads most documents; what it would read otherwise, or refuses, json reads."""
    texts = (
        '{"a": [1, -0, -0.0, 1.5e3, 0.1, 5e-324, "é 😀", "\\ud83d\\ude00"], "a": {"b": null}}',
        '{"maximum": 123456789012345678901234567890, "minimum": -9223372036854775809}',
        '{"id": "1234567890123456789", "n": 7}',
        '{"a": NaN, "b": -Infinity, "c": 1e400}',
        "[" * 1100 + "]" * 1100,
    )
    for text in texts:
        data, _ = load_structured(text, document="d.json", max_yaml_nodes=100)
        assert repr(data) == repr(json.loads(text))


@pytest.mark.parametrize("start", [0, 1, 65_517, 65_518, 65_535, 65_536, 65_537, 131_054, 131_071])
def test_nineteen_digits_in_a_row_are_found_wherever_they_start(start: int) -> None:
    """The run decides whether orjson may read the text (it reads integers past 64 bits as
    floats): it is found across the 64 KiB slices the check reads, and 18 in a row are not."""
    from apps.designs.engine.structured import has_nineteen_digits

    text = bytearray(b"a" * 200_000)
    text[start : start + 19] = b"1234567890123456789"
    assert has_nineteen_digits(bytes(text))
    text[start + 18] = ord("x")
    assert not has_nineteen_digits(bytes(text))
