import json

import jsonschema

from apps.analysis.engine.pipeline import analyze
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput
from apps.reports.engine.report import build_report, render_markdown, render_sarif, worst_severity_at_least
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "apps" / "reports" / "schema" / "report.schema.json").read_text())


def _report(document: str) -> dict:
    outcome = analyze(DesignInput(document=document, document_name="d.md"), limits=ParseLimits())
    return build_report(outcome, generated_at="2026-01-01T00:00:00+00:00", tool_version="1.0")


def test_a_failed_parse_still_gives_a_valid_report_with_the_reason() -> None:
    report = _report("```sql\nCREATE TABLE (\n```\n")
    jsonschema.validate(report, SCHEMA)
    assert report["analyzers"][0]["status"] == "failed"
    assert "syntax error" in report["analyzers"][0]["reason"]
    assert report["findings"][0]["severity"] == "critical"
    assert report["findings"][0]["locations"][0]["line"] == 2


def test_the_schema_rejects_a_finding_without_fingerprint(shop_v1: str) -> None:
    report = _report(shop_v1)
    del report["findings"][0]["fingerprint"]
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert any("fingerprint" in e.message for e in validator.iter_errors(report))


def test_findings_are_listed_by_priority_and_thresholds_compare(shop_v1: str) -> None:
    report = _report(shop_v1 + "\n### X-1: ghost\nAs a user, I want a ghost, so that x.\nEndpoints: GET /v1/ghosts\n")
    priorities = [f["priority"] for f in report["findings"]]
    assert priorities == sorted(priorities, reverse=True)
    assert report["findings"][0]["severity"] == "critical"
    # Suppressed ones come last, with priority 0.
    suppressed = [i for i, f in enumerate(report["findings"]) if f["suppressed"]]
    assert suppressed and suppressed == list(range(len(report["findings"]) - len(suppressed), len(report["findings"])))
    assert all(report["findings"][i]["priority"] == 0 for i in suppressed)
    assert "trace.story-endpoint-missing" in {f["rule_id"] for f in report["findings"] if f["severity"] == "high"}
    assert worst_severity_at_least(report, "critical")  # card numbers are stored
    without_cards = {**report, "findings": [f for f in report["findings"] if f["severity"] != "critical"]}
    assert not worst_severity_at_least(without_cards, "critical")


def test_markdown_and_sarif_carry_every_finding(shop_v1: str) -> None:
    report = _report(shop_v1)
    markdown = render_markdown(report)
    assert markdown.count("\n### [") == len(report["findings"])
    sarif = render_sarif(report)
    assert len(sarif["runs"][0]["results"]) == len(report["findings"])
    assert {r["partialFingerprints"]["workbench/v1"] for r in sarif["runs"][0]["results"]} == {
        f["fingerprint"] for f in report["findings"]
    }
