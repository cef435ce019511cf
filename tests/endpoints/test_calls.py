"""What the proof's calls say (apps/endpoints/engine/calls.py), and the calls file read back as
untrusted (apps/endpoints/proof.py's _read_calls): plain data, no sandbox."""

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from apps.designs.engine.model import SourceRef
from apps.endpoints.engine.calls import n_plus_one_findings, operation_calls
from apps.endpoints.proof import _read_calls, proof_limits

PRODUCTS = 'SELECT "products"."id", "products"."category_id" FROM "products" ORDER BY "products"."id" LIMIT 24'


def _category(pk: int) -> str:
    return f'SELECT "categories"."id", "categories"."name" FROM "categories" WHERE "categories"."id" = {pk} LIMIT 21'  # noqa: S608 - a fixture


def _call(queries: list[str], listed: int | None, status: int | None = 200) -> dict[str, Any]:
    return {
        "method": "GET",
        "path": "/v1/products",
        "status": status,
        "count": len(queries),
        "listed": listed,
        "queries": queries,
    }


def _calls(one: dict[str, Any] | None, many: dict[str, Any] | None, items: int = 5) -> dict[str, Any]:
    return {
        "one": {"items": 1, "tests": {"test_list_products": {"outcome": "passed", "calls": [one] if one else []}}},
        "many": {
            "items": items,
            "tests": {"test_list_products": {"outcome": "passed", "calls": [many] if many else []}},
        },
    }


OUTCOME = SimpleNamespace(
    test="test_list_products",
    action="list",
    method="GET",
    path="/v1/products",
    model="Product",
    relations=(("category", "categories"),),
    reverse_relations=(),
    source=SourceRef(document="d.md", line=3, pointer="/paths/~1products/get"),
    view="ListProductsView",
)


def test_a_query_per_listed_row_is_an_n_plus_one_naming_the_foreign_key() -> None:
    calls = _calls(
        _call([PRODUCTS, _category(1)], listed=1),
        _call([PRODUCTS, *(_category(pk) for pk in range(1, 6))], listed=5),
    )
    found = operation_calls("test_list_products", calls)
    assert found is not None and found.queries_per_item == 1.0 and found.per_item_unmeasured == ""
    [finding] = n_plus_one_findings([OUTCOME], calls, max_page_size=100)
    assert finding.rule_id == "endpoints.n-plus-one" and finding.endpoints == ("GET /v1/products",)
    assert "Product.category, a foreign key to categories" in finding.message
    assert "a full page of 100 runs about 101" in finding.message


def test_the_rate_is_per_row_the_list_really_showed() -> None:
    # Only three rows could be made: two more rows, two more queries, one per row.
    calls = _calls(_call([PRODUCTS, _category(1)], listed=1), _call([PRODUCTS, *map(_category, (1, 2, 3))], listed=3))
    found = operation_calls("test_list_products", calls)
    assert found is not None and found.queries_per_item == 1.0


def test_a_prefetch_whose_id_list_grows_is_no_n_plus_one() -> None:
    lines = 'SELECT "order_lines"."id" FROM "order_lines" WHERE "order_lines"."order_id" IN ({})'
    calls = _calls(
        _call([PRODUCTS, lines.format("1")], listed=1), _call([PRODUCTS, lines.format("1, 2, 3, 4, 5")], listed=5)
    )
    found = operation_calls("test_list_products", calls)
    assert found is not None and found.queries_per_item == 0.0 and found.repeated == ()
    assert n_plus_one_findings([OUTCOME], calls) == []


def test_what_was_not_measured_says_why_and_yields_no_finding() -> None:
    cases = {
        "the call did not succeed": _calls(_call([PRODUCTS], listed=None, status=None), None),
        "the second run (more rows) did not call it successfully": _calls(
            _call([PRODUCTS], listed=1), _call([PRODUCTS], listed=None, status=None)
        ),
        "the list showed 1 row(s) both times: no copies of its rows could be made": _calls(
            _call([PRODUCTS], listed=1), _call([PRODUCTS, _category(1)], listed=1)
        ),
    }
    for reason, calls in cases.items():
        found = operation_calls("test_list_products", calls)
        assert found is not None and found.queries_per_item is None and found.per_item_unmeasured == reason
        assert n_plus_one_findings([OUTCOME], calls) == []


def _read(tmp_path: Path, content: Any, **limits: Any) -> dict[str, Any] | None:
    path = tmp_path / "calls.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return _read_calls(path, dataclasses.replace(proof_limits(), **limits))


def test_the_calls_file_is_read_as_untrusted(tmp_path: Path) -> None:
    assert _read(tmp_path, "not json") is None
    assert _read(tmp_path, [1, 2]) is None
    assert _read(tmp_path, {"tests": "x"}) is None
    forged = {
        "items": 10**4000,
        "tests": {
            "test_a": {
                "outcome": "passed" * 100,
                "calls": [
                    "junk",
                    {"status": 200, "count": 3, "listed": 1, "queries": ["SELECT 1"] * 500},
                    {"status": True, "count": 10**4000, "listed": -1, "queries": "SELECT 2", "path": ["x"]},
                ],
            },
            "test_b": {"calls": "x"},
        },
    }
    read = _read(tmp_path, forged, max_queries=50)
    assert read is not None and read["items"] == 0
    [call] = read["tests"]["test_a"]["calls"]  # the last call only, each figure checked
    assert (call["status"], call["count"], call["listed"], call["queries"], call["path"]) == (
        None,
        0,
        None,
        [],
        "['x']",
    )
    assert len(read["tests"]["test_a"]["outcome"]) == 16 and "test_b" not in read["tests"]


def test_a_file_of_many_tiny_entries_is_cut_to_the_test_limit(tmp_path: Path) -> None:
    many = {"tests": {f"t{i}": {"calls": [{}, {}, {}]} for i in range(100_000)}}
    read = _read(tmp_path, many, max_tests=5000)
    assert read is not None and len(read["tests"]) == 5000
    assert all(len(entry["calls"]) == 1 for entry in read["tests"].values())
    assert _read(tmp_path, many, calls_bytes=1024) is None  # past the size limit, not read at all
