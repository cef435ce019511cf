"""Time estimates for the statements that rewrite or scan a table, measured in the sandbox.

No constant in code says how fast PostgreSQL is: the base revision's tables are built in a
throw-away schema, filled with synthetic rows at two small sizes, and every statement of the
migration is run in order and timed (inside a transaction that is rolled back, each statement
behind a savepoint so that one failure does not hide the others). The time at the declared
volume is extrapolated linearly from the two measurements, and the basis says so:
"measured 0.041 s at 10,000 rows and 0.160 s at 40,000 rows; ≈ 160 s at 40,000,000 rows".

CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction: such statements are timed in
their plain form, and their basis says that the concurrent build takes longer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import pglast
import psycopg
from pglast import ast, enums
from pglast.parser import ParseError
from pglast.stream import RawStream
from psycopg import sql

from apps.migrations_preview.engine.review import StatementReview
from apps.sandbox.engine import SandboxSession


@dataclass(frozen=True, slots=True)
class Estimate:
    seconds: float | None
    basis: str


@dataclass(frozen=True, slots=True)
class Timing:
    rows: int
    seconds: float | None  # None: the statement failed at this size
    error: str = ""


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
    if value >= 0.01:
        return f"{value:.2f} s"
    return f"{value * 1000:.1f} ms"


def extrapolate(
    small: Timing, large: Timing, rows: int | None, *, plain_form: bool = False, heavy: bool = True
) -> Estimate:
    """The estimate at `rows` from two measurements: a straight line through both points (its
    slope never below zero: measuring noise must not predict negative time). A statement that
    neither rewrites nor scans is not extrapolated: its time does not follow the rows."""
    failed = next((t for t in (small, large) if t.seconds is None), None)
    if failed is not None or small.seconds is None or large.seconds is None:
        failed = failed or small
        return Estimate(None, f"fails in the sandbox on a table of {_rows(failed.rows)} synthetic rows: {failed.error}")
    measured = (
        f"measured {_seconds(small.seconds)} at {_rows(small.rows)} rows and "
        f"{_seconds(large.seconds)} at {_rows(large.rows)} rows"
    )
    if plain_form:
        measured += " (timed without CONCURRENTLY, which reads the table twice and so takes longer)"
    if not heavy:
        return Estimate(
            round(large.seconds, 3),
            f"{measured}; no rewrite or scan, so the time does not grow with the rows: the real cost is the wait for its lock",
        )
    if rows is None:
        return Estimate(None, f"{measured}; declare the table's row volume to get an estimate")
    slope = (large.seconds - small.seconds) / (large.rows - small.rows)
    if slope <= 0:
        slope = large.seconds / large.rows
    intercept = max(0.0, large.seconds - slope * large.rows)
    seconds = round(intercept + slope * rows, 3)
    return Estimate(seconds, f"{measured}; ≈ {_seconds(seconds)} at {_rows(rows)} rows (linear extrapolation)")


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


# Values for synthetic rows, by the column's type in the catalog, from the row number g. The
# same type always gives the same value for the same g, so a foreign key column holds values
# its referenced key (filled the same way) has.
_FILL = {
    "smallint": "(g % 32000)::smallint",
    "integer": "g::integer",
    "bigint": "g::bigint",
    "numeric": "(g % 100)::numeric",
    "real": "(g * 0.5)::real",
    "double precision": "g * 0.5",
    "text": "md5(g::text)",
    "boolean": "g % 2 = 0",
    "date": "date '2000-01-01' + (g % 10000)",
    "timestamp with time zone": "timestamptz '2000-01-01 00:00+00' + g * interval '1 second'",
    "timestamp without time zone": "timestamp '2000-01-01' + g * interval '1 second'",
    "time without time zone": "time '00:00' + (g % 86400) * interval '1 second'",
    "interval": "g * interval '1 second'",
    "uuid": "md5(g::text)::uuid",
    "jsonb": "jsonb_build_object('n', g)",
    "json": "json_build_object('n', g)",
    "bytea": "decode(md5(g::text), 'hex')",
    "inet": "'10.0.0.0'::inet + g",
    "ARRAY": "'{}'",
}

_COLUMNS = """
SELECT column_name, data_type, character_maximum_length, is_nullable = 'YES', is_generated = 'ALWAYS'
  FROM information_schema.columns
 WHERE table_schema = current_schema() AND table_name = %s
 ORDER BY ordinal_position
