"""The queries a design will run, as SQL the sandbox may plan: its named queries; the access each
generated endpoint implies (a row by its key, a list with its filters, order and page, the
page's count, a delete or an update by key), written as the SQL Django's ORM sends for it; and
the SQL the generated endpoints were seen to run when their proof captured it. Each is checked by
the allow-list here, so a query it refuses is a result that is never executed.

Pure: the DesignModel and the sections of the analyzers that ran before (the generated
endpoints' access patterns and captured SQL, traceability's query-to-story links) in, planned
queries out. Every name written into SQL is the design's, quoted by `written_identifier`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pglast
from pglast.parser import ParseError

from apps.designs.engine.identifiers import written_identifier as _q
from apps.designs.engine.loader import schema_entity_key, singular, snake
from apps.designs.engine.matching import match_endpoint
from apps.designs.engine.model import DesignModel, SourceRef
from apps.designs.engine.structured import resolve_pointer
from apps.queryplans.engine.allowlist import Verdict, check_query

# A comparison Django's filter writes for a lookup, `{}` the column and `$n` the value.
_LOOKUPS = {
    "exact": "{} = {}",
    "iexact": "upper({}::text) = upper({})",
    "gte": "{} >= {}",
    "lte": "{} <= {}",
    "gt": "{} > {}",
    "lt": "{} < {}",
}


@dataclass(frozen=True)
class PlannedQuery:
    name: str
    source: str  # named, endpoint or captured
    sql: str  # one statement, PostgreSQL's `$n` placeholders
    parameters: tuple[str, ...]  # the names of `$1`, `$2`, ...
    verdict: Verdict
    where: SourceRef
    endpoint: str | None = None  # METHOD /path of the operation it serves
    stories: tuple[str, ...] = ()
    budget_ms: float | None = None  # the tightest latency budget of those stories


def planned_queries(
    model: DesignModel, *, earlier: Mapping[str, Any] | None = None
) -> tuple[list[PlannedQuery], list[str]]:
    """(the queries to plan, what was left out and why). `earlier`: analyzer name -> its section,
    for those that ran before (endpoints, traceability)."""
    earlier = earlier or {}
    tables = [e.name for e in model.entities]
    budgets = {s.id: min((b.latency_ms for b in s.budgets), default=None) for s in model.stories}
    endpoint_stories: dict[str, list[str]] = {}
    for story in model.stories:
        for ref in story.endpoints:
            endpoint = match_endpoint(ref, model.endpoints)
            if endpoint is not None:
                endpoint_stories.setdefault(endpoint.key, []).append(story.id)
    query_stories: dict[str, list[str]] = {}
    for story in model.stories:
        for name in story.queries:
            query_stories.setdefault(name, []).append(story.id)
    traceability = earlier.get("traceability")
    if isinstance(traceability, Mapping):
        for row in traceability.get("queries", ()):
            for story_id in row.get("stories", ()):
                if story_id not in query_stories.setdefault(row.get("name", ""), []):
                    query_stories[row["name"]].append(story_id)

    def budget(stories: Sequence[str]) -> float | None:
        found = [budgets[s] for s in stories if budgets.get(s) is not None]
        return min(found) if found else None  # type: ignore[type-var]

    planned: list[PlannedQuery] = []
    left_out: list[str] = []
    for query in model.queries:
        stories = tuple(query_stories.get(query.name, ()))
        planned.append(
            PlannedQuery(
                name=query.name,
                source="named",
                sql=query.normalized_sql,
                parameters=query.parameters,
                verdict=check_query(query.normalized_sql, tables=tables),
                where=query.source,
                stories=stories,
                budget_ms=budget(stories),
            )
        )
    endpoints = earlier.get("endpoints")
    operations = endpoints.get("operations", ()) if isinstance(endpoints, Mapping) else ()
    by_key = {e.key: e for e in model.endpoints}
    columns = {e.name: [c.name for c in e.columns] for e in model.entities}
    for operation in operations:
        access = operation.get("access") or {}
        endpoint = by_key.get(operation.get("key", ""))
        if not access or endpoint is None or access.get("table") not in columns:
            continue
        label = f"{endpoint.method} {endpoint.full_path}"
        written = endpoint_sql(access, columns[access["table"]])
        if not written:
            left_out.append(
                f"{label}: a {access.get('action')} writes a new row, whose values the design does not give; "
                "its plan is the insert's and its foreign keys' lookups by key"
            )
        stories = tuple(endpoint_stories.get(endpoint.key, ()))
        for suffix, sql, parameters in written:
            planned.append(
                PlannedQuery(
                    name=f"{operation.get('operation_id') or label}{suffix}",
                    source="endpoint",
                    sql=sql,
                    parameters=parameters,
                    verdict=check_query(sql, tables=tables),
                    where=endpoint.source,
                    endpoint=label,
                    stories=stories,
                    budget_ms=budget(stories),
                )
            )
    planned += _captured(model, endpoints, tables, by_key, endpoint_stories, budget)
    return planned, left_out


def endpoint_sql(access: Mapping[str, Any], table_columns: Sequence[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(name suffix, SQL, parameter names) of the statements a generated view sends for its
    access (`OperationOutcome.access`): a list's page (and its count, for page and offset
    pagination), a row by its key, an update or a delete by key. A create gives none."""
    table, action, key = access["table"], access.get("action", ""), access.get("key") or "id"
    parameters: list[str] = []

    def parameter(name: str) -> str:
        parameters.append(name)
        return f"${len(parameters)}"

    joins: dict[tuple[str, str, str], str] = {}
    conditions: list[str] = []
    if action in {"retrieve", "update", "partial_update", "destroy"} and access.get("lookup"):
        conditions.append(f"t.{_q(key)} = {parameter(key)}")
    for item in access.get("filters", ()):
        template = _LOOKUPS.get(item.get("lookup", ""))
        if template is None:
            continue
        via = item.get("via")
        alias = "t"
        if via:
            join_key = (via["table"], via["column"], via["key"])
            alias = joins.setdefault(join_key, f"j{len(joins) + 1}")
        column = f"{alias}.{_q(item['column'])}"
        conditions.append(template.format(column, parameter(item["column"])))
    join_sql = "".join(
        f" JOIN {_q(parent)} AS {alias} ON {alias}.{_q(parent_key)} = t.{_q(column)}"
        for (parent, column, parent_key), alias in joins.items()
    )
    where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    source = f"{_q(table)} AS t{join_sql}{where}"
    if action == "list":
        ordering = access.get("ordering") or key
        descending = ordering.startswith("-")
        order = f" ORDER BY t.{_q(ordering.lstrip('-'))}{' DESC' if descending else ''}"
        size = int(access.get("page_size") or 50)
        paging = access.get("paging", "")
        count = f"SELECT count(*) FROM {source}"  # noqa: S608 - quoted names, $n values
        counted = tuple(parameters)
        if paging == "cursor":
            # One row more than the page: whether there is a next one.
            page = f"SELECT t.* FROM {source}{order} LIMIT {size + 1}"  # noqa: S608 - quoted names, $n values
        else:  # a page number or an offset: DRF counts the rows, then reads the page at its offset
            page = f"SELECT t.* FROM {source}{order} LIMIT {size} OFFSET {parameter('offset')}"  # noqa: S608 - quoted names, $n values
        rows = [("", page, tuple(parameters))]
        if paging in {"page", "offset"}:
            rows.append((" (page count)", count, counted))
        return rows
    if action == "retrieve":
        return [("", f"SELECT t.* FROM {source}", tuple(parameters))]  # noqa: S608 - quoted names, $n values
    if action == "destroy" and not joins:
        return [("", f"DELETE FROM {_q(table)} AS t{where}", tuple(parameters))]  # noqa: S608 - quoted names, $n values
    if action in {"update", "partial_update"} and not joins:
        column = next((c for c in table_columns if c != key), None)
        if column is None:
            return []
        return [("", f"UPDATE {_q(table)} AS t SET {_q(column)} = t.{_q(column)}{where}", tuple(parameters))]  # noqa: S608 - quoted names, $n values
    if action in {"destroy", "update", "partial_update"}:
        # An owner reached through another table: Django reads the row first, then writes by key.
        lookup = [c for c in conditions if c.startswith(f"t.{_q(key)} =")]
        return [(" (row check)", f"SELECT t.* FROM {source}", tuple(parameters))] if lookup else []  # noqa: S608 - quoted names, $n values
    return []


