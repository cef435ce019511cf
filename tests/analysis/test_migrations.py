"""The data migration that drops the findings list a stored report used to hold, and back."""

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
AFTER = [("analysis", "0006_strip_findings_from_reports")]


def _migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def _as_before(run: AnalysisRun, long_title: str) -> dict[str, Any]:
    """Make `run` look as the old code stored it: the list in the report, the first title cut."""
    full = run_report_get(run=run)
    assert full is not None
    first = Finding.objects.filter(run=run).order_by("id").first()
    assert first is not None
    full["findings"][0]["title"] = long_title
    Finding.objects.filter(pk=first.pk).update(title=long_title[:500])
    AnalysisRun.objects.filter(pk=run.pk).update(report=full, finding_count=None)
    return full


def test_reports_lose_their_list_only_when_the_rows_hold_every_finding(
    owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    whole, partial = make_finished_run(revision=revision, user=owner), make_finished_run(revision=revision, user=owner)
    _migrate(BEFORE)
    try:
        long_title = "A finding about " + "a very long name " * 40
        full = _as_before(whole, long_title)
        listed = _as_before(partial, long_title)
        Finding.objects.filter(run=partial).order_by("-id").first().delete()  # type: ignore[union-attr]
    finally:
        _migrate(AFTER)
    whole.refresh_from_db()
    partial.refresh_from_db()
    assert "findings" not in whole.report
    assert whole.finding_count == len(full["findings"])
    assert run_report_get(run=whole) == full  # the title is whole again
    assert partial.report["findings"] == listed["findings"]
    assert partial.finding_count == len(listed["findings"]) - 1


def test_going_back_puts_the_list_into_the_report_again(
    owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    long_title = "A finding about " + "a very long name " * 40
    Finding.objects.filter(pk=run.findings.order_by("id").first().pk).update(title=long_title)  # type: ignore[union-attr]
    full = run_report_get(run=run)
    assert full is not None
    try:
        _migrate(BEFORE)
        run.refresh_from_db()
        assert run.report == full
        assert Finding.objects.filter(run=run).order_by("id").first().title == long_title[:500]  # type: ignore[union-attr]
    finally:
        _migrate(AFTER)
    run.refresh_from_db()
    assert "findings" not in run.report
    assert run_report_get(run=run) == full
