"""The analysis task's delivery guarantees are configuration: check that they are set."""

from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.analysis.models import AnalysisRun, RunStatus
from apps.analysis.services import run_fail_unexpected, run_start
from apps.analysis.tasks import run_analysis
from tests.factories import make_design
from workbench.celery import app


def test_the_task_acks_late_has_time_limits_and_retries_transient_faults(settings: object) -> None:
    assert run_analysis.acks_late is True
    assert run_analysis.reject_on_worker_lost is True
    assert run_analysis.retry_on_worker_lost is True  # a killed pool child's job is sent again (see tasks.py)
    assert set(run_analysis.autoretry_for) == {OperationalError, InterfaceError, RedisConnectionError}
    assert run_analysis.max_retries == settings.ANALYSIS_MAX_RETRIES  # type: ignore[attr-defined]
    assert run_analysis.soft_time_limit == settings.ANALYSIS_SOFT_TIME_LIMIT_SECONDS  # type: ignore[attr-defined]
    assert run_analysis.time_limit == settings.ANALYSIS_HARD_TIME_LIMIT_SECONDS  # type: ignore[attr-defined]
    assert app.conf.worker_prefetch_multiplier == 1


def test_a_task_that_gives_up_leaves_the_run_failed_not_running(owner: object, workspace: object, shop_v1: str) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)  # type: ignore[arg-type]
    run = run_start(revision=revision, user=owner)  # type: ignore[arg-type]
    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    run_fail_unexpected(
        run_id=run.pk, error="The database or Redis stayed unreachable; start the analysis again later."
    )
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "start the analysis again" in run.error
    assert run.finished_at is not None
