"""The indexes the query plans proved, offered as a migration the team can take away: each one
created with CREATE INDEX CONCURRENTLY (no lock that blocks writes, so the migration is not
atomic) under a deterministic name, and dropped the same way to roll back. Django's RunSQL,
printed by Django's writer: the statements are the query plans' own, built from the design's
quoted names.

Pure: the advice (the `queryplans` section's, as plain dicts) in, the migration's file and SQL
out. The analysis pipeline hands the advice over, since no analyzer imports another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pglast
from django.db.migrations import operations
from django.db.migrations.migration import Migration
from pglast import ast

from apps.designs.engine.identifiers import bounded_name
from apps.designs.engine.identifiers import quote_identifier as q
from apps.migrations_preview.engine.states import APP_LABEL
from apps.migrations_preview.engine.writer import migration_source

_PREFIX = "CREATE INDEX CONCURRENTLY ON "
_WORDS = re.compile(r"[^0-9A-Za-z]+")


def _one_index(statement: str, table: str) -> bool:
    """Whether PostgreSQL's parser reads `statement` as exactly one CREATE INDEX CONCURRENTLY on
    `table` (the query plans checked it before they built it; checked again before it is written
    into a file the team will run)."""
    try:
        parsed = pglast.parse_sql(statement)
    except pglast.parser.ParseError:
        return False
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.IndexStmt) or not statement.startswith(_PREFIX):
        return False
    node = parsed[0].stmt
    return bool(node.concurrent) and node.relation is not None and node.relation.relname == table and not node.idxname


def index_name(table: str, columns: Sequence[str], where: str = "") -> str:
    """A name within PostgreSQL's 63 bytes, the same for the same index."""
    words = _WORDS.sub("_", "_".join(columns)).strip("_") or "expr"
    return bounded_name(table[:24], words[:24], *([where] if where else []), suffix="idx")


def advised_indexes_migration(
    advice: Sequence[Mapping[str, Any]], *, name: str = "advised_indexes"
) -> dict[str, Any] | None:
    """{"name", "source", "forward_sql", "rollback_sql", "indexes"} of the migration adding each
    advised index once; None when nothing was advised."""
    forward: list[str] = []
    rollback: list[str] = []
    seen: set[str] = set()
    for item in advice:
        statement = str(item.get("sql", ""))
        if statement in seen or not _one_index(statement, str(item.get("table", ""))):
            continue
        seen.add(statement)
        index = q(
            index_name(
                str(item["table"]),
                [str(c) for c in item.get("columns", ())] + [f"incl {c}" for c in item.get("include", ())],
                str(item.get("where") or ""),
            )
        )
        forward.append(statement.replace(_PREFIX, f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON ", 1))
        rollback.append(f"DROP INDEX CONCURRENTLY IF EXISTS {index};")
    if not forward:
        return None
    migration = Migration(name, APP_LABEL)
    migration.atomic = False  # CREATE INDEX CONCURRENTLY refuses to run inside a transaction
    migration.operations = [
        operations.RunSQL(sql=create, reverse_sql=drop) for create, drop in zip(forward, rollback, strict=True)
    ]
    return {
        "name": name,
        "source": migration_source(migration),
        "forward_sql": "\n".join(forward),
        "rollback_sql": "\n".join(reversed(rollback)),
        "indexes": len(forward),
    }
