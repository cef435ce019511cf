"""The query-plan analysis: the design's schema built in a sandbox session, filled with synthetic
rows at its declared volumes (one factor for every table, under a cap), then each query the
design will run planned with `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` on that data, its
parameters bound to values sampled from it; rules over each plan say what will hurt, and index
candidates are tried against the plan (hypothetically with HypoPG, else built) and advised only
when the plan proves them.

Input: the DesignModel, a way to open a sandbox session, a way to write the design's schema as
SQL (the migration preview's: given by the pipeline, as no analyzer imports another), the
sections of the analyzers that ran before (the generated endpoints' access patterns, the
traceability links) and the settings. Output: findings and the report's `queryplans` section.

Every query reaching the sandbox passed `allowlist.check_query`; each runs inside a transaction
that is always rolled back, under the session's statement timeout. Progress goes through `say`
(whose caller may stop the job by raising from it: the session, its role and its database are
dropped whatever happens).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql

from apps.designs.engine.findings import Finding, fingerprint
from apps.designs.engine.identifiers import written_identifier
from apps.designs.engine.model import DesignModel, Entity, SourceRef
from apps.queryplans.engine.candidates import (
    Bound,
    Candidate,
    NotAnIndexError,
    index_candidates,
    parameter_columns,
)
from apps.queryplans.engine.rules import PlanHit, PlanThresholds, plan_hits
from apps.queryplans.engine.schema import index_keys, leading_columns, unindexed_foreign_keys
from apps.queryplans.engine.workload import PlannedQuery, column_labels, planned_queries
from apps.queryplans.trials import Trial, hypopg_schema, plan_cost, try_candidates
from apps.sandbox.engine import SandboxSession
from apps.sandbox.synthetic import Shape, fill_table, scaled_rows

ANALYZER = "queryplans"


@dataclass(frozen=True)
class PlanSettings:
    cap: int = 1_000_000  # rows per table at most (QUERYPLANS_MAX_ROWS_PER_TABLE)
    default_rows: int = 10_000  # a table without a declared volume, before scaling
    query_timeout_ms: int = 30_000  # each EXPLAIN ANALYZE
    fill_timeout_ms: int = 600_000  # each table's synthetic rows, each constraint and index
    min_gain: float = 0.3  # an index is advised when it cuts the plan's cost by this share
    max_queries: int = 200
    min_rows: int = 1_000  # a table keeps at least this many rows (or its declared volume, if fewer)
    max_total_rows: int = 5_000_000  # all tables together; beyond it the factor shrinks
    max_parameters: int = 100  # a query with more parameters is refused
    slow_ms: float = 100.0  # a query this slow at the declared volumes makes its finding medium (else low)
    thresholds: PlanThresholds = field(default_factory=PlanThresholds)


Say = Callable[[str], None]
SchemaSql = Callable[[SandboxSession, DesignModel], list[str]]


@dataclass
class _Measured:
    query: PlannedQuery
    entry: dict[str, Any]
    hits: list[PlanHit] = field(default_factory=list)
    advice: list[dict[str, Any]] = field(default_factory=list)


def analyze_queryplans(
    model: DesignModel,
    sandbox: Callable[[], AbstractContextManager[SandboxSession]],
    *,
    schema_sql: SchemaSql,
    earlier: Mapping[str, Any] | None = None,
    settings: PlanSettings | None = None,
    say: Say | None = None,
) -> tuple[list[Finding], dict[str, Any]]:
    settings = settings or PlanSettings()
    tell: Say = say or (lambda message: None)
    queries, left_out = planned_queries(model, earlier=earlier)
    if len(queries) > settings.max_queries:
        left_out.append(
            f"{len(queries) - settings.max_queries} queries beyond QUERYPLANS_MAX_QUERIES ({settings.max_queries})"
        )
        queries = queries[: settings.max_queries]
    factor, rows, wanted = _scale(model, settings)
    growth = {table: max(1.0, wanted[table] / rows[table]) for table in rows}
    entities = {e.name: e for e in model.entities}
    section: dict[str, Any] = {
        "hypopg": False,
        "cap": settings.cap,
        "factor": factor,
        "scale": [
            {"table": e.name, "declared": e.rows, "rows": rows[e.name], "ratio": round(growth[e.name], 3)}
            for e in model.entities
        ],
        "scaling": _scaling_note(factor, settings),
        "queries": [],
        "left_out": left_out,
        "notes": [],
        "timings_ms": {},
    }
    if model.queries and "traceability" not in (earlier or {}):
        section["notes"].append(
            "The named queries are compared with their stories' budgets only through the links traceability "
            "finds (a query to the endpoints that run it); it did not run, so only queries a story cites have one."
        )
    measured: list[_Measured] = []
    with sandbox() as box:
        started = time.perf_counter()
        notes = _build(box, model, rows, schema_sql, settings, tell)
        section["notes"] += notes
        section["timings_ms"]["data"] = round((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        connection = box.connection  # type: ignore[attr-defined]
        hypopg = hypopg_schema(connection) is not None
        section["hypopg"] = hypopg
        columns = {e.name: frozenset(c.name for c in e.columns) for e in model.entities}
        existing = {e.name: index_keys(e) for e in model.entities}
        indexed = {e.name: leading_columns(e) for e in model.entities}
        _set(box, "statement_timeout", settings.query_timeout_ms)
        for position, query in enumerate(queries, start=1):
            tell(f"query {position} of {len(queries)}: {query.name}")
            measured.append(
                _measure(
                    connection, query, (growth, rows), columns, existing, indexed, entities, settings, hypopg, tell
                )
            )
        if hypopg:
            _one_index_for_many(connection, measured, (growth, rows), settings, tell)
        _checks_served_by_reads(connection, measured, (growth, rows), tell)
        section["timings_ms"]["queries"] = round((time.perf_counter() - started) * 1000)
    section["queries"] = [m.entry for m in measured]
    return _findings(measured, indexed, settings.thresholds, settings.slow_ms), section


def _scale(model: DesignModel, settings: PlanSettings) -> tuple[float, dict[str, int], dict[str, int]]:
    """(factor, rows per table, the rows each table stands for): one factor for every table, so
    that the largest holds at most `cap` rows and all together at most `max_total_rows`; then a
    table of few rows keeps at least `min_rows` (or all its declared rows): 2,000 categories
    scaled to 17 would make a category's filter pick a sixth of the products instead of one in
    2,000, and every plan over them wrong."""
    declared = {e.name: e.rows for e in model.entities}
    wanted = {t: max(1, v if v is not None else settings.default_rows) for t, v in declared.items()}
    factor, rows = scaled_rows(declared, cap=settings.cap, default=settings.default_rows)
    total = sum(rows.values())
    if total > settings.max_total_rows:
        cap = max(1, int(max(wanted.values()) * factor * settings.max_total_rows / total))
        factor, rows = scaled_rows(declared, cap=cap, default=settings.default_rows)
    rows = {t: max(n, min(wanted[t], settings.min_rows), 1) for t, n in rows.items()}
    return factor, rows, wanted


def _scaling_note(factor: float, settings: PlanSettings) -> str:
    if factor >= 1:
        return "Every table holds its declared volume (or the default where none is declared): times are as measured."
    return (
        f"Every table holds its declared volume times {factor:.4g} (the largest at most {settings.cap:,} rows, all "
        f"together at most {settings.max_total_rows:,}; one factor for all, so each parent keeps its children's "
        f"ratio), and a table of few rows at least {settings.min_rows:,} (or all its declared rows), so that a "
        "filter on it picks what it would pick at volume. The planner's row counts are those of the sample: at the "
        "declared volumes, multiply a table's by its ratio (declared over sample rows). Times at volume "
        "(`scaled_ms`) take the time of each plan node that reads a share of its table (sequential scans, scans "
        "reading a twentieth of their table or more, the sorts, hashes and aggregates over them, a nested loop's "
        "inner side when its outer side grows) times that table's ratio, and keep the rest: a lookup by key "
        "reads as many rows at any volume."
    )


def _set(box: SandboxSession, setting: str, value: int) -> None:
    box.execute(sql.SQL("SET {} = {}").format(sql.Identifier(setting), sql.Literal(value)))


def _fill_order(entities: Mapping[str, Entity]) -> list[str]:
    """Tables with the tables their foreign keys reference first (a cycle is broken where met)."""
    order: list[str] = []
    state: dict[str, int] = {}
    for start in entities:
        stack = [(start, iter(sorted({fk.ref_table for fk in entities[start].foreign_keys})))]
        if state.get(start):
            continue
        state[start] = 1
        while stack:
            table, parents = stack[-1]
            parent = next(parents, None)
            if parent is None:
                stack.pop()
                state[table] = 2
                order.append(table)
            elif parent in entities and not state.get(parent):
                state[parent] = 1
                stack.append((parent, iter(sorted({fk.ref_table for fk in entities[parent].foreign_keys}))))
    return order


def _shape(entity: Entity, rows: Mapping[str, int], labels: Mapping[str, tuple[str, ...]]) -> Shape:
    references = {
        fk.columns[0]: (fk.ref_table, rows[fk.ref_table])
        for fk in entity.foreign_keys
        if len(fk.columns) == 1 and fk.ref_table in rows
    }
    keys: set[str] = set()
    for unique in entity.uniques:
        free = [c for c in unique.columns if c not in references]
        if free:
            keys.add(free[-1])  # one column of the constraint distinct makes the whole distinct
    return Shape(keys=frozenset(keys), references=references, labels=dict(labels))


def _build(
    box: SandboxSession,
    model: DesignModel,
    rows: Mapping[str, int],
    schema_sql: SchemaSql,
    settings: PlanSettings,
    tell: Say,
) -> list[str]:
    """The schema's tables, their synthetic rows, then their constraints and indexes (built once
    over the rows rather than kept up row by row), then ANALYZE. Returns notes for the report."""
    notes: list[str] = []
    statements = schema_sql(box, model)
    tables = [s for s in statements if s.startswith("CREATE TABLE")]
    rest = [s for s in statements if not s.startswith("CREATE TABLE")]
    tell(f"creating the schema: {len(tables)} tables")
    for statement in tables:
        box.execute(statement)
    _set(box, "statement_timeout", settings.fill_timeout_ms)
    entities = {e.name: e for e in model.entities}
    labels = column_labels(model)
    for table in _fill_order(entities):
        tell(f"synthetic rows: {table} ({rows[table]:,})")
        try:
            fill_table(box, table, rows[table], _shape(entities[table], rows, labels.get(table, {})))
        except (ValueError, psycopg.Error) as exc:  # rows the design's constraints refuse, a fill cut off
            made = box.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            notes.append(
                f"{table}: synthetic rows could not be made ({_first_line(exc)[:300]}); its queries are planned over "
                f"the {made[0][0]:,} rows it has"
            )
        for column in entities[table].columns:
            if column.identity:  # a later INSERT takes the next key, not one the fill used
                box.execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence(%s, %s), (SELECT coalesce(max({}), 0) + 1 FROM {}), false)"
                    ).format(sql.Identifier(column.name), sql.Identifier(table)),
                    (written_identifier(table), column.name),
                )
    tell(f"constraints and indexes: {len(rest)} statements over the rows")
    for statement in rest:
        try:
            box.execute(statement)
        except psycopg.Error as exc:
            notes.append(f"not applied to the synthetic rows: {statement[:160]} ({_first_line(exc)})")
    # VACUUM as well: a table in use is vacuumed, and without its visibility map the planner
    # would never read a covering index alone.
    tell("VACUUM ANALYZE: the planner's statistics of the synthetic rows")
    box.execute("VACUUM ANALYZE")
    return notes


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _explain(cursor: Any, query: str, parameters: Sequence[Any], *, write: bool = False) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of the query inside a transaction rolled back
    whatever happens (a write changes nothing). A write checks its foreign keys at once (they
    are deferrable: at commit, which never comes), so their triggers' time is in the plan."""
    cursor.execute("BEGIN")
    try:
        if write:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, tuple(parameters))
        raw = cursor.fetchone()[0]
    finally:
        cursor.execute("ROLLBACK")
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]


