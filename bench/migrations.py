"""Time the migration preview of a 200-table, 3,000-column design beside Squawk on the same SQL.

    .venv/bin/python bench/migrations.py [--runs 3] [--tables 200] [--columns 15]

Two cases, each as a whole process (interpreter and Django start-up included):

- initial: the design from nothing: parse, Django's autodetector and writer, forward and rollback
  SQL from the schema editor, and the zero-downtime review of every statement;
- change: a second revision that touches a quarter of the tables (new columns, type changes, NOT
  NULL, new indexes, foreign keys and checks, renames, drops): the same steps. The schema editor
  introspects the tables it alters, so the base tables are created in a sandbox schema first; that
  set-up is timed apart and left out of the figure compared.

The sandbox proof (rollback, catalog comparison, forward again) and the time calibration are not
part of either: the goal is the preview a reviewer reads. Squawk (`squawk` from PyPI, in the
virtualenv) lints the same forward SQL as a whole process. Runs alternate between the two tools,
so that a busy machine slows both alike; medians are printed with the ratio ours ÷ Squawk.
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
    from apps.designs.engine.limits import ParseLimits
    from apps.designs.engine.loader import DesignInput, parse_design
    from apps.migrations_preview.engine import sql
    from apps.migrations_preview.engine.review import review_sql, table_facts
    from apps.migrations_preview.engine.states import PreviewState, migration_between
    from apps.sandbox import engine as sandbox
    from apps.sandbox.services import sandbox_config

    limits = ParseLimits()
    setup_seconds = 0.0
    config = sandbox_config()
    with sandbox.session(config) as box, sql.django_connection(box) as connection:
        if case == "change":
            before = time.perf_counter()
            base_model = parse_design(DesignInput(data_model=design(tables, columns, changed=False)), limits=limits)
            initial = migration_between(None, base_model.model, name="base")
            assert initial is not None  # noqa: S101 - a benchmark's own sanity check
            sql.apply_migration(connection, initial, PreviewState())
            setup_seconds = time.perf_counter() - before
        work = time.perf_counter()
        new = parse_design(DesignInput(data_model=design(tables, columns, changed=case == "change")), limits=limits)
        base = None
        if case == "change":
            base = parse_design(DesignInput(data_model=design(tables, columns, changed=False)), limits=limits).model
        migration = migration_between(base, new.model, name="preview")
        assert migration is not None  # noqa: S101
        state = PreviewState()
        if base is not None:
            from apps.migrations_preview.engine.states import project_state

            state = project_state(base).state
        forward = sql.collect_sql(connection, migration, state, backwards=False)
        if case == "change":
            sql.apply_migration(connection, migration, state)
        rollback = sql.collect_sql(connection, migration, state, backwards=True)
        reviews = review_sql(forward, tables=table_facts(base) if base is not None else {})
        work_seconds = time.perf_counter() - work
    Path(sql_out).write_text("\n".join(forward) + "\n")
    print(
        json.dumps(
            {
                "entities": len(new.model.entities),
                "columns": sum(len(e.columns) for e in new.model.entities),
                "operations": len(migration.operations),
                "statements": len(reviews),
                "rollback_lines": len(rollback),
                "setup_seconds": setup_seconds,
                "work_seconds": work_seconds,
                "in_process_seconds": time.perf_counter() - started,
            }
        )
    )


def _run(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603 - our own commands
    return time.perf_counter() - started, done.stdout


def goal(case: str, seconds: float) -> str:
    """The goal (under 5 s) is set for the design itself; the change is shown for information."""
    if case != "initial":
        return "info"
    return "<5 s" if seconds < 5 else "MISSED"


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
    print(
        f"{'case':8} {'stmts':>6} {'ours (s)':>9} {'setup, apart':>15} {'squawk (s)':>11} {'ours/squawk':>12} {'goal':>6}"
    )
    for case in ("initial", "change"):
        ours, setups, theirs = [], [], []
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
                ours.append(seconds - facts["setup_seconds"])
                setups.append(facts["setup_seconds"])
                squawk_seconds, _ = _run([squawk, sql_path])
                theirs.append(squawk_seconds)
        mine, setup, squawk_median = statistics.median(ours), statistics.median(setups), statistics.median(theirs)
        print(
            f"{case:8} {int(facts['statements']):6d} {mine:9.2f} {setup:15.2f} {squawk_median:11.2f} "
            f"{mine / squawk_median:12.1f} {goal(case, mine):>6}"
        )
        print(
            f"         {int(facts['entities'])} tables, {int(facts['columns'])} columns, {int(facts['operations'])} operations;"
            f" in-process work {facts['work_seconds']:.2f} s"
        )


if __name__ == "__main__":
    main()
