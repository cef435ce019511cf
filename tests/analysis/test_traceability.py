from apps.analysis.engine.traceability import analyze_traceability
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.model import DesignModel

API = """```openapi
openapi: 3.1.0
info: {title: t, version: '1'}
servers: [{url: 'https://x.example/v1'}]
paths:
  /orders:
    get:
      operationId: listOrders
      parameters: [{name: status, in: query, schema: {type: string}}]
      responses: {'200': {description: ok}}
  /orders/{id}:
    delete:
      operationId: cancelOrder
      responses: {'204': {description: ok}}
```
"""
DATA = """```dbml
Table orders {
  id bigint [pk]
  status text
}
Table audit {
  id bigint [pk]
}
```
```sql
-- name: orders_by_status
SELECT id FROM orders WHERE status = :status;
-- name: audit_rows
SELECT id FROM audit;
```
"""


def _model(stories: str) -> DesignModel:
    result = parse_design(DesignInput(document=stories + API + DATA, document_name="d.md"), limits=ParseLimits())
    assert result.ok, result.problems
    return result.model


def _rules(model: DesignModel) -> dict[str, list[str]]:
    findings, _ = analyze_traceability(model)
    rules: dict[str, list[str]] = {}
    for finding in findings:
        rules.setdefault(finding.rule_id, []).append(finding.title)
    return rules


def test_a_story_citing_an_endpoint_the_api_lacks_is_high() -> None:
    model = _model(
        "### S-1: list\nAs a clerk, I want orders, so that x.\n\nEndpoints: GET /v1/orders, POST /v1/refunds\n\n"
    )
    findings, matrix = analyze_traceability(model)
    missing = [f for f in findings if f.rule_id == "trace.story-endpoint-missing"]
    assert [(f.severity, f.locations[0].line) for f in missing] == [("high", 4)]
    assert "POST /v1/refunds" in missing[0].title
    assert matrix["stories"][0]["endpoints"][1] == {
        "method": "POST",
        "path": "/v1/refunds",
        "operation_id": None,
        "found": False,
        "line": 4,
    }


def test_an_operation_no_story_asks_for_is_reported() -> None:
    rules = _rules(_model("### S-1: list\nAs a clerk, I want orders, so that x.\n\nEndpoints: GET /v1/orders\n\n"))
    assert rules["trace.operation-without-story"] == ["No story asks for DELETE /v1/orders/{id}"]


def test_an_entity_no_endpoint_touches_is_reported() -> None:
    rules = _rules(_model("### S-1: list\nAs a clerk, I want orders, so that x.\n\nEndpoints: GET /v1/orders\n\n"))
    assert rules["trace.entity-without-endpoint"] == ["No endpoint reads or writes table audit"]


def test_a_story_without_endpoints_and_an_orphan_query_are_reported() -> None:
    rules = _rules(_model("### S-1: list\nAs a clerk, I want orders, so that x.\n\n"))
    assert "trace.story-without-endpoint" in rules
    assert rules["trace.query-without-endpoint"] == ["Query audit_rows is not tied to any endpoint"]


def test_queries_link_to_endpoints_by_table_and_parameter() -> None:
    model = _model("### S-1: list\nAs a clerk, I want orders, so that x.\n\nEndpoints: GET /v1/orders\n\n")
    _, matrix = analyze_traceability(model)
    assert matrix["stories"][0]["queries"] == ["orders_by_status"]
    assert matrix["queries"][0]["endpoints"] == ["GET /v1/orders"]
    assert matrix["queries"][0]["stories"] == ["S-1"]


def test_a_story_may_cite_queries_by_name() -> None:
    model = _model(
        "### S-1: audit\nAs an auditor, I want rows, so that x.\n\nEndpoints: GET /v1/orders\nQueries: audit_rows, nope\n\n"
    )
    findings, matrix = analyze_traceability(model)
    assert "audit_rows" in matrix["stories"][0]["queries"]
    assert [f.title for f in findings if f.rule_id == "trace.story-query-missing"] == [
        "Story S-1 cites query nope, which is not written down"
    ]


def test_fingerprints_survive_moving_lines() -> None:
    story = "### S-1: list\nAs a clerk, I want orders, so that x.\n\nEndpoints: GET /v1/orders, POST /v1/refunds\n\n"
    first, _ = analyze_traceability(_model(story))
    second, _ = analyze_traceability(_model("# Title\n\nIntro.\n\n" + story))
    assert {f.fingerprint for f in first} == {f.fingerprint for f in second}
    assert [f.locations[0].line for f in first if f.rule_id == "trace.story-endpoint-missing"] == [4]
    assert [f.locations[0].line for f in second if f.rule_id == "trace.story-endpoint-missing"] == [8]


def test_shop_v1_matrix_and_findings(shop_v1: str) -> None:
    model = parse_design(DesignInput(document=shop_v1, document_name="v1-design.md"), limits=ParseLimits()).model
    findings, matrix = analyze_traceability(model)
    assert sorted((f.rule_id, f.title) for f in findings) == [
        ("trace.entity-without-endpoint", "No endpoint reads or writes table audit_log"),
        ("trace.entity-without-endpoint", "No endpoint reads or writes table categories"),
        ("trace.operation-without-story", "No story asks for DELETE /v1/orders/{orderId}"),
        ("trace.operation-without-story", "No story asks for GET /v1/orders/{orderId}"),
        ("trace.operation-without-story", "No story asks for PATCH /v1/customers/{customerId}"),
    ]
    rows = {row["id"]: row for row in matrix["stories"]}
    assert rows["ORD-1"]["queries"] == ["customer_orders_page"]
    assert rows["ORD-3"]["queries"] == ["support_search"]
    assert rows["CAT-1"]["queries"] == ["browse_category"]
    assert all(e["found"] for row in matrix["stories"] for e in row["endpoints"])


def test_entity_rows_show_keys_relations_actions_uniques_checks_and_enums() -> None:
    ddl = """```sql
CREATE TYPE state AS ENUM ('active', 'paused');
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE subscriptions (
  customer_id bigint REFERENCES customers (id) ON DELETE CASCADE,
  plan text NOT NULL,
  status state,
  PRIMARY KEY (customer_id, plan),
  CHECK (plan <> '')
);
CREATE UNIQUE INDEX one_active ON subscriptions (customer_id) WHERE status = 'active';
```
"""
    model = parse_design(DesignInput(document=ddl), limits=ParseLimits()).model
    _, section = analyze_traceability(model)
    row = next(r for r in section["entities"] if r["name"] == "subscriptions")
    assert row["primary_key"]["columns"] == ["customer_id", "plan"]
    assert row["primary_key"]["line"] == 8
    (relation,) = row["relations"]
    assert relation | {"line": None} == {
        "columns": ["customer_id"],
        "references": "customers",
        "ref_columns": ["id"],
        "nullable": False,  # part of the primary key
        "on_delete": "CASCADE",
        "on_update": "NO ACTION",
        "line": None,
    }
    assert relation["line"] == 5
    assert row["uniques"] == [{"columns": ["customer_id"], "where": "status = 'active'", "line": 11}]
    assert row["checks"] == [{"expression": "plan <> ''", "line": 9}]
    assert row["enums"] == [{"column": "status", "values": ["active", "paused"], "line": 7}]
