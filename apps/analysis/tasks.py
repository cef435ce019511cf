"""Celery tasks: ids in, a service call, nothing else.

What happens when the process running an analysis dies:

- Its prefork pool child is killed (out of memory, `kill -9`, the hard time limit): the worker's
  main process sees the child go and, with `retry_on_worker_lost`, sends the task again as a
  retry (Celery retry number + 1) after ANALYSIS_WORKER_LOST_RETRY_DELAY_SECONDS. That retry
  takes the run over at once (`services._claim` trusts a higher retry number over a heartbeat
  the dead child wrote moments ago) and runs it again. Once ANALYSIS_MAX_RETRIES retries are
  spent, Celery fails the task with WorkerLostError in the main process; `_fail_lost_run` then
  fails the run with that reason. Either way the run leaves `running` within about
  ANALYSIS_WORKER_LOST_RETRY_DELAY_SECONDS plus the main process's reaction (about a second).
- The whole worker dies: nothing is left to notice, the message stays unacknowledged in Redis
  until the visibility timeout, and the reaper (beat, every ANALYSIS_STALE_AFTER_SECONDS, and the
  run page's status poll) fails the run ANALYSIS_STALE_AFTER_SECONDS after its last heartbeat. The
  message that comes back later finds the run finished and is dropped.
"""

from typing import Any

from billiard.exceptions import WorkerLostError
from celery import shared_task
from celery.exceptions import TimeLimitExceeded
from celery.signals import task_failure
from django.conf import settings
from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.analysis import services


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,  # used only if sending the worker-lost retry fails
    retry_on_worker_lost=True,
    default_retry_delay=settings.ANALYSIS_WORKER_LOST_RETRY_DELAY_SECONDS,
    autoretry_for=(OperationalError, InterfaceError, RedisConnectionError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=settings.ANALYSIS_MAX_RETRIES,
    soft_time_limit=settings.ANALYSIS_SOFT_TIME_LIMIT_SECONDS,
    time_limit=settings.ANALYSIS_HARD_TIME_LIMIT_SECONDS,
)
def run_analysis(self: Any, run_id: int) -> str:
    try:
        return services.run_execute(run_id=run_id, retry=self.request.retries)
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


@task_failure.connect
def _fail_lost_run(sender: Any = None, exception: BaseException | None = None, args: Any = None, **_: Any) -> None:
    """Runs in the worker's main process when the pool child running the job is gone for good."""
    if getattr(sender, "name", None) != run_analysis.name or not args:
        return
    if isinstance(exception, WorkerLostError):
        reason = (
            f"The worker process running this analysis was lost ({exception}) on each of its "
            f"{settings.ANALYSIS_MAX_RETRIES + 1} attempts, most likely killed for lack of memory. "
            "Analyse fewer parts at once (choose analyzers) or give the worker more memory."
        )
    elif isinstance(exception, TimeLimitExceeded):
        reason = (
            f"The analysis passed the hard time limit ({settings.ANALYSIS_HARD_TIME_LIMIT_SECONDS} s) and its "
            "process was stopped. Analyse fewer parts at once or raise ANALYSIS_HARD_TIME_LIMIT_SECONDS."
        )
    else:
        return  # the task body already failed the run
    services.run_fail_worker_lost(run_id=int(args[0]), reason=reason)


@shared_task
def reap_stale_runs() -> int:
    return services.run_reap_stale()


run_analysis_task = run_analysis
