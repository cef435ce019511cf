"""Traceability: stories <-> endpoints <-> entities <-> named queries, and the gaps between them.

Input: a DesignModel. Output: the matrix (as plain data for the report) and findings for a
story citing an endpoint or query the design lacks, a story with no endpoint, an operation no
story asks for, an entity no endpoint touches and a query no endpoint runs.

A query is tied to an endpoint when they share a table/entity and a parameter name (after
snake-casing, ignoring paging parameters), or when a story cites both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.designs.engine.findings import Finding, fingerprint
from apps.designs.engine.loader import snake
from apps.designs.engine.matching import match_endpoint, path_key, story_webhooks
from apps.designs.engine.model import (
    DesignModel,
    Endpoint,
    Severity,
    SourceRef,
)

if TYPE_CHECKING:
    from apps.designs.engine.model import EndpointRef, Entity, NamedQuery, Story

ANALYZER = "traceability"
_PAGING = {"offset", "limit", "page", "page_size", "per_page", "cursor", "size"}


def _endpoint_params(endpoint: Endpoint) -> set[str]:
    # Only what a caller passes to select rows: body fields of a write say little about reads.
    names = {snake(p.name) for p in endpoint.parameters if p.location in {"path", "query"}}
    return names - _PAGING


def _query_links(query: NamedQuery, endpoint: Endpoint) -> bool:
    if not set(query.tables) & set(endpoint.entities):
        return False
    return bool({snake(p) for p in query.parameters} - _PAGING & _endpoint_params(endpoint))


def _entity_shape(entity: Entity) -> dict[str, Any]:
    """What the data model says of an entity's volume, keys and relations, each with its line: the
    declared rows, the primary key, foreign keys with their ON DELETE/ON UPDATE, unique (composite and partial)
    and check constraints, and the columns of an enum type with their labels."""
    key_line = entity.primary_key_source.line if entity.primary_key_source else None
    return {
        "rows": entity.rows,  # the declared volume (None when the design gives none)
        "primary_key": {"columns": list(entity.primary_key), "line": key_line},
        "relations": [
            {
                "columns": list(fk.columns),
                "references": fk.ref_table,
                "ref_columns": list(fk.ref_columns),
                "nullable": any((c := entity.column(n)) is None or c.nullable for n in fk.columns),
                "on_delete": fk.on_delete,
                "on_update": fk.on_update,
                "line": fk.source.line,
            }
            for fk in entity.foreign_keys
        ],
        "uniques": [{"columns": list(u.columns), "where": u.where, "line": u.source.line} for u in entity.uniques],
        "checks": [{"expression": c.expression, "line": c.source.line} for c in entity.checks],
        "enums": [
            {"column": c.name, "values": list(c.values), "line": c.source.line} for c in entity.columns if c.values
        ],
    }


def analyze_traceability(model: DesignModel) -> tuple[list[Finding], dict[str, Any]]:
    """The traceability matrix and its findings. See the module docstring."""
    findings: list[Finding] = []
    endpoint_stories: dict[str, list[str]] = {e.key: [] for e in model.endpoints}
    query_names = {q.name for q in model.queries}
    query_stories: dict[str, list[str]] = {q.name: [] for q in model.queries}
    endpoint_queries: dict[str, list[str]] = {
        e.key: [q.name for q in model.queries if _query_links(q, e)] for e in model.endpoints
    }

    # Webhooks and callbacks (only a document that has them adds them to the matrix).
    webhook_stories: dict[int, list[str]] = {id(w): [] for w in model.webhooks}
    story_rows = []
    for story in model.stories:
        named = story_webhooks(story.lines, model.webhooks)
        for webhook in named:
            webhook_stories[id(webhook)].append(story.id)
        links = []
        entities: list[str] = []
        queries: list[str] = []
        for ref in story.endpoints:
            endpoint = match_endpoint(ref, model.endpoints)
            links.append(
                {
                    "method": ref.method,
                    "path": ref.path,
                    "operation_id": endpoint.operation_id if endpoint else None,
                    "found": endpoint is not None,
                    "line": ref.source.line,
                }
            )
            if endpoint is None:
                if model.api is not None:
                    findings.append(_story_endpoint_missing(story, ref))
                continue
            endpoint_stories[endpoint.key].append(story.id)
            entities.extend(e for e in endpoint.entities if e not in entities)
            queries.extend(q for q in endpoint_queries[endpoint.key] if q not in queries)
        for name in story.queries:
            if name not in query_names:
                findings.append(_story_query_missing(story, name))
            elif name not in queries:
                queries.append(name)
        for name in queries:
            query_stories[name].append(story.id)
        if not story.endpoints and model.api is not None:
            findings.append(_story_without_endpoint(story))
        story_rows.append(
            {
                "id": story.id,
                "title": story.title,
                "line": story.source.line,
                "document": story.source.document,
                "endpoints": links,
                "entities": entities,
                "queries": queries,
                **({"webhooks": [_webhook_label(w) for w in named]} if model.webhooks else {}),
            }
        )

    endpoint_rows = []
    for endpoint in model.endpoints:
        stories = endpoint_stories[endpoint.key]
        if not stories and model.stories:
            findings.append(_operation_without_story(endpoint))
        endpoint_rows.append(
            {
                "method": endpoint.method,
                "path": endpoint.full_path,
                "operation_id": endpoint.operation_id,
                "line": endpoint.source.line,
                "document": endpoint.source.document,
                "stories": stories,
                "entities": list(endpoint.entities),
                "queries": endpoint_queries[endpoint.key],
            }
        )

    entity_rows = []
    for entity in model.entities:
        touching = [e for e in model.endpoints if entity.name in e.entities]
        queries = [q.name for q in model.queries if entity.name in q.tables]
        if not touching and model.api is not None:
            findings.append(_entity_without_endpoint(entity.name, entity.source, bool(queries)))
        entity_rows.append(
            {
                "name": entity.name,
                "line": entity.source.line,
                "document": entity.source.document,
                "endpoints": [f"{e.method} {e.full_path}" for e in touching],
                "stories": sorted({s for e in touching for s in endpoint_stories[e.key]}),
                "queries": queries,
                **_entity_shape(entity),
            }
        )

    query_rows = []
    for query in model.queries:
        runners = [e for e in model.endpoints if query.name in endpoint_queries[e.key]]
        if not runners and model.api is not None:
            findings.append(_query_without_endpoint(query))
        query_rows.append(
            {
                "name": query.name,
                "line": query.source.line,
                "document": query.source.document,
                "tables": list(query.tables),
                "endpoints": [f"{e.method} {e.full_path}" for e in runners],
                "stories": query_stories[query.name],
            }
        )

    webhook_rows = []
    for webhook in model.webhooks:
        stories = webhook_stories[id(webhook)]
        if not stories and model.stories:
            findings.append(_webhook_without_story(webhook))
        webhook_rows.append(
            {
                "kind": webhook.kind,
                "method": webhook.method,
                "name": _webhook_label(webhook),
                "operation_id": webhook.operation_id,
                "line": webhook.source.line,
                "document": webhook.source.document,
                "stories": stories,
            }
        )

    section = {
        "stories": story_rows,
        "endpoints": endpoint_rows,
        "entities": entity_rows,
        "queries": query_rows,
        **({"webhooks": webhook_rows} if webhook_rows else {}),
    }
    return findings, section


def _webhook_label(webhook: Endpoint) -> str:
    """`orderPaid` for a webhook, `/subscriptions callback onEvent` for a callback."""
    return webhook.full_path


def _webhook_without_story(webhook: Endpoint) -> Finding:
    label = f"{webhook.method} {_webhook_label(webhook)}"
    return _finding(
        "webhook-without-story",
        "low",
        f"{webhook.kind} {label}",
        webhook.source,
        f"No story names the {webhook.kind} {_webhook_label(webhook)}",
        f"The {webhook.kind} {label} is in the API but no story names it (by its name or operationId): nobody has written down who receives it, why, and what it must guarantee (signature, retries, ordering).",
        "Write the story that needs it and name the webhook or callback in it, or remove it from the API.",
    )


def _finding(rule: str, severity: Severity, key: str, where: SourceRef, title: str, message: str, fix: str) -> Finding:
    """A traceability finding; `key` names what it is about, so the fingerprint survives edits."""
    return Finding(
        analyzer=ANALYZER,
        rule_id=f"trace.{rule}",
        severity=severity,
        title=title,
        message=message,
        fix=fix,
        locations=(where,),
        fingerprint=fingerprint(ANALYZER, f"trace.{rule}", key),
    )


def _story_endpoint_missing(story: Story, ref: EndpointRef) -> Finding:
    return _finding(
        "story-endpoint-missing",
        "high",
        f"{story.id}|{ref.method} {path_key(ref.path)}",
        ref.source,
        f"Story {story.id} needs {ref.label}, which the API does not have",
        f"{story.id} ({story.title}) lists {ref.label} among its endpoints, but no operation of the OpenAPI document has that method and path.",
        "Add the operation to the OpenAPI document, or correct the method or path in the story's Endpoints line.",
    )


def _story_query_missing(story: Story, name: str) -> Finding:
    return _finding(
        "story-query-missing",
        "medium",
        f"{story.id}|{name}",
        story.source,
        f"Story {story.id} cites query {name}, which is not written down",
        f"{story.id} names the query {name} but no `-- name: {name}` query exists in the design.",
        f"Add the query under a `-- name: {name}` line in a ```sql block, or correct the name.",
    )


def _story_without_endpoint(story: Story) -> Finding:
    return _finding(
        "story-without-endpoint",
        "medium",
        story.id,
        story.source,
        f"Story {story.id} names no endpoint",
        f"{story.id} ({story.title}) has no `Endpoints:` line, so nothing shows which operations deliver it.",
        "Add a line such as `Endpoints: GET /v1/orders` under the story.",
    )


def _operation_without_story(endpoint: Endpoint) -> Finding:
    return _finding(
        "operation-without-story",
        "low",
        f"{endpoint.method} {path_key(endpoint.path)}",
        endpoint.source,
        f"No story asks for {endpoint.method} {endpoint.full_path}",
        f"The operation {endpoint.label} is in the API but no story lists it: nobody has written down who calls it, why, and what it must guarantee.",
        "Write the story that needs it (role, goal, acceptance criteria, budget) and list the endpoint there, or remove the operation.",
    )


def _entity_without_endpoint(name: str, source: SourceRef, queried: bool) -> Finding:
    detail = " Only named queries read it." if queried else ""
    return _finding(
        "entity-without-endpoint",
        "low",
        name,
        source,
        f"No endpoint reads or writes table {name}",
        f"Table {name} is in the data model but no operation's path or schema refers to it.{detail}",
        "Add the operations that manage it (or state in a story that it is written internally, e.g. by a job), or drop it from the model.",
    )


def _query_without_endpoint(query: NamedQuery) -> Finding:
    return _finding(
        "query-without-endpoint",
        "info",
        query.name,
        query.source,
        f"Query {query.name} is not tied to any endpoint",
        f"No operation shares a table and a parameter with {query.name}, and no story cites it.",
        f"Cite it in the story it serves (`Queries: {query.name}`), or rename its parameters after the endpoint's.",
    )
