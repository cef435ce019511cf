"""Analysis runs: start, execute (in the Celery worker), cancel, and reap the ones whose worker died.

Progress and liveness live in the AnalysisRun row, not in Celery's result backend: an unknown
task id looks the same as a queued one there, and results expire.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import orjson
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import JSONField, Value
from django.db.models.functions import Cast
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError
from psycopg import sql
from psycopg.types.json import Jsonb
from redis.exceptions import RedisError

from apps.analysis.engine.pipeline import (
    STAGES,
    AnalysisStopped,
    AnalyzerContext,
    UnknownAnalyzerError,
    analyze,
    select_analyzers,
)
from apps.analysis.models import TERMINAL_STATUSES, AnalysisRun, Finding, RenameMode, RunStatus
from apps.designs.engine.bulk import bulk_step
from apps.designs.engine.findings import severity_rank
from apps.designs.models import Revision
from apps.designs.services import parse_limits, revision_input
from apps.endpoints.services import endpoints_section_pack
from apps.reports.engine.report import build_report
from apps.sandbox.services import sandbox_factory
from apps.security.services import apply_suppressions

logger = logging.getLogger(__name__)


class RunCancelled(AnalysisStopped):
    """Raised inside a running job when its run was cancelled meanwhile (from the progress
    callback: an analyzer that reports progress, the query plans' each step, stops there)."""


@functools.cache  # the installed distribution's metadata is read once per process
def tool_version() -> str:
    try:
        return version("backend-design-workbench")
    except PackageNotFoundError:  # running from a plain checkout
        return "0.0.0"


def analyzer_context(*, with_sandbox: bool, with_proof: bool = False, detect_renames: bool = True) -> AnalyzerContext:
    """What the analyzers get from the edge: the sandbox (when wanted) and the settings they use.

    The generated endpoints' proof (child processes on a sandbox database, minutes at worst) is
    given only with both the sandbox and `with_proof` (the worker: ENDPOINTS_PROOF_ENABLED; the
    analyze command: --prove); a web request never analyses, so never proves."""
    prove = None
    if with_sandbox and with_proof:
        from apps.endpoints.proof import endpoints_prove, proof_bound_seconds

        prove = endpoints_prove
    return AnalyzerContext(
        sandbox=sandbox_factory() if with_sandbox else None,
        prove=prove,
        prove_limit_seconds=proof_bound_seconds() if prove is not None else 0,
        safe_lock_timeout_ms=settings.MIGRATION_SAFE_LOCK_TIMEOUT_MS,
        safe_statement_timeout_ms=settings.MIGRATION_SAFE_STATEMENT_TIMEOUT_MS,
        stamp=timezone.now().strftime("%Y%m%d_%H%M"),
        calibration_rows=(
            settings.MIGRATION_CALIBRATION_SMALL_ROWS,
            settings.MIGRATION_CALIBRATION_MIDDLE_ROWS,
            settings.MIGRATION_CALIBRATION_LARGE_ROWS,
        ),
        calibration_max_tables=settings.MIGRATION_CALIBRATION_MAX_TABLES,
        detect_renames=detect_renames,
        endpoints_max_page_size=settings.ENDPOINTS_MAX_PAGE_SIZE,
        endpoints_max_operations=settings.ENDPOINTS_MAX_OPERATIONS,
        plans_max_rows=settings.QUERYPLANS_MAX_ROWS_PER_TABLE,
        plans_default_rows=settings.QUERYPLANS_DEFAULT_ROWS,
        plans_query_timeout_ms=settings.QUERYPLANS_QUERY_TIMEOUT_MS,
        plans_fill_timeout_ms=settings.QUERYPLANS_FILL_TIMEOUT_MS,
        plans_min_gain=settings.QUERYPLANS_MIN_GAIN,
        plans_max_queries=settings.QUERYPLANS_MAX_QUERIES,
        plans_min_rows=settings.QUERYPLANS_MIN_ROWS_PER_TABLE,
        plans_max_total_rows=settings.QUERYPLANS_MAX_TOTAL_ROWS,
        plans_max_parameters=settings.QUERYPLANS_MAX_PARAMETERS,
        plans_slow_ms=settings.QUERYPLANS_SLOW_MS,
    )


def _initial_stages() -> list[dict[str, Any]]:
    return [{"name": name, "state": "pending", "duration_ms": None} for name in STAGES]


def _stages_ended(stages: list[dict[str, Any]], state: str) -> list[dict[str, Any]]:
    """The stages of a run that ended early: those still pending or running take `state`."""
    return [{**stage, "state": state} if stage["state"] in {"pending", "running"} else stage for stage in stages]


def run_start(
    *,
    revision: Revision,
    user: AbstractBaseUser | None,
    only: list[str] | None = None,
    base_revision: Revision | None = None,
    renames: str = RenameMode.DETECT,
) -> AnalysisRun:
    """Queue an analysis of the revision; the job is sent once the row is committed.

    When the broker cannot take the job, the run comes back failed with a `not started` error
    (see `_enqueue`) rather than queued for ever.
    """
    try:
        selected = list(select_analyzers(tuple(only) if only else None)) if only else []
    except UnknownAnalyzerError as exc:
        raise ValidationError({"only": str(exc)}) from None
    if base_revision is not None and base_revision.design_id != revision.design_id:
        raise ValidationError({"base_revision": "The base must be a revision of the same design."})
    if renames not in RenameMode.values:
        raise ValidationError({"renames": f"Choose one of: {', '.join(RenameMode.values)}."})
    from apps.analysis.tasks import run_analysis_task

    with transaction.atomic():
        run = AnalysisRun.objects.create(
            revision=revision,
            base_revision=base_revision,
            only=selected,
            renames=renames,
            created_by=user,
            stages=_initial_stages(),
        )
        transaction.on_commit(lambda: _enqueue(run, run_analysis_task))
    return run


NOT_STARTED_ERROR = (
    "Not started: the job queue (Redis) did not answer, so nothing was analysed. "
    "Start the analysis again in a minute; if this persists, the workbench's Redis is down."
)


def run_queue(only: list[str]) -> str:
    """The queue a run's job goes to: the sandbox queue when it plans queries (minutes in the
    sandbox, on workers of their own concurrency), the analysis queue otherwise."""
    plans = "queryplans" in (only or select_analyzers(None)) and settings.ANALYSIS_SANDBOX_ENABLED
    return settings.SANDBOX_QUEUE if plans else settings.ANALYSIS_QUEUE


def _enqueue(run: AnalysisRun, task: Any) -> None:
    """Send the job; when the broker is unreachable, mark the run failed as not started.

    The publish is bounded: each connection attempt gives up after
    CELERY_BROKER_CONNECT_TIMEOUT_SECONDS and it is retried ANALYSIS_ENQUEUE_MAX_RETRIES times,
    so the user hears within a few seconds instead of the request hanging on kombu's retries.
    """
    try:
        result = task.apply_async(
            (run.pk,),
            queue=run_queue(run.only),
            retry=True,
            retry_policy={
                "max_retries": settings.ANALYSIS_ENQUEUE_MAX_RETRIES,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.5,
            },
        )
    except (BrokerOperationalError, RedisError, OSError):
        logger.exception("could not send the analysis job", extra={"run_id": run.pk})
        now = timezone.now()
        run.status, run.error, run.finished_at = RunStatus.FAILED, NOT_STARTED_ERROR, now
        run.stages = _stages_ended(run.stages, "skipped")
        AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=run.status, error=run.error, finished_at=now, stages=run.stages
        )
        return
    run.task_id = result.id or ""
    AnalysisRun.objects.filter(pk=run.pk, task_id="").update(task_id=run.task_id)


