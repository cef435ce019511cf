"""Faults around the real worker: a pool child killed mid-job, and /readyz's view of the queues."""

import os
import signal
import time
from collections.abc import Callable

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from apps.accounts.models import Workspace
from apps.analysis.models import AnalysisRun, RunStatus
from apps.designs.engine.loader import DesignInput
from apps.designs.services import design_create
from tests.analysis.test_worker import _slow_design
from tests.worker import celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# A killed child's run must leave `running` this fast: the retry delay the worker is given, the
# main process's reaction and one more analysis of the slow design.
RETRY_DELAY_SECONDS = 1
END_WITHIN_SECONDS = 30


def _until(check: Callable[[], AnalysisRun | None], *, seconds: float) -> AnalysisRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"nothing within {seconds} s")


def _start_and_kill_the_child(api: APIClient, revision_id: int, worker_pid: int) -> tuple[AnalysisRun, float]:
    """Start a run, kill the pool child running it, return the run and the moment of the kill."""
    started = api.post(f"/api/v1/revisions/{revision_id}/runs/", {}, format="json").json()
    run = _until(
        lambda: AnalysisRun.objects.filter(
            pk=started["id"], status=RunStatus.RUNNING, worker_pid__isnull=False
        ).first(),
        seconds=30,
    )
    assert run.worker_pid != worker_pid  # the pool child, not the worker's main process
    time.sleep(0.5)  # well inside the analysis
    os.kill(run.worker_pid, signal.SIGKILL)
    return run, time.monotonic()


def _ended(run_id: int) -> AnalysisRun | None:
    return AnalysisRun.objects.filter(pk=run_id, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]).first()


def test_a_run_whose_pool_child_is_killed_is_run_again_by_the_retry(
    api: APIClient, owner: object, workspace: Workspace, settings: SettingsWrapper
) -> None:
    settings.ANALYSIS_QUEUE = "test-child-kill"
    settings.SANDBOX_QUEUE = "test-child-kill"
    _, revision = design_create(
        workspace=workspace, user=owner, name="Big", texts=DesignInput(openapi=_slow_design(3000))
    )
    env = {"ANALYSIS_WORKER_LOST_RETRY_DELAY_SECONDS": str(RETRY_DELAY_SECONDS)}
    with celery_worker("test-child-kill", pool="prefork", env=env) as process:
        run, killed_at = _start_and_kill_the_child(api, revision.pk, process.pid)
        ended = _until(lambda: _ended(run.pk), seconds=END_WITHIN_SECONDS)
        took = time.monotonic() - killed_at
    print(f"killed child's run ended {ended.status} {took:.1f} s after the kill")
    assert ended.status == RunStatus.SUCCEEDED, ended.error
    assert ended.attempts == 2
    assert ended.claim_retry == 1
    assert ended.worker_pid not in (run.worker_pid, process.pid)  # the pool's new child ran it


def test_a_run_whose_pool_child_is_killed_with_no_retry_left_fails_with_the_reason(
    api: APIClient, owner: object, workspace: Workspace, settings: SettingsWrapper
) -> None:
    settings.ANALYSIS_QUEUE = "test-child-kill-final"
    settings.SANDBOX_QUEUE = "test-child-kill-final"
    _, revision = design_create(
        workspace=workspace, user=owner, name="Big", texts=DesignInput(openapi=_slow_design(3000))
    )
    env = {"ANALYSIS_MAX_RETRIES": "0", "ANALYSIS_WORKER_LOST_RETRY_DELAY_SECONDS": str(RETRY_DELAY_SECONDS)}
    with celery_worker("test-child-kill-final", pool="prefork", env=env) as process:
        run, killed_at = _start_and_kill_the_child(api, revision.pk, process.pid)
        ended = _until(lambda: _ended(run.pk), seconds=END_WITHIN_SECONDS)
        took = time.monotonic() - killed_at
    print(f"killed child's run ended {ended.status} {took:.1f} s after the kill")
    assert ended.status == RunStatus.FAILED
    assert "worker process running this analysis was lost" in ended.error
    assert "SIGKILL" in ended.error
    assert took < settings.ANALYSIS_STALE_AFTER_SECONDS  # not left for the reaper
    assert {s["state"] for s in ended.stages} <= {"succeeded", "skipped", "failed"}


def test_readyz_fails_when_no_worker_consumes_the_analysis_queue(
    client: Client, settings: SettingsWrapper, db: None
) -> None:
    settings.ANALYSIS_QUEUE = "test-ready-analysis"
    settings.SANDBOX_QUEUE = "test-ready-analysis"
    with celery_worker("test-ready-other"):
        response = client.get("/readyz")
    assert response.status_code == 503, response.json()
    assert "test-ready-analysis" in response.json()["checks"]["workers"]


def test_readyz_fails_when_no_worker_consumes_the_sandbox_queue(
    client: Client, settings: SettingsWrapper, db: None
) -> None:
    settings.ANALYSIS_QUEUE = "test-ready-analysis"
    settings.SANDBOX_QUEUE = "test-ready-sandbox"
    settings.ANALYSIS_SANDBOX_ENABLED = True
    with celery_worker("test-ready-analysis"):
        response = client.get("/readyz")
    assert response.status_code == 503, response.json()
    assert "sandbox (query plans) queue 'test-ready-sandbox'" in response.json()["checks"]["workers"]


def test_readyz_passes_when_a_worker_consumes_the_analysis_queue(
    client: Client, settings: SettingsWrapper, db: None
) -> None:
    settings.ANALYSIS_QUEUE = "test-ready-analysis"
    settings.SANDBOX_QUEUE = "test-ready-analysis"
    with celery_worker("test-ready-analysis"):
        response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["workers"].startswith("ok")
