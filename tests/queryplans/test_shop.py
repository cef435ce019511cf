"""The shop design (the shared corpus) through the query plans: the advice covers every access path
its queries and endpoints use that no index serves, and nothing that does not help."""

from typing import Any

import pytest

from tests.conftest import CORPUS
from tests.queryplans.conftest import analyse

# What the shop's queries and endpoints read with no index to serve them, and the index (its key;
# it may cover more columns with INCLUDE where that proves worth it) that does.
NEEDED = {
    "CREATE INDEX CONCURRENTLY ON orders (customer_id, created_at DESC)",  # a customer's newest orders
    "CREATE INDEX CONCURRENTLY ON customers (lower(email))",  # support's search by email
    "CREATE INDEX CONCURRENTLY ON customers (upper(email))",  # the same through the API (iexact)
    "CREATE INDEX CONCURRENTLY ON products (category_id, active, price_amount)",  # browsing a category
    "CREATE INDEX CONCURRENTLY ON order_lines (order_id)",  # an order's lines
}


@pytest.fixture(scope="module")
def shop(config: Any) -> dict[str, Any]:
    outcome = analyse(config, (CORPUS / "shop" / "v1-design.md").read_text(encoding="utf-8"), cap=200_000)
    result = next(r for r in outcome.results if r.name == "queryplans")
    assert result.status == "succeeded", result.reason
    return {"section": result.section, "findings": result.findings}


def test_the_advice_covers_every_unindexed_access_path(shop) -> None:
    advised = {a["sql"] for q in shop["section"]["queries"] for a in q["advice"]}
    for key in NEEDED:
        assert any(sql == key + ";" or sql.startswith(key + " INCLUDE (") for sql in advised), (
            key,
            advised,
        )
    findings = [f for f in shop["findings"] if f.rule_id == "queryplans.index-advised"]
    assert {line for f in findings for line in f.fix.splitlines()} == advised
    # One finding per need, however many queries it serves: the email lookups, written with lower()
    # in the named query and upper() by Django's iexact, are one finding naming both indexes.
    [email] = [f for f in findings if "email" in f.fix]
    assert [line.split(" INCLUDE")[0].rstrip(";") for line in email.fix.splitlines()] == [
        "CREATE INDEX CONCURRENTLY ON customers (lower(email))",
        "CREATE INDEX CONCURRENTLY ON customers (upper(email))",
    ]
    assert "Write them alike and keep one" in email.message


def test_a_small_table_keeps_enough_rows_for_its_filters_to_pick_what_they_would(shop) -> None:
    scale = {row["table"]: row for row in shop["section"]["scale"]}
    assert scale["order_lines"]["rows"] == 200_000  # the largest, at the cap
    assert scale["orders"]["rows"] == 66_667  # one factor: 40M of 120M
    assert scale["categories"]["rows"] == 1_000  # 2,000 declared would be 3 rows: a third of products each
    assert scale["categories"]["ratio"] == 2 and scale["orders"]["ratio"] == pytest.approx(600, rel=0.001)


def test_every_index_advised_is_proven_by_its_plan(shop) -> None:
    for query in shop["section"]["queries"]:
        for advice in query["advice"]:
            if query["kind"] == "write":  # proven by its foreign key checks' own time
                assert advice["checks_ms_after"] < advice["checks_ms_before"], (query["name"], advice["sql"])
            else:
                assert advice["ms_after"] < advice["ms_before"], (query["name"], advice["sql"])
            if query["kind"] == "read":
                assert advice["cost_after"] <= advice["cost_before"] * 0.7, (query["name"], advice["sql"])
            assert advice["size_bytes"] > 0


def test_lookups_by_key_get_no_advice(shop) -> None:
    by_name = {q["name"]: q for q in shop["section"]["queries"]}
    for name in ("getProduct", "exportCustomer", "getOrder"):
        assert by_name[name]["status"] == "measured" and by_name[name]["advice"] == []
    # The join to products by its key needs nothing on order_lines.product_id.
    lines = by_name["order_lines_with_products"]
    assert "CREATE INDEX CONCURRENTLY ON order_lines (product_id);" not in {a["sql"] for a in lines["advice"]}
    assert any(t["sql"].endswith("(product_id);") and not t["advised"] for t in lines["trail"])


def test_a_read_is_advised_one_index_per_table(shop) -> None:
    for query in shop["section"]["queries"]:
        if query["kind"] == "read":
            tables = [a["table"] for a in query["advice"]]
            assert len(tables) == len(set(tables)), (query["name"], [a["sql"] for a in query["advice"]])


def test_an_order_s_lines_need_one_index_for_the_read_and_the_delete_s_check(shop) -> None:
    findings = [f for f in shop["findings"] if f.rule_id == "queryplans.index-advised" and "order_lines" in f.fix]
    [lines] = [f for f in findings if "(order_id" in f.fix]
    assert len(lines.fix.splitlines()) == 1
    by_name = {q["name"]: q for q in shop["section"]["queries"]}
    statements = {a["sql"] for name in ("order_lines_with_products", "cancelOrder") for a in by_name[name]["advice"]}
    assert lines.fix in statements