"""

_CONSTRAINED = """
SELECT a.attname, c.contype, pg_get_constraintdef(c.oid)
  FROM pg_constraint c
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
 WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u', 'f', 'c')
UNION ALL
SELECT a.attname, 'u', ''
  FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
 WHERE i.indrelid = %s::regclass AND i.indisunique
"""
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_NUMBERS = ("smallint", "integer", "bigint", "numeric", "real", "double precision")


def checks_added(statements: Sequence[str]) -> dict[str, dict[str, str]]:
    """Table -> column -> CHECK text, for the checks the migration adds: synthetic rows should
    respect them as they respect the base's own, or the timing measures a refusal."""
    found: dict[str, dict[str, str]] = {}
    for statement in statements:
        try:
            parsed = pglast.parse_sql(statement)
        except ParseError:
            continue
        for raw in parsed:
            node = raw.stmt
            if not isinstance(node, ast.AlterTableStmt):
                continue
            for cmd in node.cmds or ():
                constraint = cmd.def_
                if isinstance(constraint, ast.Constraint) and constraint.contype == enums.ConstrType.CONSTR_CHECK:
                    text = str(RawStream()(constraint.raw_expr))
                    for ref in _column_refs(constraint.raw_expr):
                        found.setdefault(node.relation.relname, {})[ref] = text
    return found


def _column_refs(node: object) -> set[str]:
    names: set[str] = set()
    if isinstance(node, ast.ColumnRef):
        last = node.fields[-1]
        if isinstance(last, ast.String):
            names.add(last.sval)
    elif isinstance(node, ast.Node):
        for attribute in node:
            names |= _column_refs(getattr(node, attribute))
    elif isinstance(node, tuple | list):
        for item in node:
            names |= _column_refs(item)
    return names


def _insert(box: SandboxSession, table: str, rows: int, added_checks: Mapping[str, str]) -> None:
    """`rows` synthetic rows. Key columns get distinct values from the row number; columns under
    a CHECK get values such checks usually allow: small positive numbers, the first literal the
    check names for a text column, or NULL where the column allows it."""
    keys: set[str] = set()
    checks: dict[str, str] = dict(added_checks)
    quoted = sql.Identifier(table).as_string(None)
    for column, kind, definition in box.execute(_CONSTRAINED, (quoted, quoted)):
        if kind == "c":
            checks[column] = definition
        else:
            keys.add(column)
    names: list[sql.Composable] = []
    values: list[sql.Composable] = []
    for name, data_type, length, nullable, generated in box.execute(_COLUMNS, (table,)):
        if generated:
            continue
        if name in checks and name not in keys:
            literal = _LITERAL.search(checks[name])
            if data_type in _NUMBERS:
                names.append(sql.Identifier(name))
                values.append(sql.SQL("((g % 100) + 1)::{}").format(sql.SQL(data_type)))
                continue
            if literal is not None:
                names.append(sql.Identifier(name))
                values.append(sql.Literal(literal.group(1).replace("''", "'")))
                continue
            if nullable:
                continue
        if data_type in ("character varying", "character"):
            expression = f"left(md5(g::text), {int(length)})" if length else "md5(g::text)"
        elif data_type in _FILL:
            expression = _FILL[data_type]
        elif nullable:
            continue
        else:
            raise ValueError(f"no synthetic value for {table}.{name} of type {data_type}")
        names.append(sql.Identifier(name))
        values.append(sql.SQL(expression))
    box.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM generate_series(1, {}) AS g").format(
            sql.Identifier(table), sql.SQL(", ").join(names), sql.SQL(", ").join(values), sql.Literal(rows)
        )
    )


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
    added_checks: Mapping[str, Mapping[str, str]],
) -> tuple[list[Timing], str]:
    """Fill the tables with `rows` rows each (committed, so that deferred foreign keys are
    checked), then run every statement in order inside a transaction that is rolled back."""
    try:
        box.execute("BEGIN")
        box.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, fill))))
        for table in fill:
            _insert(box, table, rows, added_checks.get(table, {}))
        box.execute("COMMIT")
    except (psycopg.Error, ValueError) as exc:  # the database's refusal, or a type without synthetic values
        box.execute("ROLLBACK")
        return [], f"synthetic rows could not be made: {_first_line(exc)}"
    timings = []
    box.execute("BEGIN")
    try:
        for index, statement in enumerate(statements):
            box.execute(f"SAVEPOINT s{index}")
            started = time.perf_counter()
            try:
                box.execute(statement)
            except psycopg.Error as exc:  # a failing statement is a result, not an error
                box.execute(f"ROLLBACK TO SAVEPOINT s{index}")
                timings.append(Timing(rows, None, _first_line(exc)))
                continue
            timings.append(Timing(rows, time.perf_counter() - started))
            box.execute(f"RELEASE SAVEPOINT s{index}")
    finally:
        box.execute("ROLLBACK")
    return timings, ""


