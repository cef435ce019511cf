"""Runs on a real Celery worker process with the Redis broker and the test database."""

import signal
import time
from collections.abc import Iterator

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from apps.accounts.models import Workspace
from apps.analysis.models import AnalysisRun, RunStatus
from apps.analysis.tasks import reap_stale_runs
from apps.designs.engine.loader import DesignInput
from apps.designs.services import design_create
from tests.factories import make_design
from tests.worker import celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_queue(settings: SettingsWrapper, django_db_blocker: object) -> Iterator[str]:
    settings.ANALYSIS_QUEUE = "test-analysis"
    settings.SANDBOX_QUEUE = "test-analysis"
    with celery_worker("test-analysis"):
        yield "test-analysis"


def _wait(
    api: APIClient, run_id: int, *, until: set[str], seconds: float = 60, beat: bool = False
) -> tuple[dict, list[int]]:
    """Poll the run through the API; with `beat`, run the periodic reaper first, as beat would."""
    seen: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if beat:
            reap_stale_runs()
        body = api.get(f"/api/v1/runs/{run_id}/").json()
        seen.append(body["progress"])
        if body["status"] in until:
            return body, seen
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not reach {until}: {body}")


def test_a_run_is_done_by_the_worker_with_progress_and_results(
    api: APIClient, owner: object, workspace: Workspace, shop_v1: str, worker_queue: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    started = api.post(f"/api/v1/revisions/{revision.pk}/runs/", {}, format="json").json()
    body, seen = _wait(api, started["id"], until={"succeeded", "failed"})
    assert body["status"] == "succeeded", body
    assert body["progress"] == 100
    assert seen == sorted(seen)
    assert AnalysisRun.objects.get(pk=started["id"]).task_id
    report = api.get(f"/api/v1/runs/{started['id']}/report/").json()
    assert report["design"]["endpoints"]["count"] == 11
    # The worker has the sandbox: the migration preview ran for real.
    assert {a["name"]: a["status"] for a in report["analyzers"]}["migrations"] == "succeeded"
    assert report["migrations"]["forward_sql"].count("CREATE TABLE") == 7
    assert api.get(f"/api/v1/runs/{started['id']}/findings/?analyzer=traceability").json()["count"] == 5


def _slow_design(operations: int) -> str:
    """A large but ordinary OpenAPI document: parsing it keeps a worker busy for seconds."""
    lines = ["openapi: 3.0.3", 'info: {title: big, version: "1"}', "paths:"]
    for i in range(operations):
        lines += [
            f"  /things{i}/{{id}}:",
            "    get:",
            f"      operationId: getThing{i}",
            "      parameters:",
            "        - {name: id, in: path, required: true, schema: {type: integer}}",
            "      responses:",
            '        "200": {description: ok, content: {application/json: {schema: {type: object, properties: {a: {type: string}}}}}}',
        ]
    return "\n".join(lines) + "\n"


def test_a_run_whose_worker_is_killed_does_not_stay_running(
    api: APIClient, owner: object, workspace: Workspace, settings: SettingsWrapper
) -> None:
    settings.ANALYSIS_QUEUE = "test-kill"
    settings.SANDBOX_QUEUE = "test-kill"
    settings.ANALYSIS_STALE_AFTER_SECONDS = 3
    _, revision = design_create(
        workspace=workspace, user=owner, name="Big", texts=DesignInput(openapi=_slow_design(8000))
    )
    with celery_worker("test-kill") as process:
        started = api.post(f"/api/v1/revisions/{revision.pk}/runs/", {}, format="json").json()
        _wait(api, started["id"], until={"running"}, seconds=30)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    # Nothing is left to notice the death but the periodic reaper (the API's GET only reads).
    body, _ = _wait(api, started["id"], until={"failed", "succeeded"}, seconds=30, beat=True)
    assert body["status"] == "failed"
    assert "stopped responding" in body["error"]
    assert AnalysisRun.objects.get(pk=started["id"]).status == RunStatus.FAILED


def test_readyz_sees_the_database_redis_and_a_worker(client: Client, worker_queue: str) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"] == "ok"
    assert checks["workers"].startswith("ok")


def test_readyz_says_which_dependency_is_missing(client: Client, settings: SettingsWrapper, db: None) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("failed")
