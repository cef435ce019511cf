"""Celery tasks: ids in, a service call, nothing else."""

from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.analysis import services


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError, RedisConnectionError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=settings.ANALYSIS_MAX_RETRIES,
    soft_time_limit=settings.ANALYSIS_SOFT_TIME_LIMIT_SECONDS,
    time_limit=settings.ANALYSIS_HARD_TIME_LIMIT_SECONDS,
)
def run_analysis(self: Any, run_id: int) -> str:
    try:
        return services.run_execute(run_id=run_id)
    except (OperationalError, InterfaceError, RedisConnectionError):
        if self.request.retries >= self.max_retries:
            services.run_fail_unexpected(
                run_id=run_id,
                error="The database or Redis stayed unreachable; start the analysis again later.",
            )
        raise
    except Exception as exc:
        services.run_fail_unexpected(
            run_id=run_id,
            error=f"The analysis stopped on an internal error ({type(exc).__name__}); it has been logged.",
        )
        raise


@shared_task
def reap_stale_runs() -> int:
    return services.run_reap_stale()


run_analysis_task = run_analysis
