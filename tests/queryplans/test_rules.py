"""Each plan rule with a plan that fires it and one that does not: the plans are PostgreSQL's JSON
(written as EXPLAIN (ANALYZE, FORMAT JSON) gives them), and two come from the real server."""

import json

import pytest
from django.db import connection

from apps.queryplans.engine.rules import PlanThresholds, plan_hits


def _scan(table="orders", rows=10, removed=0, loops=1, node="Seq Scan", **more):
    return {
        "Node Type": node,
        "Relation Name": table,
        "Plan Rows": rows,
        "Actual Rows": rows,
        "Actual Loops": loops,
        "Rows Removed by Filter": removed,
        **more,
    }


def _rules(plan, **kwargs):
    return [(h.rule.removeprefix("queryplans."), h.node) for h in plan_hits(plan, **kwargs)]


CASES = [
    # sequential scan of a large table under a selective filter
    ("seq-scan-selective", _scan(rows=20, removed=400_000, Filter="(status = 'paid'::text)"), "0"),
    (None, _scan(rows=20, removed=900, Filter="(status = 'paid'::text)"), None),  # a small table
    (None, _scan(rows=300_000, removed=100_000, Filter="(active)"), None),  # keeps most rows
    # a sort feeding a LIMIT
    (
        "sort-for-limit",
        {
            "Node Type": "Limit",
            "Plan Rows": 50,
            "Actual Rows": 50,
            "Actual Loops": 1,
            "Plans": [
                {
                    "Node Type": "Sort",
                    "Sort Key": ["created_at DESC"],
                    "Plan Rows": 40,
                    "Actual Rows": 50,
                    "Actual Loops": 1,
                    "Plans": [_scan(rows=60_000)],
                }
            ],
        },
        "0",
    ),
    (  # a few rows sorted (a customer's 14 orders): no index is worth it
        None,
        {
            "Node Type": "Limit",
            "Plan Rows": 50,
            "Actual Rows": 14,
            "Actual Loops": 1,
            "Plans": [
                {
                    "Node Type": "Sort",
                    "Sort Key": ["created_at DESC"],
                    "Plan Rows": 14,
                    "Actual Rows": 14,
                    "Actual Loops": 1,
                    "Plans": [_scan(rows=14)],
                }
            ],
        },
        None,
    ),
    (
        None,
        {
            "Node Type": "Limit",
            "Plan Rows": 50,
            "Actual Rows": 50,
            "Actual Loops": 1,
            "Plans": [_scan(node="Index Scan", rows=50, **{"Index Name": "orders_created_at"})],
        },
        None,
    ),
    # a nested loop over a large inner side
    (
        "nested-loop-large-inner",
        {
            "Node Type": "Nested Loop",
            "Plan Rows": 10,
            "Actual Rows": 10,
            "Actual Loops": 1,
            "Plans": [
                {**_scan("customers", rows=10), "Parent Relationship": "Outer"},
                {**_scan("orders", rows=1, removed=50_000, loops=10), "Parent Relationship": "Inner"},
            ],
        },
        "0",
    ),
    (
        None,
        {
            "Node Type": "Nested Loop",
            "Plan Rows": 10,
            "Actual Rows": 10,
            "Actual Loops": 1,
            "Plans": [
                {**_scan("customers", rows=10), "Parent Relationship": "Outer"},
                {**_scan("orders", rows=1, loops=10, node="Index Scan"), "Parent Relationship": "Inner"},
            ],
        },
        None,
    ),
    # spilling to disk
    (
        "spill-to-disk",
        {
            "Node Type": "Sort",
            "Sort Space Type": "Disk",
            "Sort Space Used": 9000,
            "Plan Rows": 5,
            "Actual Rows": 5,
            "Actual Loops": 1,
        },
        "0",
    ),
    (
        "spill-to-disk",
        {"Node Type": "Hash", "Hash Batches": 8, "Plan Rows": 5, "Actual Rows": 5, "Actual Loops": 1},
        "0",
    ),
    (
        None,
        {"Node Type": "Sort", "Sort Space Type": "Memory", "Plan Rows": 5, "Actual Rows": 5, "Actual Loops": 1},
        None,
    ),
    # estimated vs actual rows
    ("misestimate", _scan(rows=10) | {"Plan Rows": 10, "Actual Rows": 5_000}, "0"),
    (None, _scan(rows=10) | {"Plan Rows": 1, "Actual Rows": 12}, None),  # too few rows to matter
    (None, _scan(rows=10) | {"Plan Rows": 900, "Actual Rows": 1_000}, None),
    # deep OFFSET
    (
        "deep-offset",
        {
            "Node Type": "Limit",
            "Plan Rows": 20,
            "Actual Rows": 20,
            "Actual Loops": 1,
            "Plans": [_scan(node="Index Scan", rows=20_020)],
        },
        "0",
    ),
    (
        None,
        {
            "Node Type": "Limit",
            "Plan Rows": 20,
            "Actual Rows": 20,
            "Actual Loops": 1,
            "Plans": [_scan(node="Index Scan", rows=40)],
        },
        None,
    ),
    # count(*) over a large table
    (
        "count-large",
        {
            "Node Type": "Aggregate",
            "Strategy": "Plain",
            "Plan Rows": 1,
            "Actual Rows": 1,
            "Actual Loops": 1,
            "Plans": [_scan(rows=500_000)],
        },
        "0",
    ),
    (
        None,
        {
            "Node Type": "Aggregate",
            "Strategy": "Plain",
            "Plan Rows": 1,
            "Actual Rows": 1,
            "Actual Loops": 1,
            "Plans": [_scan(rows=500)],
        },
        None,
    ),
    # an index scan whose filter throws away most rows
    (
        "filter-discards-index-rows",
        _scan(
            node="Index Scan",
            rows=3,
            removed=9_000,
            Filter="(status = 'paid'::text)",
            **{"Index Name": "orders_customer_id"},
        ),
        "0",
    ),
    (None, _scan(node="Index Scan", rows=300, removed=20, Filter="(status = 'paid'::text)"), None),
]


