"""The shop corpus v1: its security problems, each on the line a reviewer must look at."""

import json
import tarfile

import jsonschema

from apps.analysis.engine.pipeline import analyze
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput
from apps.reports.engine.report import build_report, render_sarif
from tests.public_specs import _tarball


def _report(shop_v1: str) -> dict:
    outcome = analyze(DesignInput(document=shop_v1, document_name="v1-design.md"), limits=ParseLimits())
    return build_report(outcome, generated_at="2026-01-01T00:00:00+00:00", tool_version="1")


def _lines(report: dict, rule: str) -> list[int]:
    return sorted(f["locations"][0]["line"] for f in report["findings"] if f["rule_id"] == rule)


def test_shop_v1_security_problems_point_at_their_lines(shop_v1: str) -> None:
    report = _report(shop_v1)
    lines = shop_v1.splitlines()
    assert _lines(report, "sec.api8.http-server") == [86]
    assert _lines(report, "sec.api9.non-production-server") == [86]
    assert _lines(report, "sec.api2.api-key-in-url") == [95]
    assert lines[94].strip() == "in: query"
    assert _lines(report, "sec.api3.privileged-field-writable") == [112, 150]  # is_staff (PATCH), status (POST /orders)
    assert _lines(report, "sec.api3.secret-in-response") == [157]  # card_number returned by payOrder
    assert _lines(report, "sec.api8.error-leaks-internals") == [165]  # Error.stack
    assert _lines(report, "sec.api4.unbounded-page-size") == [198]
    assert _lines(report, "sec.api2.unauthenticated-write") == [268]
    assert lines[267].strip() == "security: []"
    assert _lines(report, "sec.api7.url-input") == [276]
    # One finding, at the table, with the API's Payment schema that carries its rows as a place too.
    [cards] = [f for f in report["findings"] if f["rule_id"] == "sec.dp.card-number-stored"]
    assert [loc["line"] for loc in cards["locations"]] == [403, 157]
    contradiction = next(f for f in report["findings"] if f["rule_id"] == "sec.dp.story-contradiction")
    assert [loc["line"] for loc in contradiction["locations"]] == [403, 45, 157]  # column, story ORD-4, API property
    webhook = next(f for f in report["findings"] if f["rule_id"] == "sec.api10.unsigned-webhook")
    assert "ORD-4 requires the provider's calls to be verified by signature" in webhook["message"]
    assert lines[webhook["locations"][0]["line"] - 1].strip() == "post:"
    required = next(f for f in report["findings"] if f["rule_id"] == "sec.api1.object-access-required")
    assert "ORD-1" in required["message"]
    assert "GET /v1/customers/{customerId}/orders" in required["message"]
    flows = sorted(f["title"] for f in report["findings"] if f["rule_id"] == "sec.api6.sensitive-flow")
    assert len(flows) == 2  # ORD-2 places an order, ORD-4 pays
    checklist = {item["key"]: item["status"] for item in report["security"]["checklist"]}
    assert checklist["DP"] == "fail"
    assert checklist["API10"] == "fail"


def test_the_sarif_export_is_valid_sarif_2_1_0(shop_v1: str) -> None:
    with tarfile.open(_tarball("@microsoft/jest-sarif@1.0.0-beta.0")) as archive:
        member = archive.extractfile("package/lib/schemas/sarif-2.1.0-rtm.5.json")
        assert member is not None
        schema = json.loads(member.read())
    sarif = render_sarif(_report(shop_v1))
    jsonschema.Draft7Validator(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    cards = [r for r in results if r["ruleId"] == "sec.dp.card-number-stored"]
    card = next(r for r in cards if r["locations"][0]["physicalLocation"]["region"]["startLine"] == 403)
    assert card["level"] == "error"
    assert card["properties"]["category"] == "DP"
    assert card["properties"]["cwe"] == "CWE-311"
