"""A pytest plugin the proof loads into the generated project's contract tests (`-p proof_calls`);
never imported by the workbench itself.

- The tests use the database the proof's `migrate` step built (the sandbox role may not create
  a test database): each test runs in a transaction rolled back at its end, as pytest-django does.
- List operations' tests make PROOF_ITEMS rows for the list to show (the module's ITEMS).
- Every request a test makes through the test client is run under Django's CaptureQueriesContext;
  its method, path, status, SQL and the rows a list answered with are written, with each test's
  outcome, to PROOF_CALLS_FILE as
  JSON, at most PROOF_MAX_QUERIES statements of at most PROOF_MAX_SQL_CHARS characters each per
  request (the count is always the whole).
"""

import json
import os

import pytest

_ITEMS = int(os.environ.get("PROOF_ITEMS", "1"))
_FILE = os.environ["PROOF_CALLS_FILE"]
_MAX_QUERIES = int(os.environ.get("PROOF_MAX_QUERIES", "50"))
_MAX_SQL = int(os.environ.get("PROOF_MAX_SQL_CHARS", "2000"))
_SKIPPED = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
_results = {}


@pytest.fixture(scope="session")
def django_db_setup():
    """The database `manage.py migrate` built: used as it is."""


@pytest.fixture(autouse=True)
def _proof_calls(request, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    if hasattr(request.module, "ITEMS"):
        monkeypatch.setattr(request.module, "ITEMS", _ITEMS)
    calls = _results.setdefault(request.node.name, {"outcome": "", "calls": []})["calls"]
    original = APIClient.request

    def counted(self, **kwargs):
        response = None
        with CaptureQueriesContext(connection) as captured:
            try:
                response = original(self, **kwargs)
            finally:  # a call that raised (a server error) is recorded too, without a status
                statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(_SKIPPED)]
                calls.append(
                    {
                        "method": kwargs.get("REQUEST_METHOD", ""),
                        "path": kwargs.get("PATH_INFO", ""),
                        "status": response.status_code if response is not None else None,
                        "count": len(statements),
                        "listed": _listed(response),
                        "queries": [sql[:_MAX_SQL] for sql in statements[:_MAX_QUERIES]],
                    }
                )
        return response

    monkeypatch.setattr(APIClient, "request", counted)


def _listed(response):
    """Rows a successful list answered with (a bare array, or a page's `results`), else None."""
    if response is None or not 200 <= response.status_code < 300:
        return None
    try:
        body = response.json()
    except (TypeError, ValueError):
        return None
    if isinstance(body, dict):
        body = body.get("results")
    return len(body) if isinstance(body, list) else None


def pytest_runtest_logreport(report):
    name = report.nodeid.rpartition("::")[2]
    entry = _results.setdefault(name, {"outcome": "", "calls": []})
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
        if hasattr(report, "wasxfail") and report.passed:
            entry["outcome"] = "xpassed"


def pytest_sessionfinish(session, exitstatus):
    with open(_FILE, "w", encoding="utf-8") as out:
        json.dump({"items": _ITEMS, "tests": _results}, out)
