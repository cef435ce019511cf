"""Security findings the generated endpoints answer are marked resolved by generation, and stay open."""

from typing import Any

import jsonschema
import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from apps.accounts.models import Workspace
from apps.analysis.engine.pipeline import analyze
from apps.designs.engine.findings import Finding
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput
from apps.designs.engine.model import SourceRef
from apps.endpoints.engine.resolved import resolved_by_generation
from apps.reports.engine.report import build_report, render_markdown
from tests.factories import make_design, make_finished_run
from tests.reports.test_report import SCHEMA


def _finding(rule: str, *pointers: str) -> Finding:
    return Finding(
        analyzer="security",
        rule_id=rule,
        severity="high",
        title="t",
        message="m",
        fix="f",
        locations=tuple(SourceRef(document="d.md", pointer=p, line=1) for p in pointers),
        fingerprint=rule + "".join(pointers),
    )


def _op(pointer: str, *enforces: tuple[str, str], generated: bool = True) -> dict[str, Any]:
    return {
        "pointer": pointer,
        "generated": generated,
        "view": "OrdersView",
        "enforces": [{"kind": k, "detail": d} for k, d in enforces],
    }


ORDERS_POST = "/paths/~1orders/post"


def test_a_privileged_field_the_generated_serializer_keeps_read_only_is_marked() -> None:
    finding = _finding(
        "sec.api3.privileged-field-writable", "/components/schemas/OrderCreate/properties/status", ORDERS_POST
    )
    [marked] = resolved_by_generation([finding], [_op(ORDERS_POST, ("read-only", "status"))])
    assert marked.resolved_by is not None and marked.resolved_by["source"] == "generation"
    assert "OrdersView keeps the field read-only" in marked.resolved_by["reason"]
    assert marked.suppressed is None  # still open: the pasted design has the gap


def test_nothing_is_marked_that_the_code_does_not_enforce_exactly() -> None:
    status = "/components/schemas/OrderCreate/properties/status"
    cases = [
        # another field kept read-only than the one the finding names
        (
            _finding("sec.api3.privileged-field-writable", status, ORDERS_POST),
            [_op(ORDERS_POST, ("read-only", "role"))],
        ),
        # the operation was not generated
        (
            _finding("sec.api3.privileged-field-writable", status, ORDERS_POST),
            [_op(ORDERS_POST, ("read-only", "status"), generated=False)],
        ),
        # one of the finding's two operations does not cap its pages
        (
            _finding("sec.api4.unbounded-page-size", "/paths/~1a/get/parameters/0", "/paths/~1b/get/parameters/0"),
            [_op("/paths/~1a/get", ("page-size-cap", "API_MAX_PAGE_SIZE")), _op("/paths/~1b/get")],
        ),
        # a rule the generated code does not answer
        (_finding("sec.api10.unsigned-webhook", ORDERS_POST), [_op(ORDERS_POST, ("authentication", ""))]),
        # a finding in no operation (a component only)
        (_finding("sec.api3.privileged-field-writable", status), [_op(ORDERS_POST, ("read-only", "status"))]),
        # each operation must keep the named field read-only, not some field: B keeps only is_admin
        (
            _finding("sec.api3.privileged-field-writable", status, "/paths/~1a/post", "/paths/~1b/post"),
            [_op("/paths/~1a/post", ("read-only", "status")), _op("/paths/~1b/post", ("read-only", "is_admin"))],
        ),
        # a callback's payload: a request the API sends, which no generated view makes
        (
            _finding(
                "sec.api3.secret-in-response",
                "/paths/~1payments/post/callbacks/paid/{$request.body#~1url}/post/requestBody/content/"
                "application~1json/schema/properties/card_number",
            ),
            [_op("/paths/~1payments/post", ("secret-omitted", "card_number"))],
        ),
    ]
    for finding, operations in cases:
        assert [f.resolved_by for f in resolved_by_generation([finding], operations)] == [None], finding.rule_id


def test_the_shop_reports_what_generation_resolves_and_keeps_those_findings_open(shop_v1: str) -> None:
    outcome = analyze(DesignInput(document=shop_v1, document_name="v1-design.md"), limits=ParseLimits())
    report = build_report(outcome, generated_at="2026-01-01T00:00:00+00:00", tool_version="1.0")
    jsonschema.validate(report, SCHEMA)
    resolved = sorted(
        (f["rule_id"], tuple(f["endpoints"])) for f in report["findings"] if f.get("resolved_by") is not None
    )
    assert resolved == [
        ("sec.api1.object-access-required", ("GET /customers/{customerId}/orders",)),
        # The webhook's receiver checks the signature ORD-4 requires, which also authenticates it.
        ("sec.api10.unsigned-webhook", ("POST /webhooks/payments",)),
        ("sec.api2.unauthenticated-write", ("POST /webhooks/payments",)),
        ("sec.api3.privileged-field-writable", ("PATCH /customers/{customerId}",)),
        ("sec.api3.privileged-field-writable", ("POST /orders",)),
        ("sec.api4.unbounded-page-size", ("GET /orders",)),
        ("sec.api5.role-required", ("GET /admin/customers/{customerId}/export",)),
        ("sec.api5.role-required", ("GET /orders",)),
    ]
    assert all(f["suppressed"] is None for f in report["findings"] if f.get("resolved_by"))
    # Only the security review's own run (without the endpoints) marks nothing.
    alone = analyze(
        DesignInput(document=shop_v1, document_name="v1-design.md"), limits=ParseLimits(), only=("security",)
    )
    assert not [f for f in alone.findings if f.resolved_by]
    markdown = render_markdown(report)
    assert "*Resolved by the generated endpoints:* In the generated endpoints, V1OrdersView caps each page" in markdown


@pytest.mark.django_db
def test_a_stored_run_keeps_the_mark_and_the_run_page_and_api_show_it(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    marked = run.findings.filter(resolved_by__source="generation")
    assert marked.count() == 8
    page_size = marked.get(rule_id="sec.api4.unbounded-page-size")
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/?rule=sec.api4.unbounded-page-size").content.decode()
    block = page.split(f'id="resolved-{page_size.pk}"', 1)[1].split("</div>", 1)[0]
    assert "resolved by generation" in block and "V1OrdersView caps each page at API_MAX_PAGE_SIZE" in block
    api = client.get(f"/api/v1/runs/{run.pk}/findings/?rule_id=sec.api4.unbounded-page-size").json()
    rows = api["results"] if isinstance(api, dict) else api
    assert rows[0]["resolved_by"]["source"] == "generation" and rows[0]["suppressed"] is None
