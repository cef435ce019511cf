"""Forward and rollback SQL for a previewed migration, from Django's PostgreSQL schema editor.

The schema editor must introspect the tables it alters (constraint names, for instance), so the
base revision's tables are first created for real in a sandbox session; the change's SQL is
then collected, applied, and its rollback collected from the state after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState
from django.db.utils import ConnectionHandler

from apps.designs.engine.model import DesignModel
from apps.migrations_preview.engine.states import PreviewState, migration_between, project_state
from apps.sandbox.engine import SandboxSession


@dataclass(frozen=True)
class MigrationSql:
    migration: Migration
    forward: tuple[str, ...]
    rollback: tuple[str, ...]
    rollback_proven: bool
    rollback_reason: str  # why the rollback is, or is not, proven


_CATALOG = """
SELECT 'column', table_name || '.' || column_name,
       concat_ws(' ', data_type, character_maximum_length, numeric_precision, is_nullable, column_default)
  FROM information_schema.columns WHERE table_schema = current_schema()
UNION ALL
SELECT 'index', tablename || '.' || indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()
UNION ALL
SELECT 'constraint', c.conrelid::regclass::text || '.' || c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema()
ORDER BY 1, 2
"""


def catalog(box: SandboxSession) -> dict[tuple[str, str], str]:
    """Tables' columns, indexes and constraints in the session's schema, as comparable data."""
    return {(kind, name): definition for kind, name, definition in box.execute(_CATALOG)}


def _describe(difference: set[tuple[str, str]], limit: int = 5) -> str:
    return ", ".join(f"{kind} {name}" for kind, name in sorted(difference)[:limit])


@contextmanager
def django_connection(box: SandboxSession) -> Iterator[BaseDatabaseWrapper]:
    """A Django connection as the sandbox role, registered under its own alias for the session:
    migration operations look their connection up by alias among Django's connections."""
    alias = f"sandbox_{box.schema}"
    wanted = {"ENGINE": "apps.migrations_preview.engine.backend", **box.connection_parameters()}
    # Let Django fill in the defaults of a database entry, without touching the app's own.
    configured = ConnectionHandler({"default": {"ENGINE": "django.db.backends.dummy"}, alias: wanted}).settings[alias]
    connections.settings[alias] = configured
    try:
        connection = connections[alias]
        yield connection
    finally:
        if alias in connections:
            connections[alias].close()
            del connections[alias]
        connections.settings.pop(alias, None)


def collect_sql(
    connection: BaseDatabaseWrapper, migration: Migration, state: ProjectState, *, backwards: bool
) -> list[str]:
    start = state.clone()
    # Rendered once here, the models are carried by every intermediate state and re-rendered
    # only where an operation changes them; otherwise unapply's intermediate states would each
    # render every model from scratch.
    _ = start.apps
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        if backwards:
            migration.unapply(start, editor, collect_sql=True)
        else:
            migration.apply(start, editor, collect_sql=True)
    return list(editor.collected_sql)


def apply_migration(connection: BaseDatabaseWrapper, migration: Migration, state: ProjectState) -> None:
    with connection.schema_editor(atomic=migration.atomic) as editor:
        migration.apply(state.clone(), editor)


def preview_sql(
    box: SandboxSession,
    *,
    base: DesignModel | None,
    new: DesignModel,
    detect_renames: bool = True,
    name: str = "preview",
) -> MigrationSql | None:
    """The migration from `base` to `new` with its forward and rollback SQL; None if nothing changes."""
    migration = migration_between(base, new, detect_renames=detect_renames, name=name)
    if migration is None:
        return None
    before = project_state(base).state if base is not None else PreviewState()
    with django_connection(box) as connection:
        if base is not None:
            initial = migration_between(None, base, name="base")
            if initial is not None:
                apply_migration(connection, initial, PreviewState())
        start = catalog(box)
        forward = collect_sql(connection, migration, before, backwards=False)
        apply_migration(connection, migration, before)
        rollback = collect_sql(connection, migration, before, backwards=True)
        after = catalog(box)
        # Proof, not promise: roll back for real, compare the catalog, then forward again.
        with connection.schema_editor(atomic=migration.atomic) as editor:
            migration.unapply(before.clone(), editor)
        restored = catalog(box)
        apply_migration(connection, migration, before)
        again = catalog(box)
    proven, reason = _judge(migration, start, restored, after, again)
    return MigrationSql(migration, tuple(forward), tuple(rollback), proven, reason)


def _judge(
    migration: Migration,
    start: dict[tuple[str, str], str],
    restored: dict[tuple[str, str], str],
    after: dict[tuple[str, str], str],
    again: dict[tuple[str, str], str],
) -> tuple[bool, str]:
    if restored != start:
        changed = {k for k in start.keys() | restored.keys() if start.get(k) != restored.get(k)}
        return False, f"the rollback does not restore the schema: {_describe(changed)}"
    if again != after:
        return False, "applying the migration again after its rollback gives a different schema"
    dropped = [f"{op.model_name}.{op.name}" for op in migration.operations if type(op).__name__ == "RemoveField"] + [
        op.name for op in migration.operations if type(op).__name__ == "DeleteModel"
    ]
    if dropped:
        return (
            False,
            f"the schema is restored, but the data of {', '.join(dropped)} is lost: a rollback brings the column or table back empty",
        )
    return (
        True,
        "applied, rolled back and applied again in the sandbox: the schema after rollback equals the schema before",
    )
