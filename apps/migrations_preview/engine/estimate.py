"""Time estimates for the statements that rewrite or scan a table, measured in the sandbox.

No constant in code says how fast PostgreSQL is: the base revision's tables are built in a
throw-away schema, filled with synthetic rows at three small sizes (or more), and every statement
of the migration is run in order and timed, RUNS times at each size (inside a transaction that is
rolled back, each statement behind a savepoint so that one failure does not hide the others).
Each size's median is kept with the range of its runs; a growth model is fitted to the medians
(linear for scans and rewrites; linear or n log n, whichever fits better, for index builds,
which sort) and the time at the declared volume extrapolated from it. The basis says all of it.

Synthetic rows come from the sandbox's shared generator (`apps.sandbox.synthetic.fill_table`)
and keep the tables' constraints: key and unique columns (those the migration makes unique too)
get distinct values, foreign keys (those the migration adds too) values their referenced keys
have, drawn with skew, and rows are drawn through every CHECK of the table and those the
migration adds (cross-column ones included): a statement then fails on the sample only where real
rows could make it fail too, and when no rows satisfying the checks can be made, the statement is
left unmeasured, saying why. As real rows do, they hold NULLs in nullable columns (a tenth),
except in a column the migration makes NOT NULL (kept as an added constraint, like its checks).

CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction: such statements are timed in
their plain form, and their basis says that the concurrent build takes longer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import pglast
import psycopg
from pglast import ast, enums
from pglast.parser import ParseError
from pglast.stream import RawStream
from psycopg import sql

from apps.migrations_preview.engine.review import StatementReview
from apps.sandbox.engine import SandboxSession
from apps.sandbox.synthetic import Shape, fill_table


@dataclass(frozen=True, slots=True)
class Estimate:
    seconds: float | None
    basis: str


RUNS = 5  # each statement is timed this many times at each size; the median is kept (five: a busy machine moves one or two)


@dataclass(frozen=True, slots=True)
class Timing:
    rows: int
    seconds: float | None  # the median of the runs; None: the statement failed at this size
    error: str = ""
    runs: tuple[float, ...] = ()  # every run's time, for the range


def median_timing(rows: int, runs: Sequence[Timing]) -> Timing:
    """One size's timing from its runs: the median and every run, or the first failure."""
    failed = next((t for t in runs if t.seconds is None), None)
    if failed is not None:
        return failed
    times = tuple(sorted(t.seconds for t in runs if t.seconds is not None))
    middle = len(times) // 2
    median = times[middle] if len(times) % 2 else (times[middle - 1] + times[middle]) / 2
    return Timing(rows, median, runs=times)


NOT_HEAVY = "not measured: the statement neither rewrites nor scans a table, so its time is the wait for its lock"
NO_HEAVY = "not measured: no statement of this migration rewrites or scans a table with rows"
NEW_TABLE = "no rows to touch: the table is created empty by this migration"


def _rows(n: int) -> str:
    return f"{n:,}"


def _seconds(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f} s"
    if value >= 1:
        return f"{value:.1f} s"
    if value >= 0.1:
        return f"{value:.2f} s"
    return f"{value * 1000:.1f} ms"


def _growth(n: float, model: str) -> float:
    return n * math.log(n) if model == "n log n" else n


