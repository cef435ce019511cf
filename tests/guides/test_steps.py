"""The guide's steps, built by a pure function from a report and its findings (no database)."""

from typing import Any

import pytest

from apps.analysis.engine.pipeline import analyze
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput
from apps.guides.engine.steps import KEY_PATTERN, build_steps, design_facts, team_steps
from apps.reports.engine.report import build_report

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


@pytest.fixture(scope="module")
def shop_report() -> dict[str, Any]:
    from tests.conftest import CORPUS

    document = (CORPUS / "shop" / "v1-design.md").read_text(encoding="utf-8")
    outcome = analyze(DesignInput(document=document, document_name="v1-design.md"), limits=ParseLimits())
    return build_report(outcome, generated_at="2026-01-01T00:00:00+00:00", tool_version="1")


def _by_key(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in steps}


def test_the_shop_guide_asks_for_object_level_authorization_on_the_bola_endpoints(shop_report: dict) -> None:
    steps = build_steps(report=shop_report, findings=shop_report["findings"])
    bola = [f for f in shop_report["findings"] if f["category"].startswith("API1:") and not f["suppressed"]]
    endpoints = {e for f in bola for e in f["endpoints"]}
    step = _by_key(steps)["authz-objects"]
    assert step["title"] == f"Check object-level authorization on these {len(endpoints)} endpoints"
    assert set(step["details"]) == endpoints
    assert {e["fingerprint"] for e in step["evidence"] if e["kind"] == "finding"} == {f["fingerprint"] for f in bola}
    assert all(e["line"] for e in step["evidence"] if e["kind"] == "source")
    assert step["why"] and step["how"] and step["good"]
    # Several findings of one rule read apart: each label names the finding's endpoint.
    labels = [e["label"] for e in step["evidence"] if e["kind"] == "finding"]
    assert len(set(labels)) == len(labels)
    by_print = {f["fingerprint"]: f for f in bola}
    for e in step["evidence"]:
        if e["kind"] == "finding" and by_print[e["fingerprint"]]["endpoints"]:
            assert by_print[e["fingerprint"]]["endpoints"][0] in e["label"]


def test_the_owasp_checklist_is_one_section_with_the_same_items(shop_report: dict) -> None:
    steps = build_steps(report=shop_report, findings=shop_report["findings"])
    security = [s for s in steps if s["section"] == "security"]
    checklist = shop_report["security"]["checklist"]
    assert [s["key"] for s in security] == [f"owasp-{i['key'].lower()}" for i in checklist]
    assert [(s["status"], s["findings"]) for s in security] == [(i["status"], i["findings"]) for i in checklist]
    assert steps[-len(security) :] == security  # after the guided steps
    # Each item says what harm it prevents, not its own title again.
    for step, item in zip(security, checklist, strict=True):
        assert item["title"] not in step["why"] and len(step["why"]) > 60
    assert len({s["why"] for s in security}) == len(security)


def test_guided_steps_come_most_severe_first_with_id_safe_keys(shop_report: dict) -> None:
    steps = build_steps(report=shop_report, findings=shop_report["findings"])
    review = [s for s in steps if s["section"] == "review"]
    ranks = [SEVERITY_ORDER.index(s["severity"]) for s in review]
    assert ranks == sorted(ranks)
    assert {"sensitive-data", "auth-writes", "function-authz", "trace-gaps"} <= {s["key"] for s in review}
    assert all(KEY_PATTERN.match(s["key"]) for s in steps)
    assert len({s["key"] for s in steps}) == len(steps)
    again = build_steps(report=shop_report, findings=shop_report["findings"])
    assert [s["key"] for s in again] == [s["key"] for s in steps]


def test_suppressed_findings_ask_nothing(shop_report: dict) -> None:
    findings = [
        {**f, "suppressed": {"source": "review"}} if f["rule_id"] == "sec.api2.unauthenticated-write" else f
        for f in shop_report["findings"]
    ]
    assert "auth-writes" not in _by_key(build_steps(report=shop_report, findings=findings))


def _statement(sql: str, risk: str, rows: int = 40_000_000) -> dict[str, Any]:
    return {"sql": sql, "risk": risk, "rows": rows, "lock_level": "ACCESS EXCLUSIVE", "table": "orders"}