_TRIAL_INDEX = "workbench_trial_index"


@dataclass(frozen=True)
class _Built:
    cost_after: float
    used: bool
    size_bytes: int
    plan_after: dict[str, Any]


def _build_and_measure(
    cursor: Any, query: str, parameters: Sequence[Any], candidate: Candidate, *, write: bool
) -> _Built:
    """The candidate built for real on the synthetic rows, its table analysed (an expression
    index gets statistics of its own), the query's cost and time measured with it; all inside
    a transaction rolled back."""
    statement = candidate.sql.replace("CREATE INDEX CONCURRENTLY ON", f"CREATE INDEX {_TRIAL_INDEX} ON", 1)
    cursor.execute("BEGIN")
    try:
        if write:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(statement)
        cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(candidate.table)))
        cost, plain = plan_cost(cursor, query, parameters)
        cursor.execute(sql.SQL("SELECT pg_relation_size({})").format(sql.Literal(_TRIAL_INDEX)))
        size = int(cursor.fetchone()[0])
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, tuple(parameters))
        raw = cursor.fetchone()[0]
    finally:
        cursor.execute("ROLLBACK")
    after = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    used = _TRIAL_INDEX in json.dumps(plain) or _TRIAL_INDEX in json.dumps(after)
    return _Built(cost, used, size, after)