def _fit(points: Sequence[tuple[int, float]], model: str) -> tuple[float, float, float]:
    """Least squares t = a + b * f(n) with a >= 0 and b > 0: (a, b, squared error, relative to the
    times so that the models compare). Noise must not predict shrinking time: a slope at or below
    zero falls back to the largest measurement's rate through the origin."""
    xs = [_growth(n, model) for n, _ in points]
    ys = [t for _, t in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0
    intercept = mean_y - slope * mean_x
    if slope <= 0:
        slope, intercept = ys[-1] / xs[-1], 0.0
    elif intercept < 0:
        slope, intercept = sum(x * y for x, y in zip(xs, ys, strict=True)) / sum(x * x for x in xs), 0.0
    error = sum(((intercept + slope * x - y) / max(y, 1e-9)) ** 2 for x, y in zip(xs, ys, strict=True))
    return intercept, slope, error


def extrapolate(
    timings: Sequence[Timing], rows: int | None, *, plain_form: bool = False, heavy: bool = True, sorts: bool = False
) -> Estimate:
    """The estimate at `rows` from the sizes' medians (`median_timing`). The growth model is
    linear, or for a statement that sorts (an index build) linear or n log n, whichever fits the
    medians better; the basis names it, with each size's median and range. A statement that
    neither rewrites nor scans is not extrapolated: its time does not follow the rows."""
    timings = sorted(timings, key=lambda t: t.rows)
    failed = next((t for t in timings if t.seconds is None), None)
    if failed is not None:
        return Estimate(None, f"fails in the sandbox on a table of {_rows(failed.rows)} synthetic rows: {failed.error}")
    points = [(t.rows, t.seconds) for t in timings if t.seconds is not None]
    sizes = [_rows(n) for n, _ in points]
    runs = max((len(t.runs) for t in timings), default=1)
    measured = (
        f"measured at {', '.join(sizes[:-1])} and {sizes[-1]} rows"
        if len(sizes) > 1
        else f"measured at {sizes[0]} rows"
    )
    if runs > 1:
        measured += f", the median of {runs} runs each (range)"
    measured += ": " + ", ".join(
        f"{_seconds(t.seconds)}" + (f" ({_seconds(t.runs[0])} to {_seconds(t.runs[-1])})" if len(t.runs) > 1 else "")
        for t in timings
        if t.seconds is not None
    )
    if plain_form:
        measured += " (timed without CONCURRENTLY, which reads the table twice and so takes longer)"
    if not heavy:
        return Estimate(
            round(points[-1][1], 3),
            f"{measured}; no rewrite or scan, so the time does not grow with the rows: the real cost is the wait for its lock",
        )
    if rows is None:
        return Estimate(None, f"{measured}; declare the table's row volume to get an estimate")
    fits = {model: _fit(points, model) for model in ("linear", "n log n")}
    # An index build sorts: n log n, unless the medians clearly follow a line (a quarter of its
    # error): at a few thousand rows both fit three medians closely, and a coin toss between them
    # would move the estimate by log(rows) / log(largest size), nearly twice.
    model = "n log n" if sorts and fits["n log n"][2] <= 4 * fits["linear"][2] else "linear"
    if sorts:
        other = "linear" if model == "n log n" else "n log n"
        growth = f"growth fitted as {model} (an index build sorts; {other} fits the medians worse)"
    else:
        growth = "growth fitted as linear (a scan or rewrite reads each row once)"
    # The curve runs through the largest size's median. At these sizes a statement's fixed cost
    # (catalog work, a new file) is of the order of its per-row work and the medians' noise, so
    # the slope between sizes is not trusted on its own: at most half of the smallest size's
    # median is taken as fixed cost, which keeps two runs' estimates of the same change close.
    small, (large_rows, large) = points[0][1], points[-1]
    fixed = min(max(fits[model][0], 0.0), small / 2)
    rate = (large - fixed) / _growth(large_rows, model)
    if rate <= 0:
        fixed, rate = 0.0, large / _growth(large_rows, model)
    seconds = round(fixed + rate * _growth(rows, model), 3)
    return Estimate(
        seconds,
        f"{measured}; {growth}, through the {_rows(large_rows)}-row median with {_seconds(fixed)} of fixed cost; "
        f"≈ {_seconds(seconds)} at {_rows(rows)} rows ({model} extrapolation)",
    )


def _heavy(review: StatementReview) -> bool:
    return review.rewrites_table or review.scans_table


def _plain(statement: str) -> tuple[str, bool]:
    """The statement without CONCURRENTLY (which refuses to run in a transaction block)."""
    try:
        parsed = pglast.parse_sql(statement)
    except ParseError:
        return statement, False
    node = parsed[0].stmt if parsed else None
    if isinstance(node, ast.IndexStmt | ast.DropStmt) and node.concurrent:
        node.concurrent = False
        return str(RawStream()(node)), True
    return statement, False


@dataclass(frozen=True, slots=True)
class Added:
    """What the migration adds to a table that synthetic rows must already keep."""

    checks: tuple[str, ...] = ()  # CHECK expressions
    keys: frozenset[str] = frozenset()  # columns it makes unique
    references: frozenset[str] = frozenset()  # tables its new foreign keys reference
    foreign: Mapping[str, str] = field(default_factory=dict)  # column -> the table its new foreign key references

    def shape(self, rows: int) -> Shape:
        """The synthetic rows' shape, every table holding `rows` rows (the calibration's sizes)."""
        return Shape(
            checks=self.checks,
            keys=self.keys,
            references={column: (table, rows) for column, table in self.foreign.items()},
        )


def constraints_added(statements: Sequence[str]) -> dict[str, Added]:
    """Table -> the CHECKs, unique columns and foreign key columns the migration adds: synthetic
    rows should keep them as they keep the base's own, or the timing measures a refusal real rows
    need not meet."""
    checks: dict[str, list[str]] = {}
    keys: dict[str, set[str]] = {}
    references: dict[str, set[str]] = {}
    foreign: dict[str, dict[str, str]] = {}
    C = enums.ConstrType
    for statement in statements:
        try:
            parsed = pglast.parse_sql(statement)
        except ParseError:
            continue
        for raw in parsed:
            node = raw.stmt
            if isinstance(node, ast.IndexStmt) and node.unique and node.relation is not None:
                keys.setdefault(node.relation.relname, set()).update(p.name for p in node.indexParams or () if p.name)
            if not isinstance(node, ast.AlterTableStmt):
                continue
            table = node.relation.relname
            for cmd in node.cmds or ():
                if cmd.subtype == enums.AlterTableType.AT_SetNotNull and cmd.name:
                    # NOT NULL is a constraint the migration adds too: the sample keeps it, as it
                    # keeps added checks, so the scan is timed rather than refused on NULLs the
                    # generator made (a nullable column is otherwise partly NULL).
                    checks.setdefault(table, []).append(f"{sql.Identifier(cmd.name).as_string(None)} IS NOT NULL")
                    continue
                definition = cmd.def_
                constraints = (
                    [definition]
                    if isinstance(definition, ast.Constraint)
                    else [(c, definition.colname) for c in definition.constraints or ()]
                    if isinstance(definition, ast.ColumnDef)
                    else []
                )
                for item in constraints:
                    constraint, column = item if isinstance(item, tuple) else (item, None)
                    if constraint.contype == C.CONSTR_CHECK and constraint.raw_expr is not None:
                        checks.setdefault(table, []).append(str(RawStream()(constraint.raw_expr)))
                    elif constraint.contype in (C.CONSTR_UNIQUE, C.CONSTR_PRIMARY, C.CONSTR_FOREIGN):
                        named = constraint.fk_attrs if constraint.contype == C.CONSTR_FOREIGN else constraint.keys
                        columns = {n.sval for n in named or ()} or ({column} if column else set())
                        if constraint.contype != C.CONSTR_FOREIGN:
                            keys.setdefault(table, set()).update(columns)
                        elif constraint.pktable is not None:
                            references.setdefault(table, set()).add(constraint.pktable.relname)
                            for name in columns:
                                foreign.setdefault(table, {})[name] = constraint.pktable.relname
    return {
        table: Added(
            checks=tuple(checks.get(table, ())),
            keys=frozenset(keys.get(table, ())),
            references=frozenset(references.get(table, ())),
            foreign=foreign.get(table, {}),
        )
        for table in checks.keys() | keys.keys() | references.keys()
    }


def _tables_to_fill(references: Mapping[str, Collection[str]], touched: set[str]) -> list[str]:
    """The touched tables and, transitively, every table their foreign keys reference."""
    wanted, stack = set(), list(touched)
    while stack:
        table = stack.pop()
        if table not in wanted:
            wanted.add(table)
            stack.extend(references.get(table, ()))
    return sorted(wanted)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _time_at(
    box: SandboxSession,
    fill: Sequence[str],
    statements: Sequence[str],
    rows: int,
    added: Mapping[str, Added],
    runs: int = RUNS,
) -> tuple[list[Timing], str]:
    """Fill the tables with `rows` rows each (committed, so that deferred foreign keys are
    checked), then run every statement in order inside a transaction that is rolled back, once to
    warm up and `runs` times measured; each statement's timing is the median of its runs."""
    try:
        box.execute("BEGIN")
        box.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, fill))))
        for table in fill:
            fill_table(box, table, rows, added.get(table, Added()).shape(rows))
        box.execute("COMMIT")
        box.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, fill))))
    except (psycopg.Error, ValueError) as exc:  # the database's refusal, or rows that cannot be made
        box.execute("ROLLBACK")
        return [], f"synthetic rows could not be made: {_first_line(exc)}"
    each: list[list[Timing]] = [[] for _ in statements]
    # A first, unmeasured run warms the caches: its times are the cold start of the session,
    # not the statements' (it made one run in six three times slower).
    for run in range(runs + 1):
        box.execute("BEGIN")
        try:
            for index, statement in enumerate(statements):
                box.execute(f"SAVEPOINT s{index}")
                started = time.perf_counter()
                try:
                    box.execute(statement)
                except psycopg.Error as exc:  # a failing statement is a result, not an error
                    box.execute(f"ROLLBACK TO SAVEPOINT s{index}")
                    if run:
                        each[index].append(Timing(rows, None, _first_line(exc)))
                    continue
                if run:
                    each[index].append(Timing(rows, time.perf_counter() - started))
                box.execute(f"RELEASE SAVEPOINT s{index}")
        finally:
            box.execute("ROLLBACK")
    return [median_timing(rows, timings) for timings in each], ""


