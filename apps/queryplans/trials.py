"""Index candidates tried against a query's plan: hypothetically with HypoPG (plain `EXPLAIN`
costs judge them: hypothetical indexes exist only for the connection that made them, and
`EXPLAIN ANALYZE` ignores them), each candidate alone, the costs before and after kept for the
trail, and only those that make the plan cheaper by at least `min_gain` and that the plan uses
advised.

An edge of the analyzer: it runs SQL on the psycopg connection it is given, which must be the
sandbox's (the run's own role and database, the design's tables in it), through a cursor that
binds PostgreSQL's own `$n` placeholders. The query reaching it has passed
`allowlist.check_query`; a candidate's statement is built by `candidates.index_candidates` from
the design's own names. Nothing here is kept between calls."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from apps.queryplans.engine.candidates import Candidate


@dataclass(frozen=True)
class Trial:
    candidate: Candidate
    cost_before: float
    cost_after: float
    used: bool  # the plan with the hypothetical index reads through it
    size_bytes: int  # HypoPG's estimate of the index's size
    advised: bool
    why: str  # why it was or was not advised


def hypopg_schema(connection: psycopg.Connection[Any]) -> str | None:
    """The schema HypoPG is installed in, in the connection's database; None without it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'hypopg'"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def plan_cost(cursor: Any, query: str, parameters: Sequence[Any] = ()) -> tuple[float, dict[str, Any]]:
    """(total cost, plan) of plain `EXPLAIN (FORMAT JSON)` of an allow-listed query, its `$n`
    bound to `parameters` (a RawCursor's)."""
    cursor.execute("EXPLAIN (FORMAT JSON) " + query, tuple(parameters))
    raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return float(plan["Total Cost"]), plan


def try_candidates(
    connection: psycopg.Connection[Any],
    query: str,
    candidates: Sequence[Candidate],
    *,
    parameters: Sequence[Any] = (),
    min_gain: float = 0.3,
) -> list[Trial]:
    """Each candidate tried alone as a hypothetical index on `query` (its `$n` bound to
    `parameters`), in order; the hypothetical indexes are dropped before returning."""
    schema = hypopg_schema(connection)
    if schema is None:
        raise LookupError("HypoPG is not installed in this database")
    with psycopg.RawCursor(connection) as cursor:
        return _try(cursor, sql.Identifier(schema), query, candidates, parameters, min_gain)


def _try(
    cursor: Any,
    schema: sql.Identifier,
    query: str,
    candidates: Sequence[Candidate],
    parameters: Sequence[Any],
    min_gain: float,
) -> list[Trial]:
    before, _ = plan_cost(cursor, query, parameters)
    trials = []
    for candidate in candidates:
        statement = candidate.sql.replace("CREATE INDEX CONCURRENTLY ON", "CREATE INDEX ON", 1)
        cursor.execute(
            sql.SQL("SELECT indexrelid, indexname FROM {}.hypopg_create_index($1)").format(schema), (statement,)
        )
        relid, name = cursor.fetchone()
        try:
            after, plan = plan_cost(cursor, query, parameters)
            cursor.execute(sql.SQL("SELECT {}.hypopg_relation_size($1)").format(schema), (relid,))
            size = int(cursor.fetchone()[0] or 0)
        finally:
            cursor.execute(sql.SQL("SELECT {}.hypopg_reset()").format(schema))
        used = name in json.dumps(plan)
        gain = 1 - after / before if before > 0 else 0.0
        if not used:
            advised, why = False, "the planner does not read through it"
        elif gain < min_gain:
            advised, why = False, f"too little gain: the cost falls by {gain:.0%} (less than {min_gain:.0%})"
        else:
            advised, why = True, f"the cost falls by {gain:.0%} ({before:,.0f} to {after:,.0f})"
        trials.append(Trial(candidate, before, after, used, size, advised, why))
    return _one_per_need(trials)


def _one_per_need(trials: list[Trial]) -> list[Trial]:
    """Of advised candidates on the same table where one's columns begin another's, only the
    cheaper plan is advised; the other says which covers it."""
    kept = list(trials)
    for index, trial in enumerate(kept):
        if not trial.advised:
            continue
        for other in kept:
            if other is trial or not other.advised or other.candidate.table != trial.candidate.table:
                continue
            mine, theirs = trial.candidate.columns, other.candidate.columns
            covers = theirs[: len(mine)] == mine and len(theirs) > len(mine) and not other.candidate.where
            if covers and other.cost_after <= trial.cost_after:
                kept[index] = replace(trial, advised=False, why=f"a better composite covers it: {other.candidate.sql}")
                break
    return kept
