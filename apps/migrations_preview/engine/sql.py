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
from apps.migrations_preview.engine.states import migration_between, project_state
from apps.queryplans.sandbox import SandboxSession


@dataclass(frozen=True)
class MigrationSql:
    migration: Migration
    forward: tuple[str, ...]
    rollback: tuple[str, ...]


@contextmanager
def _connection(box: SandboxSession) -> Iterator[BaseDatabaseWrapper]:
    """A Django connection as the sandbox role, registered under its own alias for the session:
    migration operations look their connection up by alias among Django's connections."""
    alias = f"sandbox_{box.schema}"
    wanted = {"ENGINE": "django.db.backends.postgresql", **box.connection_parameters()}
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


def _collect(
    connection: BaseDatabaseWrapper, migration: Migration, state: ProjectState, *, backwards: bool
) -> list[str]:
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        if backwards:
            migration.unapply(state.clone(), editor, collect_sql=True)
        else:
            migration.apply(state.clone(), editor, collect_sql=True)
    return list(editor.collected_sql)


def _apply(connection: BaseDatabaseWrapper, migration: Migration, state: ProjectState) -> None:
    with connection.schema_editor(atomic=migration.atomic) as editor:
        migration.apply(state.clone(), editor)


def preview_sql(
    box: SandboxSession, *, base: DesignModel | None, new: DesignModel, detect_renames: bool = True
) -> MigrationSql | None:
    """The migration from `base` to `new` with its forward and rollback SQL; None if nothing changes."""
    migration = migration_between(base, new, detect_renames=detect_renames)
    if migration is None:
        return None
    before = project_state(base).state if base is not None else ProjectState()
    with _connection(box) as connection:
        if base is not None:
            initial = migration_between(None, base, name="base")
            if initial is not None:
                _apply(connection, initial, ProjectState())
        forward = _collect(connection, migration, before, backwards=False)
        _apply(connection, migration, before)
        rollback = _collect(connection, migration, before, backwards=True)
    return MigrationSql(migration=migration, forward=tuple(forward), rollback=tuple(rollback))