def _captured(model, endpoints, tables, by_key, endpoint_stories, budget) -> list[PlannedQuery]:  # type: ignore[no-untyped-def]
    """The statements the generated endpoints ran in their proof's calls (with their literal
    values), each shape once, those reading only the design's tables."""
    proof = endpoints.get("proof") if isinstance(endpoints, Mapping) else None
    calls = proof.get("calls") if isinstance(proof, Mapping) else None
    recorded = calls.get("one") if isinstance(calls, Mapping) else None
    tests = recorded.get("tests") if isinstance(recorded, Mapping) else None
    if not isinstance(tests, Mapping):
        return []
    by_test = {o.get("test"): o for o in endpoints.get("operations", ()) if o.get("test")}
    found: list[PlannedQuery] = []
    seen: set[str] = set()
    for test, entry in tests.items():
        operation = by_test.get(test)
        endpoint = by_key.get(operation.get("key", "")) if operation else None
        if endpoint is None or not isinstance(entry, Mapping):
            continue
        for call in entry.get("calls", ()):
            for position, statement in enumerate(call.get("queries", ()), start=1):
                if not isinstance(statement, str) or not statement.lstrip().upper().startswith("SELECT"):
                    continue
                try:
                    shape = pglast.fingerprint(statement)
                except ParseError:
                    continue
                verdict = check_query(statement, tables=tables)
                if shape in seen or not verdict.allowed:
                    continue  # Django's own tables (sessions, users) are not the design's
                seen.add(shape)
                stories = tuple(endpoint_stories.get(endpoint.key, ()))
                found.append(
                    PlannedQuery(
                        name=f"{operation.get('operation_id') or endpoint.key} (captured #{position})",
                        source="captured",
                        sql=statement,
                        parameters=(),
                        verdict=verdict,
                        where=endpoint.source,
                        endpoint=f"{endpoint.method} {endpoint.full_path}",
                        stories=stories,
                        budget_ms=budget(stories),
                    )
                )
    return found


