"""The data migration that drops the findings list a stored report used to hold, and back."""

import importlib
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.accounts.models import Workspace
from apps.analysis.models import AnalysisRun, Finding
from apps.analysis.selectors import run_report_get
from tests.factories import make_design, make_finished_run

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("analysis", "0005_run_finding_count_and_whole_titles")]
STRIP = importlib.import_module("apps.analysis.migrations.0006_strip_findings_from_reports")


def _migrate_back() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(BEFORE)


def _migrate_to_the_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    # Every app's latest: going back unapplied the migrations that depend on analysis (reports, guides...).
    executor.migrate(executor.loader.graph.leaf_nodes())


def _old(report: dict[str, Any]) -> dict[str, Any]:
    """The report with each finding holding only the keys 0006 knew (later ones are columns of
    their own, which a report stored before them cannot fill)."""
    findings = [{key: f[key] for key in STRIP.FINDING_KEYS} for f in report["findings"]]
    return {**report, "findings": findings}


def _without_endpoints(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key != "endpoints"}


def _first_id(run: AnalysisRun, order: str = "id") -> int:
    # Only the id: the other columns of the model may not exist at the old state.
    first = Finding.objects.filter(run=run).order_by(order).values_list("pk", flat=True).first()
    assert first is not None
    return first


def _as_before(run: AnalysisRun, full: dict[str, Any], first: int, long_title: str) -> dict[str, Any]:
    """Make `run` look as the old code stored it: the list in the report, the first title cut."""
    full = _old(full)
    full["findings"][0]["title"] = long_title
    Finding.objects.filter(pk=first).update(title=long_title[:500])
    AnalysisRun.objects.filter(pk=run.pk).update(report=full, finding_count=None)
    return full


def test_reports_lose_their_list_only_when_the_rows_hold_every_finding(
    owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    whole, partial = make_finished_run(revision=revision, user=owner), make_finished_run(revision=revision, user=owner)
    reports = {run.pk: (run_report_get(run=run), _first_id(run), _first_id(run, "-id")) for run in (whole, partial)}
    _migrate_back()
    try:
        long_title = "A finding about " + "a very long name " * 40
        full = _as_before(whole, reports[whole.pk][0], reports[whole.pk][1], long_title)
        listed = _as_before(partial, reports[partial.pk][0], reports[partial.pk][1], long_title)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM analysis_finding WHERE id = %s", [reports[partial.pk][2]])
    finally:
        _migrate_to_the_latest()
    whole.refresh_from_db()
    partial.refresh_from_db()
    assert "findings" not in whole.report
    assert whole.finding_count == len(full["findings"])
    assert _old(run_report_get(run=whole)) == full  # the title is whole again
    assert partial.report["findings"] == listed["findings"]
    assert partial.finding_count == len(listed["findings"]) - 1


def test_going_back_puts_the_list_into_the_report_again(
    owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    long_title = "A finding about " + "a very long name " * 40
    Finding.objects.filter(pk=_first_id(run)).update(title=long_title)
    full = run_report_get(run=run)
    assert full is not None
    try:
        _migrate_back()
        run.refresh_from_db(fields=["report"])
        # The generated endpoints' section is stored packed (apps/endpoints/services.py): the rest
        # of the report is the list restored by 0006's way back.
        assert _without_endpoints(run.report) == _without_endpoints(_old(full))
        first = Finding.objects.filter(run=run).order_by("id").values_list("title", flat=True).first()
        assert first == long_title[:500]
    finally:
        _migrate_to_the_latest()
    run.refresh_from_db()
    assert "findings" not in run.report
    assert _old(run_report_get(run=run)) == _old(full)