def _sorts(statement: str) -> bool:
    """Whether the statement builds an index (CREATE INDEX, a UNIQUE or PRIMARY KEY constraint or
    column): its time grows as a sort's, n log n, rather than a scan's."""
    try:
        parsed = pglast.parse_sql(statement)
    except ParseError:
        return False
    C = enums.ConstrType
    for raw in parsed:
        node = raw.stmt
        if isinstance(node, ast.IndexStmt):
            return True
        if isinstance(node, ast.AlterTableStmt):
            for cmd in node.cmds or ():
                definition = cmd.def_
                if isinstance(definition, ast.Constraint):
                    if definition.contype in (C.CONSTR_UNIQUE, C.CONSTR_PRIMARY) and not definition.indexname:
                        return True
                elif isinstance(definition, ast.ColumnDef) and any(
                    c.contype in (C.CONSTR_UNIQUE, C.CONSTR_PRIMARY) for c in definition.constraints or ()
                ):
                    return True
    return False


def calibration_sizes(sizes: Sequence[int]) -> list[int]:
    """The sizes to measure at: those given (a size of 0 or less is not given), with their
    geometric middle added when only two are (three sizes at least, so that a growth model can be
    told from noise)."""
    chosen = sorted({size for size in sizes if size > 0})
    if len(chosen) == 2:
        chosen.insert(1, round(math.sqrt(chosen[0] * chosen[1])))
    return chosen


