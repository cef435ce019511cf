"""The query plans as a job: a run that includes them goes to the sandbox queue (served by a worker
of its own), says what it is doing step by step, can be cancelled while it fills tables, and
leaves no sandbox database behind either way."""

import time
from collections.abc import Iterator

import psycopg
import pytest
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from apps.accounts.models import Workspace
from apps.analysis.services import run_queue
from apps.sandbox.services import sandbox_config
from tests.conftest import ROOT
from tests.factories import make_design
from tests.worker import celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LIBRARY = (ROOT / "tests" / "fixtures" / "queryplans-library.md").read_text(encoding="utf-8")


@pytest.fixture
def sandbox_worker(settings: SettingsWrapper, django_db_blocker: object) -> Iterator[str]:
    settings.ANALYSIS_QUEUE = "test-plans-quick"  # no worker: a run sent there would never start
    settings.SANDBOX_QUEUE = "test-plans-sandbox"
    settings.ANALYSIS_SANDBOX_ENABLED = True
    with celery_worker(
        "test-plans-sandbox", env={"QUERYPLANS_MAX_ROWS_PER_TABLE": "400000", "ENDPOINTS_PROOF_ENABLED": "false"}
    ):
        yield "test-plans-sandbox"


def _sandbox_databases() -> set[str]:
    with psycopg.connect(sandbox_config().url(database="postgres"), autocommit=True) as admin:
        return {r[0] for r in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'wb\\_%'")}


def test_a_run_with_query_plans_goes_to_the_sandbox_queue(settings: SettingsWrapper) -> None:
    settings.ANALYSIS_SANDBOX_ENABLED = True
    assert run_queue([]) == settings.SANDBOX_QUEUE  # every analyzer: the query plans among them
    assert run_queue(["queryplans"]) == settings.SANDBOX_QUEUE
    assert run_queue(["security", "traceability"]) == settings.ANALYSIS_QUEUE
    settings.ANALYSIS_SANDBOX_ENABLED = False
    assert run_queue(["queryplans"]) == settings.ANALYSIS_QUEUE  # skipped there, saying why


def _poll(api: APIClient, run_id: int, until, seconds: float = 120) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = api.get(f"/api/v1/runs/{run_id}/").json()
        if until(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} never got there: {body}")


def _plans_stage(body: dict) -> dict:
    return next(s for s in body["stages"] if s["name"] == "queryplans")


def test_the_sandbox_worker_plans_with_progress_and_a_cancel_stops_it_leaving_nothing(
    api: APIClient, owner: object, workspace: Workspace, sandbox_worker: str
) -> None:
    before = _sandbox_databases()
    _, revision = make_design(workspace=workspace, user=owner, document=LIBRARY)
    started = api.post(
        f"/api/v1/revisions/{revision.pk}/runs/", {"only": ["endpoints", "queryplans"]}, format="json"
    ).json()
    # The stage says what it is doing: the tables being filled, by name and rows.
    filling = _poll(api, started["id"], lambda b: _plans_stage(b).get("message", "").startswith("synthetic rows:"))
    assert filling["status"] == "running"
    # The job's own database: one that appeared since it started (the suite runs one job at a time).
    mine = _sandbox_databases() - before
    assert mine
    assert api.post(f"/api/v1/runs/{started['id']}/cancel/").status_code == 200
    ended = _poll(api, started["id"], lambda b: b["status"] != "running")
    assert ended["status"] == "cancelled"
    # The job stops at its next step and drops its database and role.
    deadline = time.monotonic() + 60
    while mine & _sandbox_databases() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not mine & _sandbox_databases()

    # Run again to the end: the report carries the section and its findings.
    done = api.post(f"/api/v1/revisions/{revision.pk}/runs/", {"only": ["endpoints", "queryplans"]}, format="json")
    body = _poll(api, done.json()["id"], lambda b: b["status"] in {"succeeded", "failed"}, seconds=300)
    assert body["status"] == "succeeded", body
    report = api.get(f"/api/v1/runs/{body['id']}/report/").json()
    assert {q["name"] for q in report["queryplans"]["queries"]} >= {"loans_of_member", "listMemberLoans"}
    advised = api.get(f"/api/v1/runs/{body['id']}/findings/?analyzer=queryplans").json()
    assert any(f["rule_id"] == "queryplans.index-advised" for f in advised["results"])