def run_cancel(*, run: AnalysisRun) -> AnalysisRun:
    """Cancel at once in the UI. A job already running notices at its next stage and stops.

    The row is locked so that a stage the job finishes meanwhile is either written before the
    cancel (and kept) or refused after it (the job's update requires `running`); the stages still
    pending or running are shown cancelled.
    """
    with transaction.atomic():
        locked = (
            AnalysisRun.objects.select_for_update()
            .filter(pk=run.pk, status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
            .first()
        )
        updated = 0
        if locked is not None:
            updated = AnalysisRun.objects.filter(pk=run.pk).update(
                status=RunStatus.CANCELLED,
                finished_at=timezone.now(),
                error="Cancelled by a user.",
                stages=_stages_ended(locked.stages, "cancelled"),
            )
    if updated and run.task_id:
        from workbench.celery import app

        app.control.revoke(run.task_id)  # a queued message is dropped by the worker that gets it
    run.refresh_from_db()
    return run


class _Heartbeat(threading.Thread):
    """Writes heartbeat_at while the job runs: when the worker dies, the writes stop."""

    def __init__(self, run_id: int, interval: float) -> None:
        super().__init__(name=f"heartbeat-{run_id}", daemon=True)
        self.run_id = run_id
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                AnalysisRun.objects.filter(pk=self.run_id, status=RunStatus.RUNNING).update(heartbeat_at=timezone.now())
        finally:
            connection.close()


def _claim(run_id: int, now: datetime, retry: int) -> AnalysisRun | None:
    """Mark the run running for this job, or return None when another job owns it or it ended.

    `retry` is Celery's retry number of this delivery. Celery sends a retry (number + 1) only
    after the previous attempt ended: it raised a transient error, or its pool process was killed
    (`retry_on_worker_lost`, sent by the worker's main process). So a delivery numbered above the
    claiming job's takes the run over at once, whatever its heartbeat says; the dead process's
    heartbeat may still look fresh. A delivery with the claiming job's own number is a duplicate
    (the broker's visibility timeout ran out, or a whole worker died and its message came back):
    dropped while the heartbeat is fresh, taking over once it is stale. Older numbers are dropped.
    """
    stale_before = now - timedelta(seconds=settings.ANALYSIS_STALE_AFTER_SECONDS)
    with transaction.atomic():
        run = AnalysisRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status in TERMINAL_STATUSES:
            return None
        if run.status == RunStatus.RUNNING:
            owner = run.claim_retry or 0
            fresh = run.heartbeat_at is not None and run.heartbeat_at > stale_before
            if retry < owner or (retry == owner and fresh):
                return None
        run.status = RunStatus.RUNNING
        run.claim_retry = retry
        run.worker_pid = os.getpid()
        run.attempts += 1
        run.started_at = now
        run.heartbeat_at = now
        run.progress = 0
        run.stages = _initial_stages()
        run.error = ""
        run.save(
            update_fields=[
                "status",
                "claim_retry",
                "worker_pid",
                "attempts",
                "started_at",
                "heartbeat_at",
                "progress",
                "stages",
                "error",
            ]
        )
        return run


@contextmanager
def _progress_not_flushed() -> Iterator[None]:
    """While the analyzers run, this connection's commits (the progress updates, a dozen a run)
    return without waiting for the WAL to reach the disk, the bulk of each update's time.

    Only durability changes: every other connection sees an update as soon as it is committed,
    as before. A database crash may lose the last fraction of a second of progress, which a
    crashed database makes moot anyway (the run is reaped or retried); the claim before and the
    stored report after are committed durably, as before."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def run_execute(*, run_id: int, retry: int = 0) -> str:
    """Run the pipeline for one AnalysisRun and store its report and findings. Idempotent.

    `retry` is the delivery's Celery retry number (see `_claim`).
    """
    now = timezone.now()
    run = _claim(run_id, now, retry)
    if run is None:
        return "skipped"
    heartbeat = _Heartbeat(run.pk, settings.ANALYSIS_HEARTBEAT_SECONDS)
    heartbeat.start()
    stages = run.stages
    stage_started: dict[str, datetime] = {}

    def on_progress(stage: str, state: str, percent: int, message: str = "", /) -> None:
        entry = next(s for s in stages if s["name"] == stage)
        moment = timezone.now()
        if state == "running":
            # A stage says "running" again when it starts something long (the proof), with a message.
            stage_started.setdefault(stage, moment)
        elif stage in stage_started:
            entry["duration_ms"] = round((moment - stage_started[stage]).total_seconds() * 1000, 1)
        entry["state"] = state
        if message and state == "running":
            entry["message"] = message
        else:
            entry.pop("message", None)
        updated = AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            stages=stages, progress=percent, heartbeat_at=moment
        )
        if not updated:
            raise RunCancelled

    try:
        revision = run.revision
        base = revision_input(run.base_revision) if run.base_revision else None
        with _progress_not_flushed():
            outcome = analyze(
                revision_input(revision),
                limits=parse_limits(),
                base=base,
                only=tuple(run.only) or None,
                on_progress=on_progress,
                context=analyzer_context(
                    with_sandbox=settings.ANALYSIS_SANDBOX_ENABLED,
                    with_proof=settings.ENDPOINTS_PROOF_ENABLED,
                    detect_renames=run.renames == RenameMode.DETECT,
                ),
            )
        report = build_report(
            outcome,
            generated_at=timezone.now().isoformat(),
            tool_version=tool_version(),
        )
        _store(run, report, outcome.parse.ok)
        return "stored"
    except RunCancelled:
        return "cancelled"
    except SoftTimeLimitExceeded:
        _fail(
            run.pk,
            f"The analysis took longer than {settings.ANALYSIS_SOFT_TIME_LIMIT_SECONDS} s and was stopped. Analyse fewer parts at once (choose analyzers) or raise ANALYSIS_SOFT_TIME_LIMIT_SECONDS.",
        )
        return "failed"
    finally:
        heartbeat.stopped.set()
        heartbeat.join(timeout=5)


@transaction.atomic
def _store(run: AnalysisRun, report: dict[str, Any], parsed: bool) -> None:
    """Save the findings as rows, in the report's order, and the rest of the report on the run.

    The rows are the only copy of the findings: exports and the API put them back into the
    report (`selectors.run_report_get`) in insertion order, which is the report's.
    """
    locked = AnalysisRun.objects.select_for_update().get(pk=run.pk)
    if locked.status != RunStatus.RUNNING:
        return  # cancelled or reaped while the job ran: keep what the user saw
    # The design's id alone: the revision row holds the pasted texts (megabytes for a large API).
    design_id = Revision.objects.values_list("design_id", flat=True).get(pk=locked.revision_id)
    apply_suppressions(report=report, design_id=design_id)
    findings = report["findings"]
    # Replace rather than add, so that a re-run of the same job never duplicates findings.
    Finding.objects.filter(run=locked).delete()
    with _findings_copied(locked.pk, findings):
        # The server parses and stores the rows meanwhile (tens of milliseconds on a large API):
        # pack and encode the rest of the report now rather than after.
        rest = {key: value for key, value in report.items() if key != "findings"}
        if isinstance(rest.get("endpoints"), dict):
            rest["endpoints"] = endpoints_section_pack(rest["endpoints"])
        # What the JSONField would send (json.dumps, no encoder), encoded here to be in this window.
        encoded = json.dumps(rest)
    AnalysisRun.objects.filter(pk=locked.pk).update(
        report=Cast(Value(encoded), JSONField()),
        finding_count=len(findings),
        progress=100,
        finished_at=timezone.now(),
        status=RunStatus.SUCCEEDED if parsed else RunStatus.FAILED,
        error=(
            ""
            if parsed
            else "The design could not be parsed: "
            + "; ".join(f["message"] for f in findings if f["analyzer"] == "parse" and f["severity"] == "critical")
        ),
    )


_FINDING_COLUMNS = (
    "run",
    "analyzer",
    "rule_id",
    "severity",
    "severity_rank",
    "title",
    "message",
    "fix",
    "references",
    "fingerprint",
    "locations",
    "category",
    "cwe",
    "suppressed",
    "priority",
    "stories",
    "endpoints",
    "change",
    "location_count",
    "resolved_by",
)


@contextmanager
def _findings_copied(run_id: int, findings: list[dict[str, Any]]) -> Iterator[None]:
    """Write the findings as rows with PostgreSQL's COPY, in the report's order (their ids follow
    it), flushed every ANALYSIS_FINDING_BATCH_SIZE rows. COPY is what bulk inserts are made for:
    a large specification yields findings by the ten thousand, and building a model instance and
    an INSERT parameter apiece cost more than the whole analysis.

    The rows are sent on entering; the COPY ends when the block does, so that the block's work
    runs while the server is still parsing their JSON (megabytes of places on a large API). An
    error in the block aborts the COPY."""
    meta = Finding._meta
    fields = [meta.get_field(name) for name in _FINDING_COLUMNS]
    # Binary: the server takes each value as it comes instead of unescaping megabytes of text
    # (a jsonb value is still its JSON text, behind a version byte).
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(meta.db_table), sql.SQL(", ").join(sql.Identifier(field.column) for field in fields)
    )

    def dumps(value: Any) -> bytes:  # orjson writes the JSON several times faster than json
        try:
            return orjson.dumps(value)
        except (TypeError, orjson.JSONEncodeError):  # what orjson will not write (an integer past 64 bits)
            return json.dumps(value).encode()

    def jsonb(value: Any) -> Jsonb:
        return Jsonb(value, dumps)

    # A row apiece, tens of thousands of them, all acyclic: the collector waits (see `bulk`).
    with bulk_step(), connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.set_types([field.db_type(connection).partition("(")[0] for field in fields])  # varchar(40): varchar
        for batch in itertools.batched(findings, settings.ANALYSIS_FINDING_BATCH_SIZE):
            for f in batch:
                suppressed = f["suppressed"]
                copy.write_row(
                    (
                        run_id,
                        f["analyzer"],
                        f["rule_id"],
                        f["severity"],
                        severity_rank(f["severity"]),
                        f["title"],
                        f["message"],
                        f["fix"],
                        jsonb(f["references"]),
                        f["fingerprint"],
                        jsonb(f["locations"]),
                        f["category"],
                        f["cwe"],
                        None if suppressed is None else jsonb(suppressed),
                        f["priority"],
                        jsonb(f["stories"]),
                        jsonb(f["endpoints"]),
                        f["change"],
                        len(f["locations"]),
                        None if not f.get("resolved_by") else jsonb(f["resolved_by"]),
                    )
                )
        yield


def _fail(run_id: int, error: str) -> None:
    AnalysisRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, error=error, finished_at=timezone.now()
    )


def run_fail_worker_lost(*, run_id: int, reason: str) -> bool:
    """The job's pool process died (killed, out of memory, hard time limit) and no retry follows.

    Called in the worker's main process, which outlives its pool children, so the run ends at
    once with the reason instead of waiting for its heartbeat to go stale. Returns whether the
    run was still open.
    """
    with transaction.atomic():
        run = (
            AnalysisRun.objects.select_for_update()
            .filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
            .first()
        )
        if run is None:
            return False
        run.status = RunStatus.FAILED
        run.error = reason
        run.finished_at = timezone.now()
        run.stages = _stages_ended(run.stages, "failed")
        run.save(update_fields=["status", "error", "finished_at", "stages"])
    logger.warning("analysis run failed: worker process lost", extra={"run_id": run_id})
    return True


def run_fail_unexpected(*, run_id: int, error: str) -> None:
    """The task gave up (retries exhausted or a bug): the run must not stay queued or running."""
    AnalysisRun.objects.filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(
        status=RunStatus.FAILED, error=error, finished_at=timezone.now()
    )


def run_reap_stale(*, now: datetime | None = None, run_id: int | None = None) -> int:
    """Fail every running run whose worker stopped sending heartbeats. Returns how many.

    Called by the periodic task for all runs, and by the run page's status poll for its own run
    (`run_id`), so that its viewer sees the failure without waiting for the next beat.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ANALYSIS_STALE_AFTER_SECONDS)
    stale = AnalysisRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=cutoff).only("pk", "heartbeat_at")
    if run_id is not None:
        stale = stale.filter(pk=run_id)
    count = 0
    for run in stale:
        count += AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, heartbeat_at__lt=cutoff).update(
            status=RunStatus.FAILED,
            finished_at=now,
            error=(
                f"The worker running this analysis stopped responding (last heartbeat {run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC). "
                "Start the analysis again; if it keeps failing, check the worker's log for memory or time limits."
            ),
        )
    if count:
        logger.warning("reaped stale analysis runs", extra={"count": count})
    return count