@pytest.mark.parametrize(("rule", "plan", "node"), CASES)
def test_each_rule_fires_on_its_plan_and_not_on_the_other(rule, plan, node) -> None:
    found = _rules(plan)
    if rule is None:
        assert found == [], found
    else:
        assert (rule, node) in found, found


def test_a_function_on_an_indexed_column_fires_only_where_the_column_has_an_index() -> None:
    plan = _scan("customers", rows=1, removed=10, Filter="(lower((email)::text) = 'a@b.c'::text)")
    assert _rules(plan, indexed={"customers": frozenset({"email"})}) == [("function-on-indexed-column", "0")]
    assert _rules(plan, indexed={"customers": frozenset({"full_name"})}) == []


def test_thresholds_are_settings() -> None:
    plan = _scan(rows=20, removed=400_000, Filter="(status = 'x'::text)")
    assert _rules(plan, thresholds=PlanThresholds(large_rows=1_000_000)) == []


def test_a_plan_deeper_than_pythons_recursion_is_walked() -> None:
    plan = _scan(rows=1)
    for _ in range(5_000):
        plan = {"Node Type": "Materialize", "Plan Rows": 1, "Actual Rows": 1, "Actual Loops": 1, "Plans": [plan]}
    assert plan_hits(plan) == []


@pytest.mark.django_db
def test_the_servers_own_plans_before_and_after_an_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE plan_orders (id bigint, status text, customer_id bigint)")
        cursor.execute(
            "INSERT INTO plan_orders SELECT g, CASE WHEN g % 1000 = 0 THEN 'rare' ELSE 'common' END, g % 5000 "
            "FROM generate_series(1, 150000) g"
        )
        cursor.execute("ANALYZE plan_orders")
        explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM plan_orders WHERE status = 'rare'"
        cursor.execute(explain)
        before = _plan(cursor.fetchone()[0])
        cursor.execute("CREATE INDEX ON plan_orders (status)")
        cursor.execute("ANALYZE plan_orders")
        cursor.execute(explain)
        after = _plan(cursor.fetchone()[0])
    assert ("queryplans.seq-scan-selective", "plan_orders") in {(h.rule, h.relation) for h in plan_hits(before)}
    assert "seq-scan-selective" not in {h.rule.removeprefix("queryplans.") for h in plan_hits(after)}


def _plan(value):
    document = json.loads(value) if isinstance(value, str) else value
    return document[0]["Plan"]


def test_rows_a_limit_never_asked_for_are_no_misestimate() -> None:
    scan = _scan(table="products", rows=24, node="Index Scan") | {"Plan Rows": 400, "Actual Rows": 24}
    under_limit = {"Node Type": "Limit", "Plan Rows": 24, "Actual Rows": 24, "Actual Loops": 1, "Plans": [scan]}
    assert "misestimate" not in {rule for rule, _ in _rules(under_limit)}
    # Through a sort the LIMIT stops nothing: the scan returned all its rows, and 400 vs 24 is wrong.
    sorted_first = {
        "Node Type": "Limit",
        "Plan Rows": 24,
        "Actual Rows": 24,
        "Actual Loops": 1,
        "Plans": [{"Node Type": "Sort", "Plan Rows": 400, "Actual Rows": 24, "Actual Loops": 1, "Plans": [scan]}],
    }
    assert ("misestimate", "0.0.0") in _rules(sorted_first)
    # More rows than estimated is a misestimate under a LIMIT too.
    more = _scan(table="products", rows=5_000, node="Index Scan") | {"Plan Rows": 10, "Actual Rows": 5_000}
    assert ("misestimate", "0.0") in _rules(under_limit | {"Plans": [more]})


def test_an_index_findings_sample_times_never_read_zero() -> None:
    from apps.queryplans.engine.analyzer import _sample_ms

    assert [_sample_ms(v) for v in (0.0, 0.04, 0.05, 0.3, 1234.56)] == [
        "< 0.1 ms",
        "< 0.1 ms",
        "0.1 ms",
        "0.3 ms",
        "1,234.6 ms",
    ]