def _sample(
    cursor: Any,
    query: PlannedQuery,
    columns: Mapping[str, frozenset[str]],
    entities: Mapping[str, Entity],
    *,
    rare: bool,
) -> list[dict[str, Any]]:
    """A value for each parameter, read from the synthetic rows: the parameters compared for
    equality with one table's columns come from one row of it, the one with the most frequent
    (or, `rare`, the least frequent) value of the first; a range's ends are the 25th and 75th
    percentiles; an OFFSET is 0 (the deep page is its own variant); a LIMIT is 50. A delete's
    row is one no other row references (a referenced one is refused by its foreign keys, so
    its checks would never be timed)."""
    bounds = parameter_columns(query.sql, columns=columns)
    values: dict[int, tuple[str | None, str]] = {}
    by_table: dict[str, list[Bound]] = {}
    for bound in bounds.values():
        if bound.role == "equal":
            by_table.setdefault(bound.table, []).append(bound)
        elif bound.role in {"low", "high"}:
            fraction = 0.25 if bound.role == "low" else 0.75
            cursor.execute(
                sql.SQL("SELECT (percentile_disc({}) WITHIN GROUP (ORDER BY {}))::text FROM {}").format(
                    sql.Literal(fraction), sql.Identifier(bound.column), sql.Identifier(bound.table)
                )
            )
            values[bound.number] = (cursor.fetchone()[0], "range")
        elif bound.role == "offset":
            values[bound.number] = ("0", "first page")
        elif bound.role == "limit":
            values[bound.number] = ("50", "page size")
    deletes = query.sql.lstrip().upper().startswith("DELETE")
    for table, group in by_table.items():
        first = sql.Identifier(group[0].column)
        unreferenced = sql.SQL("")
        if deletes and table in entities:
            key = entities[table].primary_key
            checks = [
                sql.SQL("NOT EXISTS (SELECT 1 FROM {c} WHERE {c}.{fk} = sampled.{k})").format(
                    c=sql.Identifier(child.name),
                    fk=sql.Identifier(fk.columns[0]),
                    k=sql.Identifier(fk.ref_columns[0] if fk.ref_columns else key[0]),
                )
                for child in entities.values()
                for fk in child.foreign_keys
                if fk.ref_table == table and len(fk.columns) == 1 and key
            ]
            if checks:
                unreferenced = sql.SQL(" AND ") + sql.SQL(" AND ").join(checks)
        cursor.execute(
            sql.SQL(
                "SELECT {c} FROM {t} AS sampled WHERE {c} IS NOT NULL{u} GROUP BY {c} ORDER BY count(*) {d}, {c} LIMIT 1"
            ).format(c=first, t=sql.Identifier(table), u=unreferenced, d=sql.SQL("ASC" if rare else "DESC"))
        )
        found = cursor.fetchone()
        if found is None:
            continue
        wanted = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(b.column)) for b in group)
        cursor.execute(
            sql.SQL("SELECT {} FROM {} AS sampled WHERE {} = $1{} LIMIT 1").format(
                wanted, sql.Identifier(table), first, unreferenced
            ),
            (found[0],),
        )
        row = cursor.fetchone()
        for bound, value in zip(group, row or (), strict=False):
            values[bound.number] = (value, "rare" if rare else "frequent")
    count = len(query.parameters) or max(bounds, default=0)
    return [
        {
            "name": query.parameters[n - 1] if n - 1 < len(query.parameters) else f"${n}",
            "value": values.get(n, (None, ""))[0],
            "sample": values.get(n, (None, "none: not compared with a column"))[1],
        }
        for n in range(1, count + 1)
    ]


