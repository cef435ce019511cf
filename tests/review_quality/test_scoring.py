"""The yardstick itself: matchers are specific, accept an aggregated finding by any of its places,
and the Markdown entries are the findings list's headings. Plain data, no database."""

from typing import Any

import pytest

from tests.review_quality.scoring import (
    ELLIPSIS,
    DocumentIndex,
    KeyError_,
    Matcher,
    Verdict,
    designs,
    markdown_entries,
)

DOC = """# Demo — design v1

## Stories

### DM-1: Member reads an order
As a member, I want to read my order, so that I know its state.

Acceptance criteria:
- Given another member's order id, then I get 404.

Endpoints: GET /v1/orders/{orderId}

## API

```openapi
openapi: 3.0.3
info: {title: Demo, version: 1.0.0}
paths:
  /orders/{orderId}:
    get:
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: integer}}
      responses:
        '200': {description: The order}
    delete:
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: integer}}
      responses:
        '204': {description: Gone}
components:
  schemas:
    Order:
      allOf:
        - type: object
          properties:
            status: {type: string, enum: [open, paid]}
        - type: object
          properties:
            note: {type: string}
```

## Data

```sql
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    member_id bigint REFERENCES members (id) ON DELETE CASCADE,
    note text
);
CREATE INDEX orders_member ON orders (member_id);
```
"""


def finding(rule_id: str, *locations: dict[str, Any], severity: str = "medium") -> dict[str, Any]:
    return {"rule_id": rule_id, "severity": severity, "category": "API1:2023", "locations": list(locations)}


def at(line: int, pointer: str | None = None) -> dict[str, Any]:
    return {"document": "demo.md", "line": line, "column": 1, "pointer": pointer}


@pytest.fixture
def index() -> DocumentIndex:
    return DocumentIndex.of("demo.md", DOC)


def line_of(text: str) -> int:
    return DOC.splitlines().index(text) + 1


def test_a_finding_about_another_operation_of_the_same_path_does_not_match(index: DocumentIndex) -> None:
    matcher = Matcher.of(
        {"id": "x", "rules": [r"sec\.api1\..*"], "where": [{"operation": "GET /orders/{orderId}"}]}, index
    )
    delete_line = line_of("    delete:")
    assert not matcher.matches(
        finding("sec.api1.object-access-unstated", at(delete_line, "/paths/~1orders~1{orderId}/delete"))
    )
    assert not matcher.matches(finding("sec.api1.object-access-unstated", at(delete_line + 2)))
    assert matcher.matches(finding("sec.api1.object-access-unstated", at(line_of("    get:") + 2)))


def test_a_finding_of_another_rule_at_the_right_place_does_not_match(index: DocumentIndex) -> None:
    matcher = Matcher.of(
        {"id": "x", "rules": [r"sec\.api1\.(?!numeric-id).*"], "where": [{"operation": "GET /orders/{orderId}"}]}, index
    )
    assert not matcher.matches(
        finding("sec.api1.numeric-id", at(0, "/paths/~1orders~1{orderId}/get/parameters/0/schema"))
    )


def test_an_aggregated_finding_matches_when_any_of_its_places_does(index: DocumentIndex) -> None:
    matcher = Matcher.of(
        {"id": "x", "rules": [r"sec\..*401.*"], "where": [{"operation": "DELETE /orders/{orderId}"}]}, index
    )
    elsewhere = at(1, "/paths/~1orders~1{orderId}/get/responses")
    assert not matcher.matches(finding("sec.api8.error-401", elsewhere))
    assert matcher.matches(
        finding("sec.api8.error-401", elsewhere, at(0, "/paths/~1orders~1{orderId}/delete/responses"))
    )


def test_a_less_severe_finding_does_not_satisfy_a_minimum_severity(index: DocumentIndex) -> None:
    matcher = Matcher.of({"id": "x", "rules": [".*"], "min_severity": "medium"}, index)
    assert matcher.matches(finding("sec.any", severity="high"))
    assert not matcher.matches(finding("sec.any", severity="low"))


def test_a_property_hidden_in_allof_is_found_by_its_schema(index: DocumentIndex) -> None:
    matcher = Matcher.of(
        {"id": "x", "rules": [r"sec\.api3\..*"], "where": [{"schema": "Order", "property": "status"}]}, index
    )
    assert matcher.matches(
        finding("sec.api3.privileged-field-writable", at(0, "/components/schemas/Order/allOf/0/properties/status"))
    )
    assert not matcher.matches(
        finding("sec.api3.privileged-field-writable", at(0, "/components/schemas/Order/allOf/1/properties/note"))
    )
    assert matcher.matches(
        finding(
            "sec.api3.privileged-field-writable", at(line_of("            status: {type: string, enum: [open, paid]}"))
        )
    )


def test_a_column_is_its_line_and_the_lines_that_name_it(index: DocumentIndex) -> None:
    matcher = Matcher.of({"id": "x", "rules": [".*"], "where": [{"table": "orders", "column": "member_id"}]}, index)
    assert matcher.matches(
        finding("sec.dp.x", at(line_of("    member_id bigint REFERENCES members (id) ON DELETE CASCADE,")))
    )
    assert matcher.matches(finding("sec.dp.x", at(line_of("CREATE INDEX orders_member ON orders (member_id);"))))
    assert not matcher.matches(finding("sec.dp.x", at(line_of("    note text"))))