def column_labels(model: DesignModel) -> dict[str, dict[str, tuple[str, ...]]]:
    """Table -> column -> the values it may hold, from an enum type (DBML's Enum, CREATE TYPE ...
    AS ENUM) or else from an OpenAPI enum of the schema that represents the table (`Order` for
    `orders`) or of a query parameter named after the column."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    keys = {singular(snake(e.name)): e for e in model.entities}
    for entity in model.entities:
        for column in entity.columns:
            if column.values:
                found.setdefault(entity.name, {})[column.name] = column.values
    data = model.api_document.data if model.api_document is not None else {}
    schemas = resolve_pointer(data, "/components/schemas") if isinstance(data, Mapping) else None
    for name, schema in schemas.items() if isinstance(schemas, Mapping) else ():
        entity = keys.get(schema_entity_key(str(name)))
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        if entity is None or not isinstance(properties, Mapping):
            continue
        names = {c.name for c in entity.columns}
        for prop, spec in properties.items():
            enum = spec.get("enum") if isinstance(spec, Mapping) else None
            if prop in names and _labels(enum):
                found.setdefault(entity.name, {}).setdefault(prop, tuple(str(v) for v in enum))
    for endpoint in model.endpoints:
        entity = next((e for e in model.entities if e.name in endpoint.entities[:1]), None)
        if entity is None:
            continue
        names = {c.name for c in entity.columns}
        for param in endpoint.parameters:
            enum = param.constraints.get("enum")
            if param.location == "query" and snake(param.name) in names and _labels(enum):
                found.setdefault(entity.name, {}).setdefault(snake(param.name), tuple(str(v) for v in enum))
    return found


def _labels(enum: Any) -> bool:
    return isinstance(enum, list | tuple) and bool(enum) and all(isinstance(v, str) for v in enum)