def _scaled_ms(plan: Mapping[str, Any], scale: tuple[Mapping[str, float], Mapping[str, int]]) -> float:
    """The measured time (planning and execution) taken to the declared volumes (see
    `_scaling_note`): a node's own time is multiplied by its table's ratio of declared to sample
    rows when its work grows with the table: a sequential scan; a scan reading at least a twentieth
    of its table; a node over such input (the largest ratio below it); the inner side of a nested
    loop whose outer side grows (more loops). A lookup by key and what sits over it keep their
    time, and so does every node of a table kept whole."""
    growth, sample = scale

    def inclusive(node: Mapping[str, Any]) -> float:
        return float(node.get("Actual Total Time") or 0) * max(float(node.get("Actual Loops") or 1), 1)

    def children(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return [c for c in node.get("Plans", ()) if isinstance(c, Mapping)]

    def grows(node: Mapping[str, Any]) -> float:
        table = node.get("Relation Name")
        if table in growth:
            read = (float(node.get("Actual Rows") or 0) + float(node.get("Rows Removed by Filter") or 0)) * max(
                float(node.get("Actual Loops") or 1), 1
            )
            if "Seq Scan" in str(node.get("Node Type", "")) or read * 20 >= sample[table]:
                return growth[table]
        return max((grows(c) for c in children(node)), default=1.0)

    total = float(plan.get("Planning Time") or 0)
    stack: list[tuple[Mapping[str, Any], float]] = [(plan["Plan"], 1.0)]
    while stack:
        node, looped = stack.pop()
        below = children(node)
        own = max(inclusive(node) - sum(inclusive(c) for c in below), 0.0)
        total += own * max(looped, grows(node))
        outer = grows(below[0]) if node.get("Node Type") == "Nested Loop" and below else 1.0
        for index, child in enumerate(below):
            stack.append((child, max(looped, outer if index > 0 else 1.0)))
    largest = max(growth.values(), default=1.0)
    for trigger in plan.get("Triggers", ()):
        total += float(trigger.get("Time") or 0) * largest  # a foreign key's check reads the referencing table
    return total


def _measure(
    connection: Any,
    query: PlannedQuery,
    scale: tuple[Mapping[str, float], Mapping[str, int]],
    columns: Mapping[str, frozenset[str]],
    existing: Mapping[str, list[tuple[str, ...]]],
    indexed: Mapping[str, frozenset[str]],
    entities: Mapping[str, Entity],
    settings: PlanSettings,
    hypopg: bool,
    tell: Say,
) -> _Measured:
    entry: dict[str, Any] = {
        "name": query.name,
        "source": query.source,
        "sql": query.verdict.sql if query.verdict.allowed else query.sql,
        "endpoint": query.endpoint,
        "stories": list(query.stories),
        "story": query.stories[0] if query.stories else None,
        "kind": query.verdict.kind,
        "parameters": [],
        "status": "refused",
        "error": "",
        "plan": None,
        "cost": None,
        "ms": None,
        "scaled_ms": None,
        "budget_ms": query.budget_ms,
        "over_budget": False,
        "variants": [],
        "hits": [],
        "advice": [],
        "trail": [],
        "judged_on": "frequent values",  # the run the candidate indexes were judged on
    }
    result = _Measured(query, entry)
    if not query.verdict.allowed:
        entry["error"] = query.verdict.reason
        return result
    text = query.verdict.sql
    write = query.verdict.kind == "write"
    if len(query.verdict.parameters) > settings.max_parameters:
        entry["error"] = (
            f"{len(query.verdict.parameters):,} parameters, more than QUERYPLANS_MAX_PARAMETERS "
            f"({settings.max_parameters}): a query of the design takes a few"
        )
        return result
    with psycopg.RawCursor(connection) as cursor:
        try:
            parameters = _sample(cursor, query, columns, entities, rare=False)
            values = [p["value"] for p in parameters]
            entry["parameters"] = parameters
            unbound = [p["name"] for p in parameters if p["value"] is None]
            if unbound:
                entry["notes"] = [
                    f"{', '.join(unbound)}: compared with no column as a plain value (an array, a containment, a text "
                    "search), so bound to NULL; the plan is that of a query matching nothing"
                ]
            plan = _explain(cursor, text, values, write=write)
            cost, _ = plan_cost(cursor, text, values)
        except psycopg.Error as exc:
            _recover(cursor)
            entry.update(status="failed", error=_first_line(exc))
            return result
        # What a client waits for: planning and execution (scaled_ms counts both too).
        ms = float(plan.get("Planning Time") or 0) + _total_ms(plan)
        entry.update(status="measured", plan=plan, cost=cost, ms=round(ms, 3))
        entry["scaled_ms"] = round(_scaled_ms(plan, scale), 3)
        entry["over_budget"] = query.budget_ms is not None and entry["scaled_ms"] > query.budget_ms
        result.hits = plan_hits(plan["Plan"], indexed=indexed, thresholds=settings.thresholds)
        entry["hits"] = [_hit_dict(h) for h in result.hits]
        try:
            entry["variants"] = _variants(cursor, query, text, columns, entities, parameters, settings, write)
        except psycopg.Error as exc:
            _recover(cursor)
            entry["variants"] = [
                {"label": "other values", "error": _first_line(exc), "parameters": [], "ms": None, "plan": None}
            ]
        candidates = index_candidates(text, columns=columns, existing=existing) if not write else []
        candidates += _foreign_key_candidates(plan, query, entities)
        refused = []
        for candidate in list(candidates):
            try:
                _ = candidate.sql
            except NotAnIndexError as exc:  # never run: whatever built it, only one CREATE INDEX gets through
                candidates.remove(candidate)
                refused.append({"sql": "", "table": candidate.table, "advised": False, "why": f"not tried: {exc}"})
        entry["trail"] = refused
        if not candidates:
            return result
        # Candidates are judged on the slower of the frequent and the rare value's runs: an index
        # matters most where the data's distribution makes the plan read the most.
        judged_on, judged_values = plan, values
        for variant in entry["variants"]:
            # Clearly slower only (half again): runs a few percent apart would flip the advice between runs.
            if variant["label"] == "rare values" and variant.get("plan") and variant["ms"] > 1.5 * _total_ms(judged_on):
                judged_on, judged_values = variant["plan"], [p["value"] for p in variant["parameters"]]
                entry["judged_on"] = "rare values"
        tell(f"{query.name}: trying {len(candidates)} candidate index(es)")
        try:
            trail = _trials(
                connection,
                cursor,
                text,
                judged_values,
                candidates,
                hypopg,
                settings,
                write,
                judged_on,
                tell,
                query.name,
            )
        except psycopg.Error as exc:
            _recover(cursor)
            entry["trail"] = [
                {"sql": c.sql, "table": c.table, "advised": False, "why": f"could not be tried: {_first_line(exc)}"}
                for c in candidates
            ]
            return result
        entry["trail"] = refused + trail
        result.advice = [t.pop("advice") for t in trail if t.get("advice")]
        for item in trail:
            item.pop("advice", None)
        for advice in result.advice:
            advice["scaled_ms_after"] = round(_scaled_ms(advice["plan_after"], scale), 3)
        entry["advice"] = result.advice
    return result


def _one_index_for_many(
    connection: Any,
    measured: list[_Measured],
    scale: tuple[Mapping[str, float], Mapping[str, int]],
    settings: PlanSettings,
    tell: Say,
) -> None:
    """Where reads were advised different indexes on one table, one of them may serve them all:
    each is tried (hypothetically) on the others' queries, and an index that cuts a query's cost
    by QUERYPLANS_MIN_GAIN and comes within half again of the query's own advice serves it. The
    index serving the most queries is kept (then the next, for those it does not serve); a query
    moved to it gets that index's advice, built and measured on its own plan, and its trail says
    which index serves it and why its own was dropped."""
    by_table: dict[str, list[_Measured]] = {}
    for item in measured:
        for advice in item.advice:
            if item.query.verdict.kind == "read" and advice["method"] == "hypothetical":
                by_table.setdefault(advice["table"], []).append(item)
    for table, items in by_table.items():
        statements = {a["sql"]: a for item in items for a in item.advice if a["table"] == table}
        if len(statements) < 2:
            continue
        tell(f"{table}: whether one of {len(statements)} advised indexes serves all their queries")
        candidates = {
            sql: Candidate(table, tuple(a["columns"]), a["where"] or "", include=tuple(a.get("include", ())))
            for sql, a in statements.items()
        }
        serves: dict[str, set[int]] = {sql: set() for sql in statements}
        for index, item in enumerate(items):
            own = next(a for a in item.advice if a["table"] == table)
            values = [p["value"] for p in item.entry["parameters"]]
            trials = try_candidates(
                connection,
                item.query.verdict.sql,
                list(candidates.values()),
                parameters=values,
                min_gain=settings.min_gain,
            )
            for trial in trials:
                if (
                    trial.used
                    and trial.cost_after <= own["cost_before"] * (1 - settings.min_gain)
                    and (trial.cost_after <= own["cost_after"] * 1.5)
                ):
                    serves[trial.candidate.sql].add(index)
        chosen: dict[int, str] = {}
        remaining = set(range(len(items)))
        while remaining:
            pick = max(serves, key=lambda sql: (len(serves[sql] & remaining), -statements[sql]["size_bytes"]))
            if not serves[pick] & remaining:
                break
            for index in serves[pick] & remaining:
                chosen[index] = pick
            remaining -= serves[pick]
        with psycopg.RawCursor(connection) as cursor:
            for index, item in enumerate(items):
                own = next(a for a in item.advice if a["table"] == table)
                pick = chosen.get(index, own["sql"])
                if pick == own["sql"]:
                    continue
                values = [p["value"] for p in item.entry["parameters"]]
                made = _build_and_measure(cursor, item.query.verdict.sql, values, candidates[pick], write=False)
                ms_before = own["ms_before"]
                if _total_ms(made.plan_after) >= ms_before:
                    continue  # not faster once built: the query keeps its own index
                cost_after = plan_cost_with(connection, item.query.verdict.sql, values, candidates[pick])
                moved = {
                    **statements[pick],
                    "why": f"one index for every query on {table} it serves: the cost falls from {own['cost_before']:,.0f} to {cost_after:,.0f}",
                    "cost_before": own["cost_before"],
                    "cost_after": cost_after,
                    "ms_before": ms_before,
                    "ms_after": round(_total_ms(made.plan_after), 3),
                    "plan_after": made.plan_after,
                }
                moved["scaled_ms_after"] = round(_scaled_ms(made.plan_after, scale), 3)
                item.advice[item.advice.index(own)] = moved
                item.entry["advice"] = item.advice
                for entry in item.entry["trail"]:
                    if entry["sql"] == own["sql"]:
                        entry.update(
                            advised=False,
                            why=f"{entry['why']}, but {pick} serves this query too, and the other queries on {table}: one index instead of two",
                        )
                if not any(entry["sql"] == pick for entry in item.entry["trail"]):
                    item.entry["trail"].append(
                        {
                            "sql": pick,
                            "table": table,
                            "cost_before": own["cost_before"],
                            "cost_after": cost_after,
                            "used": True,
                            "advised": True,
                            "why": moved["why"],
                            "method": "hypothetical",
                        }
                    )
                else:
                    for entry in item.entry["trail"]:
                        if entry["sql"] == pick:
                            entry.update(advised=True, why=moved["why"])


def _checks_served_by_reads(
    connection: Any, measured: list[_Measured], scale: tuple[Mapping[str, float], Mapping[str, int]], tell: Say
) -> None:
    """A delete's foreign key check needs an index leading with the referencing columns; where a
    read was advised one that does (order_lines (order_id) INCLUDE (...)), that index serves the
    check too: the delete's advice becomes it, built and measured on the delete, rather than a
    second index on the same columns."""
    reads = [a for item in measured if item.query.verdict.kind == "read" for a in item.advice if not a.get("where")]
    with psycopg.RawCursor(connection) as cursor:
        for item in measured:
            if item.query.verdict.kind != "write":
                continue
            for position, own in enumerate(list(item.advice)):
                width = len(own["columns"])
                wider = next(
                    (
                        a
                        for a in reads
                        if a["table"] == own["table"]
                        and a["columns"][:width] == own["columns"]
                        and a["sql"] != own["sql"]
                    ),
                    None,
                )
                if wider is None:
                    continue
                tell(f"{item.query.name}: whether {wider['sql']} serves its foreign key check")
                candidate = Candidate(own["table"], tuple(wider["columns"]), include=tuple(wider.get("include", ())))
                values = [p["value"] for p in item.entry["parameters"]]
                made = _build_and_measure(cursor, item.query.verdict.sql, values, candidate, write=True)
                if _total_ms(made.plan_after) > own["ms_after"] * 1.5 + 1:
                    continue  # it does not serve the check as well: the delete keeps its own
                item.advice[position] = {
                    **own,
                    "sql": wider["sql"],
                    "columns": list(wider["columns"]),
                    "include": list(wider.get("include", ())),
                    "why": f"the index a read was advised leads with {', '.join(own['columns'])}: it serves this check too",
                    "ms_after": round(_total_ms(made.plan_after), 3),
                    "size_bytes": made.size_bytes,
                    "plan_after": made.plan_after,
                    "scaled_ms_after": round(_scaled_ms(made.plan_after, scale), 3),
                }
                for entry in item.entry["trail"]:
                    if entry["sql"] == own["sql"]:
                        entry.update(
                            advised=False, why=f"{entry['why']}, but {wider['sql']} (advised for a read) serves it too"
                        )
                item.entry["advice"] = item.advice


def plan_cost_with(connection: Any, query: str, values: Sequence[Any], candidate: Candidate) -> float:
    """The query's plain EXPLAIN cost with the candidate as a hypothetical index."""
    [trial] = try_candidates(connection, query, [candidate], parameters=values, min_gain=0.0)
    return trial.cost_after


def _recover(cursor: Any) -> None:
    with contextlib.suppress(psycopg.Error):
        cursor.execute("ROLLBACK")


def _variants(cursor, query, text, columns, entities, parameters, settings, write) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The same query with a rare value where the main run bound a frequent one, and on a deep
    page where it takes an OFFSET."""
    found = []
    if any(p["sample"] == "frequent" for p in parameters):
        rare = _sample(cursor, query, columns, entities, rare=True)
        if [p["value"] for p in rare] != [p["value"] for p in parameters]:
            plan = _explain(cursor, text, [p["value"] for p in rare], write=write)
            found.append({"label": "rare values", "parameters": rare, "ms": round(_total_ms(plan), 3), "plan": plan})
    offsets = [i for i, p in enumerate(parameters) if p["sample"] == "first page"]
    if offsets:
        deep = [dict(p) for p in parameters]
        for i in offsets:
            deep[i].update(value=str(settings.thresholds.deep_offset * 2), sample="deep page")
        plan = _explain(cursor, text, [p["value"] for p in deep], write=write)
        found.append({"label": "a deep page", "parameters": deep, "ms": round(_total_ms(plan), 3), "plan": plan})
    return found


def _foreign_key_candidates(
    plan: Mapping[str, Any], query: PlannedQuery, entities: Mapping[str, Entity]
) -> list[Candidate]:
    """A delete checks each foreign key that references its table (the triggers in EXPLAIN
    ANALYZE's output): where the referencing side has no index, each check reads the whole
    referencing table."""
    if query.verdict.kind != "write" or not plan.get("Triggers"):
        return []
    written = set(query.verdict.tables)
    return [
        Candidate(
            fk.table,
            tuple(written_identifier(c) for c in fk.columns),
            why=f"the foreign key {fk.table} ({', '.join(fk.columns)}) -> {fk.ref_table}: checked on each delete",
        )
        for fk in unindexed_foreign_keys(entities.values())
        if fk.ref_table in written
    ]


def _trials(
    connection, cursor, text, values, candidates, hypopg, settings, write, plan, tell, name
) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Each candidate tried alone, its trail entry with, when advised, the proven `advice`.

    A candidate on plain columns of a read is tried hypothetically when HypoPG is there (plain
    EXPLAIN costs judge it), then, when advised, built for real to measure the time it saves; a
    candidate on an expression (HypoPG has no statistics for it, so the planner guesses its
    selectivity), a foreign key's for a write (its checks run, so it must exist), or any without
    HypoPG is built for real inside a transaction that is rolled back and judged the same way:
    by the plan's cost for a read, by the statement's time (its checks included) for a write."""
    hypothetical = [c for c in candidates if hypopg and not write and not any("(" in col for col in c.columns)]
    judged: dict[Candidate, Trial] = {}
    if hypothetical:
        tell(f"{name}: {len(hypothetical)} hypothetical index(es) with HypoPG")
        for trial in try_candidates(connection, text, hypothetical, parameters=values, min_gain=settings.min_gain):
            judged[trial.candidate] = trial
    built: dict[Candidate, _Built] = {}
    checked: dict[Candidate, tuple[float, float]] = {}  # a write's foreign key checks, ms before and after
    before_cost = None
    for candidate in candidates:
        if candidate in judged:
            continue
        tell(f"{name}: building {candidate.sql.removeprefix('CREATE INDEX CONCURRENTLY ON ').rstrip(';')} on the rows")
        made = _build_and_measure(cursor, text, values, candidate, write=write)
        built[candidate] = made
        if before_cost is None:
            before_cost = plan_cost(cursor, text, values)[0]
        if write:
            # The checks run in triggers, outside the plan's costs: their time judges the index.
            checks = _constraints(cursor, candidate.table)
            before, after = _trigger_ms(plan, checks), _trigger_ms(made.plan_after, checks)
            checked[candidate] = (round(before, 3), round(after, 3))
            unit = f"the time of the foreign key checks on {candidate.table} (ms)"
        else:
            before, after = before_cost, made.cost_after
            unit = "the cost"
        gain = 1 - after / before if before > 0 else 0.0
        if not made.used and not write:  # a write's foreign key checks are not in its plan: their time tells
            advised, why = False, "the planner does not read through it (built on the rows)"
        elif gain < settings.min_gain:
            advised, why = False, f"too little gain: {unit} falls by {gain:.0%} (less than {settings.min_gain:.0%})"
        else:
            advised, why = True, f"{unit} falls by {gain:.0%} ({before:,.1f} to {after:,.1f}; built on the rows)"
        judged[candidate] = Trial(candidate, before_cost, made.cost_after, made.used, made.size_bytes, advised, why)
    if not write:
        # One index per table serves a read. Of those advised on one table, the smallest is kept
        # unless a larger one cuts the query's cost by QUERYPLANS_MIN_GAIN more (of the cost
        # before): (category_id, price_amount) and (category_id, id) both help a category's page,
        # and either is enough; a covering index (INCLUDE) wins over its key alone only where the
        # rows it spares reading are a real share of the query.
        advised: dict[str, list[Trial]] = {}
        for trial in judged.values():
            if trial.advised:
                advised.setdefault(trial.candidate.table, []).append(trial)
        best: dict[str, Trial] = {}
        for table, trials in advised.items():
            cheapest = min(t.cost_after for t in trials)
            near = [t for t in trials if t.cost_after - cheapest < settings.min_gain * t.cost_before]
            best[table] = min(near, key=lambda t: (t.size_bytes, len(t.candidate.include), t.cost_after))
        for candidate, trial in list(judged.items()):
            chosen = best.get(candidate.table)
            if trial.advised and chosen is not None and chosen is not trial:
                judged[candidate] = replace(
                    trial,
                    advised=False,
                    why=(
                        f"{trial.why}, but one index on {candidate.table} serves this query: {chosen.candidate.sql} "
                        f"(cost {chosen.cost_after:,.0f} against {trial.cost_after:,.0f}, "
                        f"{chosen.size_bytes / 1024:,.0f} KiB against {trial.size_bytes / 1024:,.0f} KiB)"
                    ),
                )
    trail = []
    for candidate in candidates:
        trial = judged[candidate]
        item = _trail_dict(trial)
        item["method"] = "built" if candidate in built else "hypothetical"
        if candidate in checked:
            item["checks_ms_before"], item["checks_ms_after"] = checked[candidate]
        if trial.advised:
            if candidate not in built:
                tell(
                    f"{name}: proving {candidate.sql.removeprefix('CREATE INDEX CONCURRENTLY ON ').rstrip(';')} built on the rows"
                )
            made = built.get(candidate) or _build_and_measure(cursor, text, values, candidate, write=write)
            ms_before, ms_after = _total_ms(plan), _total_ms(made.plan_after)
            # A write's index is proven by its own checks' time (measured above), which the other
            # checks' noise in the statement's total time must not overturn.
            faster = checked[candidate][1] < checked[candidate][0] if candidate in checked else ms_after < ms_before
            if not faster:
                item.update(
                    advised=False,
                    why=f"{trial.why}, but built on the rows it is no faster ({ms_before:,.1f} ms to {ms_after:,.1f} ms)",
                )
            else:
                item["advice"] = {
                    "sql": candidate.sql,
                    "table": candidate.table,
                    "columns": list(candidate.columns),
                    "include": list(candidate.include),
                    "where": candidate.where,
                    "why": trial.why,
                    "cost_before": trial.cost_before,
                    "cost_after": trial.cost_after,
                    "ms_before": round(ms_before, 3),
                    "ms_after": round(ms_after, 3),
                    "size_bytes": made.size_bytes,
                    "method": item["method"],
                    "plan_after": made.plan_after,
                    **({k: item[k] for k in ("checks_ms_before", "checks_ms_after")} if candidate in checked else {}),
                }
        trail.append(item)
    return trail


def _constraints(cursor: Any, table: str) -> set[str]:
    """The names of the foreign keys `table` holds."""
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = $1::regclass",
        (written_identifier(table),),
    )
    return {row[0] for row in cursor.fetchall()}


def _trigger_ms(plan: Mapping[str, Any], constraints: set[str]) -> float:
    """The time the triggers of those constraints took (their checks of a written row)."""
    return sum(float(t.get("Time") or 0) for t in plan.get("Triggers", ()) if t.get("Constraint Name") in constraints)


def _total_ms(plan: Mapping[str, Any]) -> float:
    """The statement's time: PostgreSQL's Execution Time includes its triggers (foreign key checks)."""
    return float(plan.get("Execution Time") or 0)


def _hit_dict(hit: PlanHit) -> dict[str, Any]:
    return {
        "rule": hit.rule,
        "node": hit.node,
        "node_type": hit.node_type,
        "relation": hit.relation,
        "message": hit.message,
        "fix": hit.fix,
    }


def _trail_dict(trial: Trial) -> dict[str, Any]:
    return {
        "sql": trial.candidate.sql,
        "table": trial.candidate.table,
        "cost_before": trial.cost_before,
        "cost_after": trial.cost_after,
        "used": trial.used,
        "size_bytes": trial.size_bytes,
        "advised": trial.advised,
        "why": trial.why,
    }


# --- findings ---------------------------------------------------------------------------------

# A plan rule's finding is high only when one of its queries is over its story's budget at the
# declared volumes: what the plan shows matters as much as the time it costs someone. A wrong
# estimate is low: it explains a plan, it is not the problem.
_LOW_RULES = frozenset({"queryplans.misestimate"})
_CASE = re.compile(r"^(?:lower|upper)\(")
_REFERENCES = (
    "https://www.postgresql.org/docs/15/using-explain.html",
    "https://www.postgresql.org/docs/15/indexes.html",
)


def _place(measured: _Measured) -> SourceRef:
    return measured.query.where


def _sample_ms(value: float) -> str:
    """A time measured on the sample: under 0.05 ms it reads "< 0.1 ms", not a "0.0 ms" that looks
    like a failed measurement."""
    return "< 0.1 ms" if value < 0.05 else f"{value:,.1f} ms"


def _severity(*, over: bool, slow: bool) -> str:
    """High when a query is over its story's budget at the declared volumes, medium when it is
    slow there (QUERYPLANS_SLOW_MS) without a budget to say so, low otherwise: what a plan shows
    matters by the time it costs someone, and a design's plan details should not bury its other
    reviews' findings."""
    return "high" if over else "medium" if slow else "low"


def _slow(measured: _Measured, slow_ms: float) -> bool:
    return (measured.entry.get("scaled_ms") or 0) >= slow_ms


def _findings(
    measured: list[_Measured], indexed: Mapping[str, frozenset[str]], thresholds: PlanThresholds, slow_ms: float
) -> list[Finding]:
    """One finding per index advised (the queries it speeds up as its places), one per rule and
    table for what the plans show that no advised index answers, one per query over its story's
    budget at volume that advice does not bring under it, one per query refused or failed."""
    findings: list[Finding] = []
    # One finding per index, however many queries it serves; and one for the indexes that differ
    # only by the case function around a column (lower(email) for a named query, upper(email) for
    # Django's iexact): the same need, met twice because the queries are written differently.
    advised: dict[tuple[str, tuple[str, ...], str], dict[str, list[tuple[_Measured, dict[str, Any]]]]] = {}
    for item in measured:
        for advice in item.advice:
            need = (
                advice["table"],
                (
                    *(_CASE.sub("casefold(", c) for c in advice["columns"]),
                    *(f"+{c}" for c in advice.get("include", ())),
                ),
                advice["where"] or "",
            )
            advised.setdefault(need, {}).setdefault(advice["sql"], []).append((item, advice))
    for (table, need, where), statements in advised.items():
        uses = [use for group in statements.values() for use in group]
        first = uses[0][1]
        over = [m for m, _ in uses if m.entry["over_budget"]]
        names = ", ".join(dict.fromkeys(m.query.name for m, _ in uses))
        speeds = "; ".join(
            f"{m.query.name}: {_sample_ms(a['ms_before'])} to {_sample_ms(a['ms_after'])} on the sample (cost {a['cost_before']:,.0f} to {a['cost_after']:,.0f})"
            for m, a in uses
        )
        shapes = [
            f"({', '.join(group[0][1]['columns'])})"
            + (f" INCLUDE ({', '.join(group[0][1]['include'])})" if group[0][1].get("include") else "")
            for group in statements.values()
        ]
        aligned = (
            f" The queries compare the same column through different functions ({' and '.join(shapes)}; Django's "
            "iexact writes upper()): each needs its own index as they are written. Write them alike and keep one."
            if len(statements) > 1
            else ""
        )
        findings.append(
            Finding(
                analyzer=ANALYZER,
                rule_id="queryplans.index-advised",
                severity=_severity(over=bool(over), slow=any(_slow(m, slow_ms) for m, _ in uses)),
                title=f"Index {table} {' or '.join(shapes)}{' WHERE ' + where if where else ''} for {names}",
                message=(
                    f"Proven by the plan on the synthetic rows: {speeds}. The index would take about "
                    f"{_size(first['size_bytes'])} on the sample and adds one more index to keep up on each write to "
                    f"{table}."
                    + (
                        f" Over its story's budget at volume without it: {', '.join(dict.fromkeys(m.query.name for m in over))}."
                        if over
                        else ""
                    )
                    + aligned
                ),
                fix="\n".join(statements),
                locations=tuple(dict.fromkeys(_place(m) for m, _ in uses)),
                fingerprint=fingerprint(ANALYZER, "queryplans.index-advised", f"{table}\x1f{list(need)}\x1f{where}"),
                references=_REFERENCES,
                stories=tuple(dict.fromkeys(s for m, _ in uses for s in m.query.stories)),
                endpoints=tuple(dict.fromkeys(m.query.endpoint for m, _ in uses if m.query.endpoint)),
            )
        )
    by_rule: dict[tuple[str, str], list[tuple[_Measured, PlanHit]]] = {}
    for item in measured:
        # What an advised index answers: the hits its plan no longer has (they stay on the plan
        # drawn in the report, as its evidence).
        remaining = [
            {(h.rule, h.relation) for h in plan_hits(a["plan_after"]["Plan"], indexed=indexed, thresholds=thresholds)}
            for a in item.advice
        ]
        for hit in item.hits:
            if any((hit.rule, hit.relation) not in after for after in remaining):
                continue
            by_rule.setdefault((hit.rule, hit.relation), []).append((item, hit))
    for (rule, relation), uses in by_rule.items():
        item, hit = uses[0]
        names = ", ".join(dict.fromkeys(m.query.name for m, _ in uses))
        findings.append(
            Finding(
                analyzer=ANALYZER,
                rule_id=rule,
                severity=(
                    "low"
                    if rule in _LOW_RULES
                    else _severity(
                        over=any(m.entry["over_budget"] for m, _ in uses), slow=any(_slow(m, slow_ms) for m, _ in uses)
                    )
                ),
                title=f"{hit.node_type}{' on ' + relation if relation else ''}: {rule.split('.', 1)[1].replace('-', ' ')} ({names})",
                message=f"{hit.message} (in {item.query.name}, plan node {hit.node}).",
                fix=hit.fix,
                locations=tuple(dict.fromkeys(_place(m) for m, _ in uses)),
                fingerprint=fingerprint(ANALYZER, rule, f"{relation}\x1f{names}"),
                references=_REFERENCES,
                stories=tuple(dict.fromkeys(s for m, _ in uses for s in m.query.stories)),
                endpoints=tuple(dict.fromkeys(m.query.endpoint for m, _ in uses if m.query.endpoint)),
            )
        )
    for item in measured:
        entry = item.entry
        if entry["status"] == "refused":
            findings.append(
                Finding(
                    analyzer=ANALYZER,
                    rule_id="queryplans.refused",
                    severity="medium",
                    title=f"Query {item.query.name} was not planned: {entry['error']}",
                    message=(
                        "The query-plan analysis runs only single SELECT, INSERT, UPDATE or DELETE statements over "
                        f"the design's tables with listed functions; this one was refused and never executed: {entry['error']}."
                    ),
                    fix="Write the query as one statement over the design's tables, or leave it out of the design's queries.",
                    locations=(item.query.where,),
                    fingerprint=fingerprint(ANALYZER, "queryplans.refused", item.query.name),
                    stories=item.query.stories,
                )
            )
        elif entry["status"] == "failed":
            findings.append(
                Finding(
                    analyzer=ANALYZER,
                    rule_id="queryplans.failed",
                    severity="medium",
                    title=f"Query {item.query.name} failed on the synthetic rows",
                    message=f"PostgreSQL answered: {entry['error']}.",
                    fix="Check the query against the data model; a timeout means it reads far too much at this scale.",
                    locations=(item.query.where,),
                    fingerprint=fingerprint(ANALYZER, "queryplans.failed", item.query.name),
                    stories=item.query.stories,
                )
            )
        elif entry["over_budget"]:
            best = min((a["scaled_ms_after"] for a in item.advice), default=entry["scaled_ms"])
            if best <= (entry["budget_ms"] or 0):
                continue  # the advised index brings it under its budget: that finding says so
            findings.append(
                Finding(
                    analyzer=ANALYZER,
                    rule_id="queryplans.over-budget",
                    severity="high",
                    title=f"{item.query.name} takes about {entry['scaled_ms']:,.0f} ms at volume, over {item.query.stories[0]}'s {entry['budget_ms']:,.0f} ms",
                    message=(
                        f"Measured {entry['ms']:,.1f} ms on the synthetic rows; taken to the declared volumes it is about "
                        f"{entry['scaled_ms']:,.0f} ms, and no index tried brings it under the budget."
                    ),
                    fix="Read less per call: a narrower page, a precomputed total, or a different access path.",
                    locations=(item.query.where,),
                    fingerprint=fingerprint(ANALYZER, "queryplans.over-budget", item.query.name),
                    stories=item.query.stories,
                    endpoints=(item.query.endpoint,) if item.query.endpoint else (),
                )
            )
    return findings


def _size(size: int) -> str:
    if size >= 1 << 20:
        return f"{size / (1 << 20):,.1f} MiB"
    return f"{size / 1024:,.0f} KiB"
