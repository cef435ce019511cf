"""How a run is stored: findings once, as rows; a report small enough to read often."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import Workspace
from apps.analysis import services
from apps.analysis.models import AnalysisRun
from apps.designs.engine.loader import DesignInput
from apps.designs.services import design_create
from tests.factories import make_design, make_finished_run
from tests.public_specs import SPECS, spec_path

GITHUB = SPECS[0]


def test_a_run_of_githubs_rest_description_stores_a_report_under_1_mb(
    owner: AbstractBaseUser, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = spec_path(GITHUB)
    _, revision = design_create(
        workspace=workspace,
        user=owner,
        name="GitHub",
        texts=DesignInput(openapi=path.read_text(encoding="utf-8"), field_names=(("openapi", path.name),)),
    )
    given: list[dict[str, Any]] = []
    real = services._store

    def keep(run: AnalysisRun, report: dict[str, Any], parsed: bool) -> None:
        real(run, report, parsed)
        given.append(report)

    monkeypatch.setattr(services, "_store", keep)
    run = make_finished_run(revision=revision, user=owner)
    full = given[0]
    stored_bytes = len(json.dumps(run.report).encode())
    full_bytes = len(json.dumps(full).encode())
    sizes = f"stored {stored_bytes:,} B; with its {len(full['findings']):,} findings {full_bytes:,} B"
    assert run.status == "succeeded"
    assert stored_bytes < 1024 * 1024, sizes
    # Its 51,022 places are design-level gaps for the most part: a hundred-odd findings hold them.
    assert sum(len(f["locations"]) for f in full["findings"]) > 40_000
    assert run.findings.count() == run.finding_count == len(full["findings"])


def _statements_on(table: str, queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if f'"{table}"' in q["sql"]]


def test_the_run_list_api_reads_no_report_and_no_finding(
    api: APIClient, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    runs = [make_finished_run(revision=revision, user=owner) for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/v1/runs/").json()
    assert [r["finding_count"] for r in body["results"]] == [run.findings.count() for run in reversed(runs)]
    assert _statements_on("analysis_analysisrun", queries)
    assert not [sql for sql in _statements_on("analysis_analysisrun", queries) if '"report"' in sql]
    assert not _statements_on("analysis_finding", queries)
    assert len(queries.captured_queries) <= 4  # the token (read, last used), the count, the page: none per run


def test_the_revision_page_lists_runs_without_reading_reports_or_counting_rows(
    client: Client,
    owner: AbstractBaseUser,
    workspace: Workspace,
    shop_v1: str,
    django_assert_max_num_queries: Any,
) -> None:
    design, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    runs = [make_finished_run(revision=revision, user=owner) for _ in range(3)]
    client.force_login(owner)
    # Eight for the page and its runs, four for the review's threads and verdicts, one for the
    # diagram's tables (the traceability section's entities alone, never a whole report).
    with django_assert_max_num_queries(13) as queries:
        page = client.get(reverse("designs:revision", args=[design.pk, revision.number])).content.decode()
    assert not [sql for sql in _statements_on("analysis_analysisrun", queries) if '"report"' in sql]
    assert not _statements_on("analysis_finding", queries)
    for run in runs:
        assert f"#{run.pk}</a>" in page
    assert page.count(f"<td>{runs[0].finding_count}</td>") == 3
