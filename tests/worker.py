"""A real Celery worker process on the test database and the tests' own Redis databases."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.conftest import ROOT
from workbench.celery import app


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(
    queue: str,
    *,
    heartbeat_seconds: int = 1,
    pool: str = "solo",
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `celery worker` consuming only `queue`; wait until it answers a ping.

    `pool="prefork"` runs jobs in one pool child (`--concurrency 1`), as production does; `env`
    adds settings for the worker process only.
    """
    name = f"{queue}-{uuid.uuid4().hex[:6]}@test"
    log = Path(ROOT / "var" / f"worker-{queue}.log")
    log.parent.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "ANALYSIS_HEARTBEAT_SECONDS": str(heartbeat_seconds),
        "DEBUG": "true",
        **(env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workbench",
        "worker",
        "--pool",
        pool,
        *(["--concurrency", "1"] if pool == "prefork" else []),
        "--queues",
        queue,
        "--hostname",
        name,
    ]
    command += ["--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            deadline = time.monotonic() + 60
            while not app.control.ping(destination=[name], timeout=0.5):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the test worker did not start; see {log}:\n{log.read_text()[-3000:]}")
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