def test_a_key_naming_what_the_design_lacks_is_refused(index: DocumentIndex) -> None:
    with pytest.raises(KeyError_):
        Matcher.of({"id": "x", "rules": [".*"], "where": [{"operation": "POST /orders"}]}, index)
    with pytest.raises(KeyError_):
        Matcher.of({"id": "x", "rules": [".*"], "where": [{"table": "orders", "column": "total"}]}, index)


def test_markdown_entries_are_the_findings_headings_that_name_a_rule() -> None:
    markdown = "\n".join(
        [
            "# Design review",
            "## Top problems",
            "- [high] Not an entry (`sec.api1.object-access-unstated`) at demo.md:5",
            "## Findings",
            "### [high] First",
            "`sec.api2.unauthenticated-write` at demo.md:20 `/paths/~1a/post`, demo.md:30",
            "### A heading that names no rule",
            "### [low] Second",
            "`sec.api1.object-access-unstated` at demo.md:5",
            "## Traceability",
            "### [low] Not an entry either `sec.api8.error-401` demo.md:9",
        ]
    )
    entries = markdown_entries(
        markdown, {"sec.api2.unauthenticated-write", "sec.api1.object-access-unstated", "sec.api8.error-401"}
    )
    assert [(e.position, sorted(e.rule_ids)) for e in entries] == [
        (1, ["sec.api2.unauthenticated-write"]),
        (2, ["sec.api1.object-access-unstated"]),
    ]
    assert entries[0].stands_for(finding("sec.api2.unauthenticated-write", at(1), at(30)))
    assert not entries[0].stands_for(finding("sec.api2.unauthenticated-write", at(21)))


def test_a_verdict_needs_the_statement_its_risk_and_its_safe_variant() -> None:
    verdict = Verdict.of(
        {"id": "v", "table": "t", "sql": "^CREATE INDEX", "risk": ["high"], "safe_contains": "CONCURRENTLY"}
    )
    statement = {
        "table": "t",
        "sql": 'CREATE INDEX "i" ON "t" ("a");',
        "risk": "high",
        "safe_alternative": "CREATE INDEX CONCURRENTLY ...",
        "breaking": "",
    }
    said = {
        "analyzer": "migrations",
        "rule_id": "mig.blocking-statement",
        "severity": "high",
        "title": 'CREATE INDEX "i" ON "t" ("a");',
        "message": "",
    }
    assert verdict.judge({"statements": [statement]}, [said]) == (True, "")
    assert not verdict.judge({"statements": [{**statement, "risk": "low"}]})[0]
    assert not verdict.judge({"statements": [{**statement, "safe_alternative": ""}]})[0]
    assert not verdict.judge({"statements": [{**statement, "table": "u"}]})[0]


def test_every_key_names_only_what_its_design_has() -> None:
    for key in designs():
        index = DocumentIndex.of(key.v1.name, key.v1.read_text(encoding="utf-8"))
        for item in [*key.must, *key.must_not]:
            Matcher.of(item, index)  # raises KeyError_ for a place the design lacks
        for item in key.migration:
            assert Verdict.of(item).risks, item["id"]


def test_a_verdict_needs_what_the_reviewer_reads_to_agree() -> None:
    risky = Verdict.of({"id": "v", "table": "t", "sql": 'ADD COLUMN "c"', "risk": ["high"]})
    safe = Verdict.of({"id": "s", "table": "t", "sql": 'ADD COLUMN "d"', "risk": ["none", "low"]})
    section = {
        "statements": [
            {
                "table": "t",
                "sql": 'ALTER TABLE "t" ADD COLUMN "c" int NOT NULL;',
                "risk": "high",
                "safe_alternative": "x",
                "breaking": "",
            },
            {
                "table": "t",
                "sql": 'ALTER TABLE "t" ADD COLUMN "d" int NULL;',
                "risk": "low",
                "safe_alternative": "",
                "breaking": "",
            },
        ]
    }

    def said(title: str, severity: str) -> dict[str, Any]:
        return {
            "analyzer": "migrations",
            "rule_id": "mig.blocking-statement",
            "severity": severity,
            "title": title,
            "message": "",
        }

    assert risky.judge(section, [said('ALTER TABLE "t" ADD COLUMN "c" int NOT NULL;', "high")]) == (True, "")
    assert not risky.judge(section, [said('ALTER TABLE "t" ADD COLUMN "c" int NOT NULL;', "low")])[0]
    assert not risky.judge(section, [])[0]
    assert safe.judge(section, []) == (True, "")
    assert not safe.judge(section, [said('ALTER TABLE "t" ADD COLUMN "d" int NULL;', "medium")])[0]


def test_a_statement_cut_short_in_a_title_is_still_named() -> None:
    verdict = Verdict.of({"id": "v", "table": "t", "sql": 'UNIQUE \\("a", "b"\\)', "risk": ["high"]})
    sql = 'ALTER TABLE "t" ADD CONSTRAINT "t_a_b_uniq" UNIQUE ("a", "b");'
    section = {"statements": [{"table": "t", "sql": sql, "risk": "high", "safe_alternative": "x", "breaking": ""}]}
    cut = {"analyzer": "migrations", "rule_id": "mig.blocking-statement", "severity": "high", "message": ""}
    assert verdict.judge(section, [{**cut, "title": sql[:40] + ELLIPSIS}]) == (True, "")
    assert not verdict.judge(section, [{**cut, "title": 'ALTER TABLE "u" ADD CONSTRAINT' + ELLIPSIS}])[0]
