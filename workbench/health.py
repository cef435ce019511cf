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
    """At least one worker must consume the analysis queue: a worker of other queues answering a
    ping would leave every analysis queued for ever."""
    from workbench.celery import app

    queue = settings.ANALYSIS_QUEUE
    replies = app.control.inspect(timeout=settings.READYZ_WORKER_TIMEOUT_SECONDS).active_queues() or {}
    if not replies:
        raise RuntimeError("no Celery worker answered; start one with `celery -A workbench worker`")
    consuming = sorted(name for name, queues in replies.items() if any(q.get("name") == queue for q in queues or []))
    if not consuming:
        raise RuntimeError(
            f"no worker consumes the analysis queue {queue!r} ({len(replies)} answered); "
            f"start one with `celery -A workbench worker --queues {queue}`"
        )
    return f"ok ({len(consuming)} worker{'s' if len(consuming) != 1 else ''} on {queue!r})"


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
