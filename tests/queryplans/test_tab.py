"""The query plans tab over a stored report whose section holds plans the real PostgreSQL gave:
the scale, each query's verdict, its plan tree with times and the rules' hits on their nodes, the
advice proven before and after, and every candidate tried; the analyzer's state when the run has
no section; other workspaces get 404; names from the paste are escaped."""

import json
import re
from dataclasses import asdict
from typing import Any

import jsonschema
import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from apps.accounts.models import Workspace
from apps.analysis.models import AnalysisRun, RunStatus
from apps.queryplans.engine.rules import plan_hits
from apps.queryplans.engine.tree import plan_rows
from apps.queryplans.views import _ms
from tests.conftest import ROOT
from tests.factories import make_design

pytestmark = pytest.mark.django_db

SCHEMA = json.loads((ROOT / "apps" / "reports" / "schema" / "report.schema.json").read_text())
SECTION_SCHEMA = {"$defs": SCHEMA["$defs"], "$ref": "#/$defs/queryplans"}
QUERY = (
    "SELECT o.id, o.total, c.name FROM plan_orders o JOIN plan_customers c ON c.id = o.customer_id "
    "WHERE o.customer_id = %s ORDER BY o.created_at DESC LIMIT 20"
)
INDEX = "CREATE INDEX CONCURRENTLY plan_orders_customer_id_created_at ON plan_orders (customer_id, created_at DESC)"


def _explain(sql: str, parameters: tuple[Any, ...] = (), options: str = "ANALYZE, BUFFERS, FORMAT JSON") -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}", parameters)
        document = cursor.fetchone()[0]
    return (document if isinstance(document, list) else json.loads(document))[0]


def queryplans_section() -> dict[str, Any]:
    """A section shaped as the analyzer stores it, its plans from EXPLAIN on tables made inside the
    test's transaction: a customer's orders page read by a sequential scan, a rare customer as a
    variant, the index that serves it built and the plan after it, and two queries not measured."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(
            "CREATE TABLE plan_customers AS SELECT g AS id, 'customer ' || g AS name FROM generate_series(1, 20000) g"
        )
        cursor.execute("ALTER TABLE plan_customers ADD PRIMARY KEY (id)")
        cursor.execute(
            "CREATE TABLE plan_orders AS SELECT g AS id, g % 20000 AS customer_id, g * 0.5 AS total, "
            "now() - g * interval '1 minute' AS created_at FROM generate_series(1, 200000) g"
        )
        cursor.execute("ANALYZE plan_customers")
        cursor.execute("ANALYZE plan_orders")
    before = _explain(QUERY, (42,))
    rare = _explain(QUERY, (99_999,))
    hits = [asdict(hit) for hit in plan_hits(before["Plan"])]
    with connection.cursor() as cursor:
        cursor.execute(INDEX.replace(" CONCURRENTLY", ""))  # not inside the test's transaction
    after = _explain(QUERY, (42,))
    factor = 200_000 / 24_000_000
    return {
        "hypopg": False,
        "cap": 1_000_000,
        "factor": factor,
        "scale": [
            {"table": "plan_orders", "declared": 24_000_000, "rows": 200_000},
            {"table": "plan_customers", "declared": None, "rows": 20_000},
        ],
        "scaling": "Every table holds its declared rows times the factor; times are scaled by its inverse.",
        "left_out": ["POST /v1/orders: a create writes a new row, whose values the design does not give"],
        "notes": ["not applied to the synthetic rows: ALTER TABLE plan_orders ADD CHECK (total > 0)"],
        "queries": [
            {
                "name": "customer_orders_page",
                "source": "endpoint",
                "sql": QUERY.replace("%s", "$1"),
                "endpoint": "GET /v1/customers/{customerId}/orders",
                "story": "ORD-1",
                "parameters": [{"name": "customer_id", "value": "42", "sample": "frequent"}],
                "status": "measured",
                "error": "",
                "plan": before,
                "cost": before["Plan"]["Total Cost"],
                "ms": before["Execution Time"],
                "scaled_ms": before["Execution Time"] / factor,
                "budget_ms": 150,
                "over_budget": before["Execution Time"] / factor > 150,
                "variants": [
                    {
                        "label": "rare customer_id",
                        "parameters": [{"name": "customer_id", "value": "99999", "sample": "rare"}],
                        "ms": rare["Execution Time"],
                        "plan": rare,
                    }
                ],
                "hits": hits,
                "advice": [
                    {
                        "sql": INDEX,
                        "table": "plan_orders",
                        "cost_before": before["Plan"]["Total Cost"],
                        "cost_after": after["Plan"]["Total Cost"],
                        "ms_before": before["Execution Time"],
                        "ms_after": after["Execution Time"],
                        "size_bytes": 4_513_792,
                        "method": "built",
                        "plan_after": after,
                    }
                ],
                "trail": [
                    {
                        "sql": "CREATE INDEX ON plan_orders (customer_id)",
                        "cost_before": before["Plan"]["Total Cost"],
                        "cost_after": 80.5,
                        "used": True,
                        "advised": False,
                        "why": "a better composite covers it",
                    },
                    {
                        "sql": INDEX,
                        "cost_before": before["Plan"]["Total Cost"],
                        "cost_after": after["Plan"]["Total Cost"],
                        "used": True,
                        "advised": True,
                        "why": "",
                    },
                ],
            },
            {
                "name": "catalog_peek",
                "source": "named",
                "sql": "SELECT * FROM pg_authid",
                "endpoint": None,
                "story": None,
                "parameters": [],
                "status": "refused",
                "error": "pg_authid: a catalog relation is never read",
                "plan": None,
                "cost": None,
                "ms": None,
                "scaled_ms": None,
                "budget_ms": None,
                "over_budget": False,
                "variants": [],
                "hits": [],
                "advice": [],
                "trail": [],
            },
            {
                "name": "order_totals",
                "source": "named",
                "sql": "SELECT sum(total) FROM plan_orders WHERE total / 0 > 1",
                "endpoint": None,
                "story": "ORD-2",
                "parameters": [],
                "status": "failed",
                "error": "division by zero",
                "plan": None,
                "cost": None,
                "ms": None,
                "scaled_ms": None,
                "budget_ms": 200,
                "over_budget": False,
                "variants": [],
                "hits": [],
                "advice": [],
                "trail": [],
            },
        ],
    }


def make_run(workspace: Workspace, owner: AbstractBaseUser, shop_v1: str, report: dict[str, Any]) -> AnalysisRun:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    return AnalysisRun.objects.create(
        revision=revision, status=RunStatus.SUCCEEDED, finished_at=timezone.now(), report=report
    )


def _analyzer(status: str, reason: str) -> dict[str, Any]:
    return {"name": "queryplans", "status": status, "reason": reason, "findings": 0, "duration_ms": 1.0}


def _row(page: str, path: str) -> str:
    """The plan tree's table row of the node at `path` (the first tree on the page holding it)."""
    match = re.search(rf'<tr class="plan-node[^"]*" data-path="{re.escape(path)}">(.*?)</tr>', page, re.S)
    assert match, f"no row for node {path}"
    return match.group(1)


