import json
import logging
import os
import subprocess
import sys

from django.test import Client

from tests.conftest import ROOT
from workbench.logging import JsonFormatter, RequestIdFilter, request_id_var


def test_check_deploy_is_clean_with_production_settings() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},  # set for the browser tests only
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60 + "production-like-secret-key",
        "ALLOWED_HOSTS": "workbench.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_log_lines_are_json_with_the_request_id() -> None:
    record = logging.makeLogRecord(
        {"name": "apps.x", "levelname": "WARNING", "msg": "reaped %s runs", "args": (2,), "count": 2}
    )
    token = request_id_var.set("abc123def456")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "reaped 2 runs"
    assert line["request_id"] == "abc123def456"
    assert line["count"] == 2
    assert line["level"] == "warning"


def test_a_callers_request_id_is_kept_and_a_bad_one_replaced(client: Client, db: None) -> None:
    assert client.get("/healthz", HTTP_X_REQUEST_ID="ci-job-000123").headers["X-Request-ID"] == "ci-job-000123"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline").headers["X-Request-ID"]
    assert replaced != "bad id\nwith newline"
    assert len(replaced) == 32


def test_the_api_schema_generates_without_warnings() -> None:
    result = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", os.devnull],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