def estimate_statements(
    reviews: Sequence[StatementReview],
    *,
    base_tables: Mapping[str, int | None],
    references: Mapping[str, Collection[str]],  # base table -> the tables its foreign keys reference
    sandbox_with_base: Callable[[], AbstractContextManager[SandboxSession]],  # a session holding the base tables
    sizes: Sequence[int],
    max_tables: int = 40,
    runs: int = RUNS,
) -> list[Estimate]:
    """One estimate per review. `base_tables` maps the base revision's tables to their declared
    rows; statements on other tables touch a table this migration creates. Statements are timed
    `runs` times at each of `calibration_sizes(sizes)`. No more than `max_tables` tables are
    filled (the changed ones and those their foreign keys reach). A sandbox session is opened
    only to measure: not when no statement needs it, nor when more than `max_tables` tables
    would need filling."""
    plain: list[tuple[str, bool]] = []
    # Every statement on a base table that may hold rows is run, the light ones included: a
    # statement that fails on a table with rows (NOT NULL without a default) is proven to.
    measured = [r.table in base_tables and r.rows != 0 for r in reviews]
    results: list[Estimate | None] = [
        None
        if m
        else Estimate(0.0, NEW_TABLE)
        if r.table is not None and (r.rows == 0 or r.table not in base_tables)
        else Estimate(None, NOT_HEAVY)
        for r, m in zip(reviews, measured, strict=True)
    ]
    if any(measured) and any(_heavy(r) for r, m in zip(reviews, measured, strict=True) if m):
        # The tables the migration's new foreign keys reference are filled too: real ones have rows.
        # (Only the statements that name a reference are parsed before the tables are counted.)
        linked = constraints_added([r.sql for r in reviews if "REFERENCES" in r.sql])
        reaching = {table: {*references.get(table, ()), *linked[table].references} for table in linked}
        fill = _tables_to_fill(
            {**references, **reaching},
            {r.table for r, m in zip(reviews, measured, strict=True) if m and r.table},
        )
        fill = [table for table in fill if table in base_tables]
        per_size: list[list[Timing]] = []
        problem = ""
        if len(fill) > max_tables:
            problem = (
                f"measuring needs {len(fill)} tables filled with synthetic rows (the changed tables and those "
                f"their foreign keys reach), more than MIGRATION_CALIBRATION_MAX_TABLES ({max_tables})"
            )
        else:
            plain = [_plain(review.sql) for review in reviews]
            texts = [text for text, _ in plain]
            added = constraints_added(texts)
            with sandbox_with_base() as box:
                for size in calibration_sizes(sizes):
                    timings, problem = _time_at(box, fill, texts, size, added, runs)
                    if problem:
                        break
                    per_size.append(timings)
        failed_tables: set[str] = set()
        for index, review in enumerate(reviews):
            if results[index] is not None:
                continue
            if problem:
                results[index] = Estimate(None, f"not measured: {problem}")
                continue
            first = per_size[0][index]
            if review.table in failed_tables and first.seconds is None and "does not exist" in first.error:
                results[index] = Estimate(
                    None,
                    f"not measured: an earlier statement on {review.table} fails in the sandbox, and this one needs it",
                )
                continue
            if first.seconds is None and review.table:
                failed_tables.add(review.table)
            results[index] = extrapolate(
                [timings[index] for timings in per_size],
                review.rows,
                plain_form=plain[index][1],
                heavy=_heavy(review),
                sorts=_sorts(plain[index][0]),
            )
    return [r if r is not None else Estimate(None, NO_HEAVY) for r in results]


def total(estimates: Sequence[Estimate]) -> str:
    """The header's line: the sum of what was measured, or why there is nothing to sum."""
    known = [e.seconds for e in estimates if e.seconds is not None]
    unknown = [e for e in estimates if e.seconds is None and e.basis not in (NOT_HEAVY, NO_HEAVY)]
    if not known and not unknown:
        return "no statement rewrites or scans a table with rows: the time is the wait for locks"
    text = f"≈ {_seconds(sum(known))} in all, from statement times measured in the sandbox"
    if unknown:
        text += f"; {len(unknown)} statement(s) without an estimate (see their basis)"
    return text
