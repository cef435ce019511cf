"""Time the migration preview of a 200-table, 3,000-column design beside Squawk on the same SQL.

    .venv/bin/python bench/migrations.py [--runs 3] [--tables 200] [--columns 15]

Two cases, each as a whole process (interpreter and Django start-up included), each the work
`manage.py analyze DESIGN [--base BASE] --only migrations` does: the analysis pipeline's `analyze`
with the command's analyzer context (the sandbox, the calibration settings), so parsing and
`analyze_migrations` end to end:

- initial: the design from nothing;
- change: a second revision that touches a quarter of the tables (new columns, type changes, NOT
  NULL, new indexes, foreign keys and checks, renames, drops) against the first.

Both include Django's autodetector and writer, the forward and rollback SQL from the schema
editor in a sandbox session (for a change, with the base tables the change reaches created there
first), the sandbox proof (apply, roll back, compare the catalog, apply again), the
zero-downtime review of every statement, the safe variant and the time calibration. The
calibration (estimate) step is also shown on a line of its own, timed by wrapping the analyzer's
`_estimates` in the measured process; it is part of the figure compared, not taken out of it.
(Until this docstring's revision the bench timed only the SQL collection and the review, with
the base tables created apart: not the product's path.)

Squawk (`squawk` from PyPI, in the virtualenv) lints the same forward SQL as a whole process. Runs
alternate between the two tools, so that a busy machine slows both alike; medians are printed
with the ratio ours ÷ Squawk.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.synthetic import design  # noqa: E402


def _inner(case: str, tables: int, columns: int, sql_out: str) -> None:
    """One measured run, in this process; prints its figures as JSON."""
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    import django

    django.setup()
    from apps.analysis.engine.pipeline import analyze
    from apps.analysis.services import analyzer_context
    from apps.designs.engine.limits import ParseLimits
    from apps.designs.engine.loader import DesignInput
    from apps.migrations_preview.engine import analyzer

    estimating: list[float] = []
    estimates = analyzer._estimates

    def timed_estimates(*args: Any, **kwargs: Any) -> Any:
        before = time.perf_counter()
        try:
            return estimates(*args, **kwargs)
        finally:
            estimating.append(time.perf_counter() - before)

    analyzer._estimates = timed_estimates  # a timer around the step, the step itself unchanged
    work = time.perf_counter()
    outcome = analyze(
        DesignInput(data_model=design(tables, columns, changed=case == "change")),
        limits=ParseLimits(),
        base=DesignInput(data_model=design(tables, columns, changed=False)) if case == "change" else None,
        only=("migrations",),
        context=analyzer_context(with_sandbox=True),
    )
    work_seconds = time.perf_counter() - work
    result = next(r for r in outcome.results if r.name == "migrations")
    section: dict[str, Any] = result.section  # type: ignore[assignment]
    if result.status != "succeeded":
        raise SystemExit(f"the migration preview did not succeed: {result.status} {result.reason}")
    Path(sql_out).write_text(section["forward_sql"] + "\n")
    print(
        json.dumps(
            {
                "entities": len(outcome.parse.model.entities),
                "columns": sum(len(e.columns) for e in outcome.parse.model.entities),
                "statements": len(section["statements"]),
                "rollback_lines": len(section["rollback_sql"].splitlines()),
                "rollback_proven": section["rollback_proven"]["proven"],
                "estimate_seconds": sum(estimating),
                "work_seconds": work_seconds,
                "in_process_seconds": time.perf_counter() - started,
            }
        )
    )


def _run(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603 - our own commands
    return time.perf_counter() - started, done.stdout


def goal(seconds: float) -> str:
    return "<=5 s" if seconds <= 5 else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--columns", type=int, default=15)
    parser.add_argument("--inner", choices=("initial", "change"), help=argparse.SUPPRESS)
    parser.add_argument("--sql-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        _inner(args.inner, args.tables, args.columns, args.sql_out)
        return
    squawk = str(Path(sys.executable).parent / "squawk")
    print(f"{args.tables} tables x {args.columns} columns; medians of {args.runs} runs, whole processes")
    print(f"{'case':8} {'stmts':>6} {'ours (s)':>9} {'squawk (s)':>11} {'ours/squawk':>12} {'goal':>6}")
    for case in ("initial", "change"):
        ours, theirs, estimating, work = [], [], [], []
        facts: dict[str, float] = {}
        with tempfile.TemporaryDirectory() as tmp:
            sql_path = str(Path(tmp) / "forward.sql")
            for _ in range(args.runs):
                seconds, out = _run(
                    [
                        sys.executable,
                        __file__,
                        "--inner",
                        case,
                        "--tables",
                        str(args.tables),
                        "--columns",
                        str(args.columns),
                        "--sql-out",
                        sql_path,
                    ]
                )
                facts = json.loads(out.strip().splitlines()[-1])
                ours.append(seconds)
                estimating.append(facts["estimate_seconds"])
                work.append(facts["work_seconds"])
                squawk_seconds, _ = _run([squawk, sql_path])
                theirs.append(squawk_seconds)
        mine, squawk_median = statistics.median(ours), statistics.median(theirs)
        print(
            f"{case:8} {int(facts['statements']):6d} {mine:9.2f} {squawk_median:11.2f} "
            f"{mine / squawk_median:12.1f} {goal(mine):>6}"
        )
        print(
            f"         {int(facts['entities'])} tables, {int(facts['columns'])} columns; rollback proven: "
            f"{bool(facts['rollback_proven'])}; in-process work {statistics.median(work):.2f} s, "
            f"of which calibration (estimates) {statistics.median(estimating):.2f} s"
        )


if __name__ == "__main__":
    main()