def estimate_statements(
    reviews: Sequence[StatementReview],
    *,
    base_tables: Mapping[str, int | None],
    references: Mapping[str, Collection[str]],  # base table -> the tables its foreign keys reference
    sandbox_with_base: Callable[[], AbstractContextManager[SandboxSession]],  # a session holding the base tables
    sizes: tuple[int, int],
    max_tables: int = 40,
) -> list[Estimate]:
    """One estimate per review. `base_tables` maps the base revision's tables to their declared
    rows; statements on other tables touch a table this migration creates. No more than
    `max_tables` tables are filled (the changed ones and those their foreign keys reach). A
    sandbox session is opened only to measure: not when no statement needs it, nor when more
    than `max_tables` tables would need filling."""
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
        fill = _tables_to_fill(references, {r.table for r, m in zip(reviews, measured, strict=True) if m and r.table})
        small, large = sorted(sizes)
        small_timings: list[Timing] = []
        large_timings: list[Timing] = []
        if len(fill) > max_tables:
            problem = (
                f"measuring needs {len(fill)} tables filled with synthetic rows (the changed tables and those "
                f"their foreign keys reach), more than MIGRATION_CALIBRATION_MAX_TABLES ({max_tables})"
            )
        else:
            plain = [_plain(review.sql) for review in reviews]
            texts = [text for text, _ in plain]
            added = checks_added(texts)
            with sandbox_with_base() as box:
                small_timings, problem = _time_at(box, fill, texts, small, added)
                if not problem:
                    large_timings, problem = _time_at(box, fill, texts, large, added)
        failed_tables: set[str] = set()
        for index, review in enumerate(reviews):
            if results[index] is not None:
                continue
            if problem:
                results[index] = Estimate(None, f"not measured: {problem}")
            elif (
                review.table in failed_tables
                and small_timings[index].seconds is None
                and "does not exist" in small_timings[index].error
            ):
                results[index] = Estimate(
                    None,
                    f"not measured: an earlier statement on {review.table} fails in the sandbox, and this one needs it",
                )
            else:
                if small_timings[index].seconds is None and review.table:
                    failed_tables.add(review.table)
                results[index] = extrapolate(
                    small_timings[index],
                    large_timings[index],
                    review.rows,
                    plain_form=plain[index][1],
                    heavy=_heavy(review),
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
