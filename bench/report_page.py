"""Time the run page on GitHub's REST API description (about 51,000 findings), server side.

    .venv/bin/python bench/report_page.py [--runs 5] [--fresh] [--profile]

It stores one real run of the document through the product's own service functions (the design is
created with `design_create`, the worker's job runs in-process with `run_execute`, as the Celery
task calls it), then times, through Django's test client with a logged-in member:
- the run page (first page of findings, with the scorecard, the diagram and the matrix);
- a filter as the page asks for it (htmx, target `findings`, severity=high);
- page 2 of the findings (htmx, target `findings`);
and prints the medians and sizes beside issue 15's goals (page <= 300 ms, filter <= 200 ms,
page <= 150 KB), with the number of SQL queries each made. The analyzers now report GitHub's
design-level gaps as one finding each with every place (335 rows holding about 53,000 places), so
the same is then timed on a stress copy of the run split into one row per place (`--rows`, 51,000
by default, the count the issue measured before that grouping; `--rows 0` skips it).

The run is kept between invocations (the job takes a while on this document): the next
invocation reuses the newest stored run of the same document unless `--fresh` is given.
`--profile` prints the 25 most expensive functions of one run page GET.

The database is DATABASE_URL's name + `_report_bench` on the same server, created and migrated on
first use; collected static files go to var/bench-report-page/ (the page is rendered with DEBUG
off, as served).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.public_specs import SPECS, spec_path  # noqa: E402

GITHUB = SPECS[0]
GOALS = {"page_ms": 300.0, "filter_ms": 200.0, "page_kb": 150.0}
BENCH_USER = "bench-report-page"


def _database_url() -> str:
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/workbench"))
    name = (base.path.lstrip("/") or "workbench") + "_report_bench"
    return urlunsplit(base._replace(path=f"/{name}"))


def _django() -> None:
    url = _database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    os.environ["ANALYSIS_SANDBOX_ENABLED"] = "false"  # a bare API has no tables to plan
    os.environ["DEBUG"] = "false"  # DEBUG on keeps every SQL statement: not what a server does
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("HTTPS", "false")
    os.environ["WORKBENCH_VAR_DIR"] = str(ROOT / "var" / "bench-report-page")
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')  # the name is ours: DATABASE_URL's + a suffix
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)  # DEBUG off serves hashed names


def _stored_run(path: Path, *, fresh: bool) -> Any:
    """The newest succeeded run of this document, or a new one made by the product's services."""
    from django.contrib.auth import get_user_model

    from apps.accounts.services import workspace_create
    from apps.analysis.models import AnalysisRun, RunStatus
    from apps.analysis.services import run_execute
    from apps.designs.engine.loader import DesignInput
    from apps.designs.services import design_create

    text = path.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    name = f"GitHub REST API {digest}"
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    if not fresh:
        run = (
            AnalysisRun.objects.filter(
                revision__design__name=name,
                status=RunStatus.SUCCEEDED,
                revision__design__created_by=user,
                created_by=user,
            )
            .defer("report")
            .order_by("-pk")
            .first()
        )
        if run is not None:
            return user, run
    workspace = workspace_create(user=user, name=f"Bench report page {time.time_ns()}")
    _, revision = design_create(
        workspace=workspace, user=user, name=name, texts=DesignInput(openapi=text, document_name="api.github.com.json")
    )
    run = AnalysisRun.objects.create(revision=revision, created_by=user, status=RunStatus.QUEUED, stages=[])
    started = time.perf_counter()
    outcome = run_execute(run_id=run.pk)
    print(f"stored a new run #{run.pk} in {time.perf_counter() - started:.1f} s ({outcome})")
    run.refresh_from_db()
    if run.status != RunStatus.SUCCEEDED:
        raise SystemExit(f"the run {run.status}: {run.error}")
    return user, run


