import json

import jsonschema

from apps.analysis.engine.pipeline import analyze
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput
from apps.reports.engine.report import build_report
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "apps" / "reports" / "schema" / "report.schema.json").read_text())


def _report(document: str) -> dict:
    outcome = analyze(DesignInput(document=document, document_name="d.md"), limits=ParseLimits())
    return build_report(outcome, generated_at="2026-01-01T00:00:00+00:00", tool_version="1.0")


def test_every_analysis_reports_the_generated_endpoints_and_that_the_proof_was_not_run(shop_v1: str) -> None:
    report = _report(shop_v1)
    jsonschema.validate(report, SCHEMA)
    status = {a["name"]: a["status"] for a in report["analyzers"]}
    assert status["endpoints"] == "succeeded"
    section = report["endpoints"]
    assert len(section["operations"]) == 11
    assert [o["operation_id"] for o in section["operations"] if not o["generated"]] == []
    paths = {f["path"] for f in section["files"]}
    assert {"design/models.py", "design/views.py", "manage.py", "pyproject.toml"} <= paths
    # Without the worker's `prove`, nothing was run, and nothing says it passed.
    assert section["proof"]["status"] == "not run"
    assert (
        section["proof"]["reason"].startswith("not run: ")
        and "runs in the worker with the sandbox" in (section["proof"]["reason"])
    )
    assert "passed" not in json.dumps(section["proof"])


def test_the_schema_requires_each_operations_generated_flag(shop_v1: str) -> None:
    report = _report(shop_v1)
    del report["endpoints"]["operations"][0]["generated"]
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert any("generated" in e.message for e in validator.iter_errors(report))


def test_operations_not_generated_are_findings_of_the_endpoints_analyzer() -> None:
    api = (
        "```openapi\nopenapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    get:\n"
        "      operationId: listThings\n      responses:\n        '200': {description: ok}\n```\n"
    )
    report = _report("# T\n\n" + api)
    jsonschema.validate(report, SCHEMA)
    [operation] = report["endpoints"]["operations"]
    assert operation["generated"] is False and "no table" in operation["reason"]
    found = [f for f in report["findings"] if f["analyzer"] == "endpoints"]
    assert [f["rule_id"] for f in found] == ["endpoints.not-generated"]
    assert found[0]["endpoints"] == ["GET /things"]


def test_the_stored_section_is_packed_and_unpacks_to_the_report_section(shop_v1: str) -> None:
    from apps.endpoints.services import endpoints_section_pack, endpoints_section_unpack

    section = _report(shop_v1)["endpoints"]
    stored = endpoints_section_pack(section)
    assert "files" not in stored and "operations" not in stored
    assert len(json.dumps(stored)) < len(json.dumps(section)) / 3
    assert endpoints_section_unpack(stored) == section
    # Read back in jsonb's key order (shorter first, then bytewise), as the rest of a stored report.
    assert list(endpoints_section_unpack(stored)) == ["files", "notes", "proof", "renamed", "operations"]
    assert endpoints_section_unpack(section) == section


def test_each_operation_says_what_its_generated_code_enforces(shop_v1: str) -> None:
    report = _report(shop_v1)
    jsonschema.validate(report, SCHEMA)
    by_id = {o["operation_id"]: o for o in report["endpoints"]["operations"]}
    kinds = {name: {(e["kind"], e["detail"]) for e in o["enforces"]} for name, o in by_id.items()}
    assert ("object-level", "customer_id") in kinds["listCustomerOrders"]
    assert ("page-size-cap", "API_MAX_PAGE_SIZE") in kinds["listCustomerOrders"]
    assert ("role", "support") in kinds["searchOrders"]
    assert ("idempotency", "Idempotency-Key") in kinds["createOrder"] and ("read-only", "status") in kinds[
        "createOrder"
    ]
    assert ("read-only", "is_staff") in kinds["updateCustomer"]
    assert ("authentication", "") not in kinds["listProducts"]  # public
    assert kinds["paymentWebhook"] == {("signature", "X-Signature")}  # public, its signature checked


def test_an_api_over_the_operation_limit_is_left_to_the_generate_command(shop_v1: str) -> None:
    from apps.analysis.engine.pipeline import AnalyzerContext, analyze
    from apps.designs.engine.limits import ParseLimits
    from apps.designs.engine.loader import DesignInput

    outcome = analyze(
        DesignInput(document=shop_v1, document_name="v1-design.md"),
        limits=ParseLimits(),
        only=("endpoints",),
        context=AnalyzerContext(endpoints_max_operations=5),
    )
    [result] = [r for r in outcome.results if r.name == "endpoints"]
    assert result.status == "skipped"
    assert "11 operations" in result.reason and "manage.py generate" in result.reason
