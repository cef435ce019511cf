"""Plans as rows to draw, over plans the real PostgreSQL gives for tables made in the test:
times add up, shares make the whole query, the slowest path follows where the time went, a known
misestimate is measured right, and a plain EXPLAIN (no actual figures) still draws."""

import itertools
import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.queryplans.engine.tree import node_label, plan_breakdown, plan_rows, plan_summary, slowest_path
from tests.conftest import ROOT

Explain = Callable[[str], dict[str, Any]]


@pytest.fixture
def explain(db: None) -> Explain:
    """Tables made inside the test's transaction (rolled back after it), and EXPLAIN over them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE tree_customers AS SELECT g AS id, 'customer ' || g AS name FROM generate_series(1, 500) g"
        )
        cursor.execute(
            "CREATE TABLE tree_orders AS SELECT g AS id, g % 500 + 1 AS customer_id, g % 100 AS a, g % 100 AS b, "
            "g * 1.5 AS total FROM generate_series(1, 100000) g"
        )
        cursor.execute("ANALYZE tree_customers")
        cursor.execute("ANALYZE tree_orders")

    def run(sql: str, options: str = "ANALYZE, BUFFERS, FORMAT JSON") -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN ({options}) {sql}")
            document = cursor.fetchone()[0]
        return (document if isinstance(document, list) else json.loads(document))[0]

    return run


JOIN = "SELECT c.name, o.total FROM tree_orders o JOIN tree_customers c ON c.id = o.customer_id WHERE c.id < 10"


def test_exclusive_times_add_up_to_the_query_and_shares_to_the_whole(explain: Explain) -> None:
    rows = plan_rows(explain(JOIN))
    root = rows[0]
    assert root.path == "0" and root.inclusive_ms is not None and root.inclusive_ms > 0
    assert sum(r.exclusive_ms or 0 for r in rows) == pytest.approx(root.inclusive_ms, rel=0.02)
    assert sum(r.share or 0 for r in rows) == pytest.approx(1.0, rel=0.02)
    for row in rows:
        assert 0 <= row.exclusive_ms <= row.inclusive_ms + 1e-9
        kids = [r for r in rows if r.path in row.children]
        assert row.exclusive_ms == pytest.approx(max(0.0, row.inclusive_ms - sum(k.inclusive_ms for k in kids)))
        assert row.exclusive_cost == pytest.approx(max(0.0, row.total_cost - sum(k.total_cost for k in kids)))


def test_the_slowest_path_follows_the_seq_scan_of_the_large_table_in_a_join(explain: Explain) -> None:
    rows = plan_rows(explain(JOIN))
    path = slowest_path(rows)
    assert path[0].path == "0"
    assert path[-1].node_type == "Seq Scan" and path[-1].label == "Seq Scan on tree_orders o"
    assert all(p.path.startswith(q.path) for q, p in itertools.pairwise(path))
    # Each step takes the child with the most time; no other leaf took as long as the seq scan.
    by_path = {r.path: r for r in rows}
    for step in path[:-1]:
        chosen = next(p for p in path if p.path in step.children)
        assert chosen.inclusive_ms == max(by_path[k].inclusive_ms for k in step.children)
    leaves = [r for r in rows if not r.children]
    assert path[-1].inclusive_ms == max(r.inclusive_ms for r in leaves)
    assert path[-1].actual_rows_total == 100_000


def test_a_misestimate_from_correlated_columns_is_measured_with_its_direction(explain: Explain) -> None:
    # a and b are always equal, the planner multiplies their selectivities: 1 % x 1 % of the rows.
    element = explain("SELECT id FROM tree_orders WHERE a = 1 AND b = 1")
    [scan] = [r for r in plan_rows(element) if r.node_type == "Seq Scan"]
    assert scan.actual_rows == 1_000
    assert scan.plan_rows < 20
    assert scan.misestimate == pytest.approx(1_000 / scan.plan_rows)
    assert scan.misestimate_direction == "under"
    assert ("Rows removed by filter", "99000") in scan.details

    nothing = explain("SELECT id FROM tree_orders WHERE a = 1 AND b = 2")
    [empty] = [r for r in plan_rows(nothing) if r.node_type == "Seq Scan"]
    assert empty.actual_rows == 0
    assert empty.misestimate == pytest.approx(empty.plan_rows)  # no row counts as one
    assert empty.misestimate_direction == "over"


def test_buffers_are_inclusive_and_their_exclusive_parts_add_up(explain: Explain) -> None:
    rows = plan_rows(explain(JOIN))
    root = rows[0]
    assert root.buffers is not None and root.buffers.total > 0
    assert sum(r.exclusive_buffers.total for r in rows) == root.buffers.total


def test_a_plain_explain_draws_costs_and_estimates_and_follows_the_cost(explain: Explain) -> None:
    rows = plan_rows(explain(JOIN, "FORMAT JSON"))
    assert all(r.inclusive_ms is None and r.actual_rows is None and r.misestimate is None for r in rows)
    assert not rows[0].analyzed and all(r.executed for r in rows)
    assert sum(r.cost_share for r in rows) == pytest.approx(1.0, rel=0.02)
    assert slowest_path(rows)[-1].label == "Seq Scan on tree_orders o"


def test_a_ctes_time_is_counted_in_the_scan_that_reads_it(explain: Explain) -> None:
    element = explain(
        "WITH per AS MATERIALIZED (SELECT customer_id, sum(total) AS s FROM tree_orders GROUP BY customer_id) "
        "SELECT c.name, per.s FROM tree_customers c JOIN per ON per.customer_id = c.id ORDER BY per.s DESC LIMIT 3"
    )
    rows = plan_rows(element)
    root = rows[0]
    [cte] = [r for r in rows if r.relationship == "InitPlan (CTE per)"]
    [scan] = [r for r in rows if r.node_type == "CTE Scan"]
    assert scan.exclusive_ms == pytest.approx(max(0.0, scan.inclusive_ms - cte.inclusive_ms))
    assert scan.exclusive_ms < cte.inclusive_ms
    assert sum(r.exclusive_ms for r in rows) == pytest.approx(root.inclusive_ms, rel=0.02)


def test_a_subplans_loops_multiply_its_time(explain: Explain) -> None:
    element = explain(
        "SELECT c.id, (SELECT count(*) FROM tree_orders o WHERE o.customer_id = c.id) FROM tree_customers c WHERE c.id <= 3"
    )
    rows = plan_rows(element)
    [sub] = [r for r in rows if r.relationship.startswith("SubPlan")]
    assert sub.loops == 3
    node = element["Plan"]["Plans"][int(sub.path.split(".")[1])]
    assert sub.inclusive_ms == pytest.approx(node["Actual Total Time"] * 3)
    assert sum(r.exclusive_ms for r in rows) == pytest.approx(rows[0].inclusive_ms, rel=0.02)


def test_parallel_workers_count_as_wall_clock_time(explain: Explain) -> None:
    with connection.cursor() as cursor:
        for setting in (
            "max_parallel_workers_per_gather = 2",
            "parallel_setup_cost = 0",
            "parallel_tuple_cost = 0",
            "min_parallel_table_scan_size = 0",
        ):
            cursor.execute(f"SET LOCAL {setting}")
    element = explain("SELECT count(*) FROM tree_orders WHERE total > 10")
    rows = plan_rows(element)
    gathers = [r for r in rows if r.node_type in {"Gather", "Gather Merge"}]
    if not gathers:
        pytest.skip("the server planned no parallel scan")
    [gather] = gathers
    [scan] = [r for r in rows if r.label.startswith("Parallel Seq Scan")]
    assert scan.processes >= 1 and scan.loops >= scan.processes
    assert scan.inclusive_ms <= gather.inclusive_ms + 0.05
    assert sum(r.share for r in rows) == pytest.approx(1.0, rel=0.05)
    launched = int(dict(gather.details)["Workers launched"])
    assert scan.processes in {launched, launched + 1}


def test_a_very_deep_plan_is_walked_without_recursion() -> None:
    node: dict[str, Any] = {"Node Type": "Result", "Plan Rows": 1, "Total Cost": 1.0}
    for level in range(20_000):
        node = {"Node Type": "Materialize", "Plan Rows": 1, "Total Cost": 2.0 + level, "Plans": [node]}
    rows = plan_rows({"Plan": node})
    assert len(rows) == 20_001
    assert rows[-1].depth == 20_000 and rows[-1].on_slowest_path


def test_labels_read_like_explains_text() -> None:
    assert (
        node_label(
            {
                "Node Type": "Index Scan",
                "Scan Direction": "Backward",
                "Index Name": "orders_created",
                "Relation Name": "orders",
                "Alias": "o",
            }
        )
        == "Index Scan Backward using orders_created on orders o"
    )
    assert node_label({"Node Type": "Hash Join", "Join Type": "Left"}) == "Hash Left Join"
    assert node_label({"Node Type": "Bitmap Index Scan", "Index Name": "orders_customer"}) == (
        "Bitmap Index Scan on orders_customer"
    )
    assert node_label({"Node Type": "Nested Loop", "Join Type": "Anti"}) == "Nested Loop Anti Join"
    assert (
        node_label({"Node Type": "Aggregate", "Strategy": "Hashed", "Group Key": ["o.cid"]}) == "HashAggregate by o.cid"
    )
    assert node_label({"Node Type": "Seq Scan", "Parallel Aware": True, "Relation Name": "t", "Alias": "t"}) == (
        "Parallel Seq Scan on t"
    )
    assert node_label({"Node Type": "Sort", "Sort Key": ["created_at DESC"]}) == "Sort by created_at DESC"


def test_a_node_never_executed_has_no_misestimate() -> None:
    plan = {
        "Node Type": "Append",
        "Plan Rows": 10,
        "Total Cost": 5.0,
        "Actual Total Time": 1.0,
        "Actual Rows": 1,
        "Actual Loops": 1,
        "Plans": [
            {
                "Node Type": "Result",
                "Plan Rows": 1000,
                "Total Cost": 4.0,
                "Actual Total Time": 0.0,
                "Actual Rows": 0,
                "Actual Loops": 0,
            }
        ],
    }
    rows = plan_rows(plan)
    assert not rows[1].executed and rows[1].misestimate is None and rows[1].inclusive_ms == 0


def test_the_tree_is_pure() -> None:
    code = (
        "import sys, apps.queryplans.engine.tree\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_the_breakdown_sums_own_time_by_table_and_by_node_type(explain: Explain) -> None:
    rows = plan_rows(explain(JOIN))
    by_table = plan_breakdown(rows, by="relation")
    assert {b.key for b in by_table} == {"tree_orders", "tree_customers"}
    orders = next(b for b in by_table if b.key == "tree_orders")
    assert orders.exclusive_ms == pytest.approx(sum(r.exclusive_ms for r in rows if r.relation == "tree_orders"))
    by_type = plan_breakdown(rows, by="node_type")
    assert sum(b.nodes for b in by_type) == len(rows)
    assert sum(b.share for b in by_type) == pytest.approx(1.0, rel=0.02)
    assert [b.exclusive_ms for b in by_type] == sorted((b.exclusive_ms for b in by_type), reverse=True)


def test_the_summary_carries_the_triggers_time_and_the_totals(explain: Explain) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION tree_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
        cursor.execute(
            "CREATE TRIGGER tree_touch BEFORE INSERT ON tree_customers FOR EACH ROW EXECUTE FUNCTION tree_touch()"
        )
    element = explain("INSERT INTO tree_customers SELECT g, 'new' FROM generate_series(1001, 1010) g")
    summary = plan_summary(element)
    assert summary.execution_ms == element["Execution Time"] and summary.planning_ms == element["Planning Time"]
    [trigger] = summary.triggers
    assert trigger.startswith("tree_touch on tree_customers: 10 calls, ")
    assert plan_rows(element)[0].label == "Insert on tree_customers"
    assert plan_summary(explain(JOIN, "FORMAT JSON")).execution_ms is None


def test_a_gathers_initplan_runs_once_in_the_leader_and_its_workers_at_once() -> None:
    def node(kind: str, ms: float, loops: int, **more: Any) -> dict[str, Any]:
        return {
            "Node Type": kind,
            "Plan Rows": 1,
            "Total Cost": 1.0,
            "Actual Total Time": ms,
            "Actual Rows": 1,
            "Actual Loops": loops,
            **more,
        }

    gather = node(
        "Gather",
        30.0,
        1,
        **{"Workers Planned": 2, "Workers Launched": 2},
        Plans=[
            node("Result", 2.0, 1, **{"Parent Relationship": "InitPlan", "Subplan Name": "InitPlan 1"}),
            node("Seq Scan", 20.0, 3, **{"Parent Relationship": "Outer", "Parallel Aware": True}),
        ],
    )
    root, init, scan = plan_rows({"Plan": gather})
    assert init.processes == 1 and init.inclusive_ms == 2.0
    assert scan.processes == 3 and scan.inclusive_ms == 20.0  # 3 loops of 20 ms, at once
    assert root.exclusive_ms == pytest.approx(30.0 - 2.0 - 20.0)