@pytest.fixture
def section() -> dict[str, Any]:
    return queryplans_section()


def test_the_section_is_valid_against_the_report_schema(section: dict[str, Any]) -> None:
    jsonschema.validate(section, SECTION_SCHEMA)
    broken = {**section, "queries": [{**section["queries"][0], "status": "maybe"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SECTION_SCHEMA)


def test_the_tab_draws_each_plan_with_its_times_and_the_hits_on_their_nodes(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, section: dict[str, Any]
) -> None:
    run = make_run(workspace, owner, shop_v1, {"queryplans": section, "analyzers": [_analyzer("succeeded", "")]})
    client.force_login(owner)
    response = client.get(f"/runs/{run.pk}/plans/")
    assert response.status_code == 200
    page = response.content.decode()
    query = section["queries"][0]
    rows = plan_rows(query["plan"])

    # The scale used and its note.
    assert "24,000,000" in page and "not declared" in page and "200,000" in page
    assert section["scaling"] in page
    assert escape(section["left_out"][0]) in page and escape(section["notes"][0]) in page
    # The verdicts, budget and highlighted SQL.
    assert '<span class="verdict over-budget">over its story' in page
    assert "budget <strong>150 ms</strong>" in page
    assert "GET /v1/customers/{customerId}/orders" in page and "story ORD-1" in page
    assert '<span class="k">SELECT</span>' in page
    assert 'customer_id = 42</code> <span class="muted">(frequent)</span>' in page
    # Every node, with its own and inclusive time; the slowest path marked.
    for row in rows:
        drawn = _row(page, row.path)
        assert row.label in drawn
        assert _ms(row.exclusive_ms) in drawn and _ms(row.inclusive_ms) in drawn
    slowest = [row for row in rows if row.on_slowest_path]
    assert page.count('class="badge slow"') >= len(slowest)
    # The rule's hit sits on its node (the sequential scan of the orders).
    assert query["hits"], "the plan rules found nothing to say on a sequential scan"
    for hit in query["hits"]:
        drawn = _row(page, hit["node"])
        assert hit["rule"] in drawn
        assert escape(hit["message"]) in drawn and escape(hit["fix"]) in drawn
    seq = next(row for row in rows if row.node_type == "Seq Scan" and "plan_orders" in row.label)
    assert "queryplans.seq-scan-selective" in _row(page, seq.path)
    assert '<span class="badge flag">costliest</span>' in _row(page, seq.path)
    # Where the time went, by table: the orders' scan first.
    breakdown = page.split('<div class="plan-breakdown">')[1].split("</div>")[0]
    assert breakdown.index("<code>plan_orders</code>") < breakdown.index("<code>plan_customers</code>")
    assert f'<code>plan_orders</code></td><td class="num">1</td><td class="num">{_ms(seq.exclusive_ms)}' in breakdown
    # The advice, copyable, with its figures and both plans; then the trail.
    assert 'data-copy="q1-advice1-sql"' in page and INDEX in page
    assert "4.3\xa0MB" in page and "built" in page
    after = [row.label for row in plan_rows(query["advice"][0]["plan_after"])]
    assert any("plan_orders_customer_id_created_at" in label for label in after)
    for label in after:
        assert label in page.split('id="q1-advice1"')[1]
    assert "a better composite covers it" in page
    assert "rare customer_id" in page
    # The queries not measured say why.
    assert "Refused by the allow-list, never executed: pg_authid: a catalog relation is never read" in page
    assert "Failed: division by zero" in page


def test_a_skipped_analyzer_says_why(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = make_run(workspace, owner, shop_v1, {"analyzers": [_analyzer("skipped", "not selected")]})
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/plans/").content.decode()
    assert 'id="plans-not-run"' in page
    assert 'was <span class="status skipped">skipped</span>' in page
    assert '<span id="plans-reason">not selected</span>' in page


def test_a_failed_analyzer_says_why(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = make_run(workspace, owner, shop_v1, {"analyzers": [_analyzer("failed", "the sandbox is not reachable")]})
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/plans/").content.decode()
    assert '<span class="status failed">failed</span>' in page
    assert "the sandbox is not reachable" in page


def test_a_run_still_going_and_a_report_without_the_analyzer_are_not_blank(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    old = make_run(workspace, owner, shop_v1, {"analyzers": []})
    client.force_login(owner)
    assert (
        "its report holds no result of the query plans analyzer"
        in client.get(f"/runs/{old.pk}/plans/").content.decode()
    )
    AnalysisRun.objects.filter(pk=old.pk).update(status=RunStatus.RUNNING, report=None)
    assert "The analysis is running" in client.get(f"/runs/{old.pk}/plans/").content.decode()


def test_another_workspaces_user_and_a_missing_run_get_404(
    client: Client, owner: AbstractBaseUser, outsider: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = make_run(workspace, owner, shop_v1, {"analyzers": [_analyzer("skipped", "not selected")]})
    client.force_login(outsider)
    assert client.get(f"/runs/{run.pk}/plans/").status_code == 404
    client.force_login(owner)
    assert client.get(f"/runs/{run.pk + 1000}/plans/").status_code == 404
    client.logout()
    assert client.get(f"/runs/{run.pk}/plans/").status_code == 302


def test_names_and_texts_from_the_paste_are_escaped(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, section: dict[str, Any]
) -> None:
    evil = "<script>alert(1)</script>"
    query = section["queries"][0]
    query["name"] = evil
    query["story"] = evil
    query["parameters"] = [{"name": evil, "value": evil, "sample": "given"}]
    query["hits"] = [{**query["hits"][0], "message": evil, "fix": evil}]
    query["advice"][0]["sql"] = f"CREATE INDEX {evil} ON plan_orders (id)"
    query["plan"]["Plan"]["Alias"] = evil
    section["scale"][0]["table"] = evil
    section["scaling"] = evil
    run = make_run(workspace, owner, shop_v1, {"queryplans": section})
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/plans/").content.decode()
    assert evil not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8


def test_a_section_with_odd_values_still_renders(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    odd = {
        "hypopg": True,
        "cap": 10,
        "factor": 1,
        "scale": [{"table": "t", "declared": None, "rows": 1}],
        "scaling": "",
        "queries": [
            "not a query",
            {"name": "q", "status": "measured", "sql": "SELECT 1", "plan": "garbage", "hits": [1, None]},
            {"name": "r", "status": "measured", "sql": "SELECT 1", "plan": {"Plan": {"Node Type": "Result"}}},
        ],
    }
    run = make_run(workspace, owner, shop_v1, {"queryplans": odd})
    client.force_login(owner)
    response = client.get(f"/runs/{run.pk}/plans/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<article class="plan-query') == 2
    assert 'data-path="0"' in page
