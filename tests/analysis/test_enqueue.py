"""Starting a run while Redis is unreachable: a clear message at once, never `queued` for ever."""

import time
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from apps.accounts.models import Workspace
from apps.analysis.models import AnalysisRun, RunStatus
from tests.factories import make_design
from workbench.celery import app

# on_commit must fire inside the request, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

NOTHING_LISTENS = "redis://127.0.0.1:6390/0"


def _drop_broker_connections() -> None:
    """Forget the app's pools so the next publish connects to the current broker URL (kombu keeps
    one pool per URL, so the real broker's stays open for the other tests)."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_down(settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The broker URL points where nothing listens, for Django's settings and the Celery app alike
    (Celery reads CELERY_BROKER_URL from the environment before its configuration)."""
    saved = app.conf.broker_url
    settings.CELERY_BROKER_URL = NOTHING_LISTENS
    monkeypatch.setenv("CELERY_BROKER_URL", NOTHING_LISTENS)
    app.conf.broker_url = NOTHING_LISTENS
    _drop_broker_connections()
    try:
        yield
    finally:
        app.conf.broker_url = saved
        _drop_broker_connections()


def test_starting_a_run_with_redis_down_says_so_within_5_seconds(
    client: Client, owner: object, workspace: Workspace, shop_v1: str, redis_down: None
) -> None:
    design, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    client.force_login(owner)
    began = time.monotonic()
    response = client.post(reverse("analysis:start", args=[design.pk, revision.number]), follow=True)
    took = time.monotonic() - began
    print(f"the not-started message came after {took:.2f} s")
    assert took < 5
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not started: the job queue (Redis) did not answer" in page
    run = AnalysisRun.objects.get()
    assert (run.status, run.task_id, run.started_at) == (RunStatus.FAILED, "", None)
    assert run.error.startswith("Not started")
    assert 'hx-trigger="every' not in page  # the page does not poll a run that will never start


def test_the_api_answers_503_with_the_reason_when_redis_is_down(
    api: APIClient, owner: object, workspace: Workspace, shop_v1: str, redis_down: None
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    began = time.monotonic()
    response = api.post(f"/api/v1/revisions/{revision.pk}/runs/", {}, format="json")
    assert time.monotonic() - began < 5
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failed"
    assert body["detail"].startswith("Not started")
    assert AnalysisRun.objects.get(pk=body["id"]).status == RunStatus.FAILED
