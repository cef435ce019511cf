"""A stored run keeps its findings as rows only; its exports are those of the full report."""

import json
from typing import Any

import jsonschema
import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.analysis import services
from apps.analysis.models import AnalysisRun
from apps.analysis.selectors import run_report_get
from apps.designs.models import Revision
from apps.endpoints.services import endpoints_section_unpack
from apps.reports.selectors import report_review_get
from apps.reports.services import report_render
from apps.security.services import suppression_create
from tests.factories import make_design, make_finished_run
from tests.reports.test_report import SCHEMA


def _run_keeping_full_report(
    revision: Revision, user: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> tuple[AnalysisRun, dict[str, Any]]:
    """A run executed by the service, and the whole report it was given to store."""
    stored: list[dict[str, Any]] = []
    real = services._store

    def keep(run: AnalysisRun, report: dict[str, Any], parsed: bool) -> None:
        real(run, report, parsed)
        stored.append(report)  # suppressions applied, findings still in it

    monkeypatch.setattr(services, "_store", keep)
    run = make_finished_run(revision=revision, user=user)
    return run, stored[0]


def _as_read_back_from_jsonb(report: dict[str, Any]) -> dict[str, Any]:
    """The report as a jsonb column gives it back: what the exports read when it held the findings."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::jsonb::text", [json.dumps(report)])
        return json.loads(cursor.fetchone()[0])


@pytest.fixture
def shop_run(
    owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[AnalysisRun, dict[str, Any]]:
    """A second run of the shop design, after a reviewer waived one of the first run's findings."""
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    first = make_finished_run(revision=revision, user=owner)
    suppression_create(
        finding=first.findings.filter(analyzer="security").first(), user=owner, reason="behind the gateway"
    )
    return _run_keeping_full_report(revision, owner, monkeypatch)


def test_a_stored_report_keeps_no_findings_and_the_rows_keep_them_all(
    shop_run: tuple[AnalysisRun, dict[str, Any]],
) -> None:
    run, full = shop_run
    assert "findings" not in run.report
    assert "packed" in run.report["endpoints"]  # the generated files, compressed
    stored = {**run.report, "endpoints": endpoints_section_unpack(run.report["endpoints"])}
    assert {k: v for k, v in full.items() if k != "findings"} == stored
    assert run.finding_count == run.findings.count() == len(full["findings"]) == full["summary"]["total"]


def test_the_report_rebuilt_from_the_rows_is_the_full_one_with_the_same_order(
    shop_run: tuple[AnalysisRun, dict[str, Any]],
) -> None:
    run, full = shop_run
    rebuilt = run_report_get(run=run)
    assert rebuilt is not None
    jsonschema.validate(rebuilt, SCHEMA)
    assert rebuilt == full
    assert [f["fingerprint"] for f in rebuilt["findings"]] == [f["fingerprint"] for f in full["findings"]]
    # The one a reviewer suppressed (carried over by its fingerprint), besides those a rule exempts.
    assert sum(1 for f in rebuilt["findings"] if f["suppressed"] and f["suppressed"]["source"] == "review") == 1


@pytest.mark.parametrize("fmt", ["json", "md", "sarif"])
def test_each_export_is_byte_for_byte_that_of_the_full_report(
    shop_run: tuple[AnalysisRun, dict[str, Any]], client: Client, owner: AbstractBaseUser, fmt: str
) -> None:
    """Before, the exports rendered the report read back from its column, findings included."""
    run, full = shop_run
    client.force_login(owner)
    exported = client.get(reverse("reports:export", args=[run.pk, fmt])).content.decode()
    # The web app's exports carry the run's review (triage, suppressions, checklist verdicts).
    review = report_review_get(run=run)
    assert review["suppressions"] and review["triage"]
    assert exported == report_render(report=_as_read_back_from_jsonb(full), fmt=fmt, review=review)
    if fmt != "json":  # Markdown and SARIF do not depend on the order of a mapping's keys
        assert exported == report_render(report=full, fmt=fmt, review=review)


def test_the_report_api_answers_the_full_report_in_its_stored_key_order(
    shop_run: tuple[AnalysisRun, dict[str, Any]], client: Client, owner: AbstractBaseUser
) -> None:
    run, full = shop_run
    client.force_login(owner)
    answered = json.loads(client.get(f"/api/v1/runs/{run.pk}/report/").content)
    before = _as_read_back_from_jsonb(full)
    assert answered == before
    assert list(answered) == list(before)
    assert [list(f) for f in answered["findings"]] == [list(f) for f in before["findings"]]
