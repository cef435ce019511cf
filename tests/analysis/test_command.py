import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from apps.migrations_preview.engine.estimate import NEW_TABLE
from tests.conftest import CORPUS, DEMO, ROOT

SCHEMA = json.loads((ROOT / "apps" / "reports" / "schema" / "report.schema.json").read_text())


def settings_sizes() -> tuple[int, int]:
    from django.conf import settings

    return settings.MIGRATION_CALIBRATION_SMALL_ROWS, settings.MIGRATION_CALIBRATION_LARGE_ROWS


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "analyze", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_json_output_follows_the_schema_and_names_the_design() -> None:
    result = analyze(str(CORPUS / "shop" / "v1-design.md"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(report)
    design = report["design"]
    assert (
        design["entities"]["count"],
        design["endpoints"]["count"],
        design["stories"]["count"],
        design["queries"]["count"],
    ) == (7, 11, 6, 4)
    assert "GET /v1/customers/{customerId}/orders" in design["endpoints"]["names"]
    statuses = {a["name"]: a["status"] for a in report["analyzers"]}
    assert statuses["traceability"] == "succeeded"
    assert statuses["security"] == "succeeded"
    assert statuses["migrations"] == "succeeded"
    assert statuses["queryplans"] == "succeeded"
    assert report["migrations"]["rollback_proven"]["proven"] is True  # from nothing: seven CREATE TABLEs
    # Every operation generated, and no proof without --prove: the endpoints find nothing.
    assert {f["analyzer"] for f in report["findings"]} == {"traceability", "security", "queryplans"}
    assert report["queryplans"]["queries"][0]["name"] == "customer_orders_page"
    assert all(o["generated"] for o in report["endpoints"]["operations"])


@pytest.mark.parametrize(("fail_on", "code"), [("high", 0), ("low", 1), ("info", 1)])
def test_fail_on_sets_the_exit_code(fail_on: str, code: int) -> None:
    shop = str(CORPUS / "shop" / "v1-design.md")
    assert analyze(shop, "--only", "traceability", "--fail-on", fail_on).returncode == code


def test_a_story_endpoint_missing_fails_on_high() -> None:
    assert analyze(str(DEMO), "--only", "traceability", "--fail-on", "high", "--format", "md").returncode == 1


def test_it_exits_2_with_one_line_when_the_input_cannot_be_analysed(tmp_path: Path) -> None:
    swagger = tmp_path / "old.yaml"
    swagger.write_text('swagger: "2.0"\ninfo: {title: t, version: "1"}\npaths: {}\n')
    result = analyze(str(swagger))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Swagger 2.0" in result.stderr
    binary = tmp_path / "bad.md"
    binary.write_bytes(b"# D\n\xff\xfe\n")
    assert analyze(str(binary)).returncode == 2
    assert analyze(str(tmp_path / "missing.md")).returncode == 2
    assert "unknown analyzer" in analyze(str(DEMO), "--only", "nope").stderr


def test_bare_ddl_and_markdown_and_sarif_outputs() -> None:
    ddl = analyze(str(CORPUS / "shop" / "v1-schema.sql"))
    assert json.loads(ddl.stdout)["design"]["entities"]["count"] == 7
    md = analyze(str(CORPUS / "shop" / "v1-design.md"), "--format", "md")
    assert md.stdout.startswith("# Design review")
    assert "| ORD-1 Customer lists their orders |" in md.stdout
    sarif = json.loads(analyze(str(DEMO), "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0"
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "trace.story-endpoint-missing")
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 57


def test_base_is_read_and_described() -> None:
    result = analyze(str(CORPUS / "shop" / "v2-design.md"), "--base", str(CORPUS / "shop" / "v1-design.md"))
    report = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert report["base"]["stories"]["count"] == 6
    assert report["design"]["stories"]["count"] == 7
    statements = {s["sql"]: s for s in report["migrations"]["statements"]}
    rename = statements['ALTER TABLE "orders" RENAME COLUMN "shipping_address" TO "delivery_address";']
    assert rename["breaking"]
    quantity = statements['ALTER TABLE "order_lines" ALTER COLUMN "quantity" TYPE bigint USING "quantity"::bigint;']
    assert (quantity["rewrites_table"], quantity["rows"], quantity["risk"]) == (True, 120_000_000, "high")
    # Measured in the sandbox at three synthetic sizes (the two settings and their geometric
    # middle), three runs each, and extrapolated to the declared 120M rows along a fitted line.
    small, large = settings_sizes()
    assert quantity["estimate_seconds"] > 0
    assert re.fullmatch(
        rf"measured at {small:,}, [\d,]+ and {large:,} rows, the median of 5 runs each \(range\): .+; "
        rf"growth fitted as linear \(a scan or rewrite reads each row once\), through the {large:,}-row median "
        rf"with [\d.]+ m?s of fixed cost; ≈ [\d.,]+ s at 120,000,000 rows \(linear extrapolation\)",
        quantity["estimate_basis"],
    ), quantity["estimate_basis"]
    channel = statements['ALTER TABLE "orders" ADD COLUMN "channel" varchar(16) NOT NULL;']
    assert channel["estimate_seconds"] is None
    assert channel["estimate_basis"].startswith(f"fails in the sandbox on a table of {small:,} synthetic rows: column")
    assert "contains null values" in channel["estimate_basis"]
    assert rename["estimate_basis"].endswith("the real cost is the wait for its lock")
    created = next(s for s in report["migrations"]["statements"] if s["sql"].startswith('CREATE TABLE "shipments"'))
    assert (created["estimate_seconds"], created["estimate_basis"]) == (0.0, NEW_TABLE)
    assert report["migrations"]["rollback_proven"]["proven"] is False
    assert "AddIndexConcurrently(" in report["migrations"]["safe_migration"]["source"]
    source = report["migrations"]["source"]
    assert "# Purpose: the schema change the design implies since the base revision." in source
    assert "SHP-1 (Customer tracks a shipment)" in source
    assert (
        '#   - ALTER TABLE "payments" DROP COLUMN "card_number": code and API clients still using card_number fail'
        in source
    )
    assert re.fullmatch(r"0001_\d{8}_\d{4}_design", report["migrations"]["name"])
    assert re.search(r"# Estimated run time on the declared volumes: ≈ [\d.,]+ s in all, from statement times", source)


def test_the_markdown_report_carries_the_migration_preview() -> None:
    result = analyze(
        str(CORPUS / "shop" / "v2-design.md"),
        "--base",
        str(CORPUS / "shop" / "v1-design.md"),
        "--only",
        "migrations",
        "--format",
        "md",
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "## Migration preview" in text
    assert "rollback not proven (the schema is restored, but the data of payment.card_number is lost" in text
    row = next(line for line in text.splitlines() if '"quantity" TYPE bigint' in line and line.startswith("|"))
    assert "| ACCESS EXCLUSIVE | reads | rewrite | 120,000,000 | high | ≈ " in row
    assert "(linear extrapolation)" in row
    for block in ("### Schema diff", "```diff", "### Forward SQL", "### Rollback SQL", "### Safe variant"):
        assert block in text
    assert "+    delivery_address text," in text


def test_a_base_report_marks_findings_new_unchanged_and_fixed(tmp_path: Path) -> None:
    v1 = (CORPUS / "shop" / "v1-design.md").read_text(encoding="utf-8")
    # The base lacks a security scheme's bearer format and has one more operation: its findings
    # on that operation are fixed in the revision; the revision adds a story-less operation.
    base = tmp_path / "base.md"
    base.write_text(
        v1.replace(
            "  /orders:\n",
            "  /legacy-export:\n    get:\n      responses: {'200': {description: ok}}\n  /orders:\n",
            1,
        )
    )
    head = tmp_path / "head.md"
    head.write_text(
        v1.replace(
            "  /orders:\n",
            "  /audit/{entryId}:\n    delete:\n      parameters: [{name: entryId, in: path, required: true, schema: {type: integer}}]\n      responses: {'204': {description: gone}}\n  /orders:\n",
            1,
        )
    )
    result = analyze(str(head), "--base", str(base), "--only", "traceability,security")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    changes = report["changes"]
    marks = {f["change"] for f in report["findings"]}
    assert marks <= {"new", "unchanged"} and "unchanged" in marks
    new = [f for f in report["findings"] if f["change"] == "new"]
    assert any("DELETE /audit/{entryId}" in f["endpoints"] for f in new)
    assert changes["new"] == len(new)
    assert changes["unchanged"] == len(report["findings"]) - len(new)
    assert changes["fixed"], "the legacy operation's own findings are gone"
    markdown = analyze(str(head), "--base", str(base), "--only", "traceability,security", "--format", "md").stdout
    assert "## Changes since the base revision" in markdown
    assert f"{changes['new']} new, {changes['unchanged']} unchanged, {len(changes['fixed'])} fixed." in markdown
    assert "**new**" in markdown


def test_the_markdown_report_opens_with_the_ranked_top_problems_and_includes_the_checklist() -> None:
    result = analyze(str(CORPUS / "shop" / "v1-design.md"), "--only", "traceability,security", "--format", "md")
    markdown = result.stdout
    top = markdown.index("## Top problems")
    assert top < markdown.index("## Security checklist") < markdown.index("## Findings")
    assert "### Story " in markdown[top : markdown.index("## Security checklist")]
    assert "| API1 Broken Object Level Authorization |" in markdown
