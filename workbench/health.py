"""Probes: /healthz says the process answers; /readyz that its dependencies do too."""

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_redis() -> str:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2)
    client.ping()
    return "ok"


def _check_workers() -> str:
    """Some worker must consume each queue runs go to: the analysis queue, and the sandbox queue
    where runs that plan queries go (when the sandbox is enabled). A worker of other queues
    answering a ping would leave those runs queued for ever."""
    from workbench.celery import app

    queues = [settings.ANALYSIS_QUEUE]
    if settings.ANALYSIS_SANDBOX_ENABLED and settings.SANDBOX_QUEUE not in queues:
        queues.append(settings.SANDBOX_QUEUE)
    replies = app.control.inspect(timeout=settings.READYZ_WORKER_TIMEOUT_SECONDS).active_queues() or {}
    if not replies:
        raise RuntimeError("no Celery worker answered; start one with `celery -A workbench worker`")
    found = []
    for queue in queues:
        consuming = sorted(n for n, served in replies.items() if any(q.get("name") == queue for q in served or []))
        if not consuming:
            what = "analysis" if queue == settings.ANALYSIS_QUEUE else "sandbox (query plans)"
            raise RuntimeError(
                f"no worker consumes the {what} queue {queue!r} ({len(replies)} answered); "
                f"start one with `celery -A workbench worker --queues {queue}`"
            )
        found.append(f"{len(consuming)} worker{'s' if len(consuming) != 1 else ''} on {queue!r}")
    return f"ok ({', '.join(found)})"


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    ready = True
    for name, check in (
        ("database", _check_database),
        ("redis", _check_redis),
        ("workers", _check_workers),
    ):
        try:
            checks[name] = check()
        except Exception as exc:  # each failure is reported, not raised
            checks[name] = f"failed: {exc}"
            ready = False
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