def _split_run(run: Any, rows: int) -> Any:
    """A stress case: a copy of `run` whose findings are one row per place (the shape GitHub's
    description had before design-level findings were grouped: about 51,000 rows), at most `rows`.
    Made afresh each time, in bulk; it is measured beside the real run, never instead of it."""
    from django.db import connection
    from django.utils import timezone

    from apps.analysis.models import AnalysisRun, Finding, RunStatus

    # A copy has no author: that is how the next invocation tells it from the stored run (and
    # deletes one left by --keep).
    AnalysisRun.objects.filter(revision=run.revision, created_by=None).delete()
    copy = AnalysisRun.objects.create(
        revision=run.revision,
        created_by=None,
        status=RunStatus.SUCCEEDED,
        stages=run.stages,
        report=AnalysisRun.objects.filter(pk=run.pk).values_list("report", flat=True).get(),
        progress=100,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    batch: list[Finding] = []
    made = 0
    for finding in Finding.objects.filter(run=run).order_by("id").iterator(chunk_size=100):
        for i, place in enumerate(finding.locations):
            if made >= rows:
                break
            finding.pk = None
            finding.run = copy
            finding.locations = [place]
            finding.location_count = 1
            finding.fingerprint = hashlib.sha256(f"{finding.fingerprint}:{i}".encode()).hexdigest()[:24]
            batch.append(Finding(**{f.attname: getattr(finding, f.attname) for f in Finding._meta.concrete_fields}))
            made += 1
        if len(batch) >= 2000:
            Finding.objects.bulk_create(batch)
            batch = []
    Finding.objects.bulk_create(batch)
    AnalysisRun.objects.filter(pk=copy.pk).update(finding_count=made)
    with connection.cursor() as cursor:
        # What autovacuum soon does after a bulk insert (its insert threshold): statistics for the
        # planner, and the visibility map that lets the counts read their index alone.
        cursor.execute("VACUUM ANALYZE analysis_finding")
    return copy


def _timed(call: Callable[[], Any], runs: int, *, show: bool = False) -> tuple[float, Any, int]:
    """Median seconds, the last response and the SQL queries of one call."""
    from django.db import connection

    call()  # warm: templates compiled, connection open
    queries: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(f"{(time.perf_counter() - started) * 1000:6.1f} ms  {sql}")

    # Django's own query log is reset at each request's start: count with a wrapper instead.
    with connection.execute_wrapper(count):
        call()
    if show:
        for sql in queries:
            print("    SQL", sql[:200])
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="store a new run even if one is kept")
    parser.add_argument("--profile", action="store_true", help="profile one run page GET")
    parser.add_argument("--sort", default="cumulative", help="the profile's order: cumulative or tottime")
    parser.add_argument(
        "--rows", type=int, default=51_000, help="also time a copy of the run split into this many rows (0: not)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the stress copy (to look at it after)")
    parser.add_argument("--queries", action="store_true", help="print the SQL each case runs")
    parser.add_argument("--dump", metavar="FILE", help="write the run page's HTML to FILE")
    args = parser.parse_args()
    path = spec_path(GITHUB)
    _django()
    from django.test import Client
    from django.urls import reverse

    user, run = _stored_run(path, fresh=args.fresh)
    client = Client()
    client.force_login(user)
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "findings"}
    runs = [("the stored run", run)]
    if args.rows:
        started = time.perf_counter()
        split = _split_run(run, args.rows)
        print(f"(stress copy #{split.pk}: one row per place, made in {time.perf_counter() - started:.1f} s)")
        runs.append(("stress: one row per place", split))
    for title, measured in runs:
        page = reverse("analysis:run", kwargs={"run_id": measured.pk})

        def get(query: dict[str, str], page: str = page, **headers: str) -> Any:
            response = client.get(page, query, **headers)
            if response.status_code != 200:
                raise SystemExit(f"GET {page} {query} answered {response.status_code}")
            return response

        cases = [
            ("run page", "page_ms", lambda get=get: get({})),
            ("filter severity=high", "filter_ms", lambda get=get: get({"severity": "high"}, **htmx)),
            ("findings page 2", "filter_ms", lambda get=get: get({"page": "2"}, **htmx)),
        ]
        print(
            f"{title} #{measured.pk}: {measured.findings.count()} finding rows; "
            "server time through Django's test client, DEBUG off"
        )
        for label, goal, call in cases:
            seconds, response, queries = _timed(call, args.runs, show=args.queries)
            size_kb = len(response.content) / 1000
            ms = seconds * 1000
            verdict = "ok" if ms <= GOALS[goal] and size_kb <= GOALS["page_kb"] else "OVER"
            print(
                f"  {label:22} {ms:7.1f} ms (goal <= {GOALS[goal]:.0f} ms)  {size_kb:6.1f} KB "
                f"(goal <= {GOALS['page_kb']:.0f} KB)  {queries:2} queries  {verdict}"
            )
        if args.dump:
            Path(args.dump).write_bytes(get({}).content)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            get({})
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(25)
    if args.rows and not args.keep:
        split.delete()


if __name__ == "__main__":
    main()