def test_migrations_plans_and_endpoints_sections_yield_their_steps() -> None:
    report = {
        "design": {"endpoints": {"count": 2}},
        "migrations": {
            "statements": [
                _statement('ALTER TABLE "payments" DROP COLUMN "card_number";', "low"),
                _statement('ALTER TABLE "orders" ADD COLUMN "channel" varchar(16) NOT NULL;', "high"),
                _statement('CREATE TABLE "shipments" ("id" bigint);', "none", 0),
            ],
            "rollback_proven": {"proven": False, "reason": "the data of payment.card_number is lost"},
        },
        "queryplans": {
            "queries": [
                {
                    "name": "customer_orders_page",
                    "story": "ORD-1",
                    "advice": [
                        {"sql": "CREATE INDEX CONCURRENTLY ON orders (customer_id);", "why": "the cost falls by 78%"}
                    ],
                    "over_budget": False,
                },
                {
                    "name": "support_search",
                    "story": "ORD-3",
                    "advice": [],
                    "over_budget": True,
                    "scaled_ms": 5261.2,
                    "budget_ms": 500,
                },
            ]
        },
        "endpoints": {
            "operations": [
                {"method": "GET", "path": "/a", "generated": True},
                {"method": "POST", "path": "/b", "generated": False, "reason": "no table"},
            ]
        },
    }
    steps = _by_key(build_steps(report=report, findings=[]))
    rollback = steps["migration-rollback"]
    assert rollback["title"] == "Confirm the rollback of this migration loses no data"
    assert rollback["details"][0] == 'ALTER TABLE "payments" DROP COLUMN "card_number";'
    assert "Rollback: the data of payment.card_number is lost" in rollback["details"]
    assert {"kind": "tab", "tab": "migrations", "label": "Migrations tab"} in rollback["evidence"]
    assert steps["migration-locks"]["details"] == [
        'ALTER TABLE "orders" ADD COLUMN "channel" varchar(16) NOT NULL; (ACCESS EXCLUSIVE, 40,000,000 rows)'
    ]
    assert steps["index-ord-1"]["title"] == "Verify the index advice for ORD-1"
    assert steps["index-ord-1"]["details"] == [
        "CREATE INDEX CONCURRENTLY ON orders (customer_id); (the cost falls by 78%)"
    ]
    assert "5,261 ms" in steps["latency-ord-3"]["details"][0]
    assert steps["endpoints-not-generated"]["details"] == ["POST /b: no table"]


def test_two_subjects_that_slug_alike_get_distinct_keys() -> None:
    advice = [{"sql": "CREATE INDEX ON t (a);"}]
    report = {"queryplans": {"queries": [{"story": "ORD 1", "advice": advice}, {"story": "ord-1", "advice": advice}]}}
    assert [s["key"] for s in build_steps(report=report, findings=[])] == ["index-ord-1", "index-ord-1-2"]


def test_team_steps_apply_by_their_condition() -> None:
    templates = [
        {"id": 7, "title": "Check the runbook", "why": "", "how": "", "good": "", "condition": "always"},
        {"id": 8, "title": "Check the API changelog", "why": "", "how": "", "good": "", "condition": "endpoints"},
    ]
    without_api = design_facts({"design": {"endpoints": {"count": 0}}})
    with_api = design_facts({"design": {"endpoints": {"count": 3}}})
    assert [s["key"] for s in team_steps(templates=templates, facts=without_api)] == ["team-7"]
    assert [s["key"] for s in team_steps(templates=templates, facts=with_api)] == ["team-7", "team-8"]
    assert {s["section"] for s in team_steps(templates=templates, facts=with_api)} == {"team"}


def test_a_finding_whose_endpoints_were_cut_says_at_least() -> None:
    many = [f"GET /repos/{n}" for n in range(20)]  # the ranking names at most 20 per finding
    finding = {"fingerprint": "f1", "rule_id": "sec.api1.numeric-id", "category": "API1:2023", "severity": "low"}
    finding |= {"title": "Object id is a guessable integer", "endpoints": many, "locations": []}
    [step] = [s for s in build_steps(report={}, findings=[finding]) if s["key"] == "authz-objects"]
    assert step["title"] == "Check object-level authorization on at least 20 endpoints"
    [one] = [
        s for s in build_steps(report={}, findings=[{**finding, "endpoints": many[:1]}]) if s["key"] == "authz-objects"
    ]
    assert one["title"] == "Check object-level authorization on this endpoint"
