"""Forward and rollback SQL for a previewed migration, from Django's PostgreSQL schema editor.

The schema editor must introspect the tables it alters (constraint names, for instance), so the
base revision's tables the change reaches are first created for real in a sandbox session; the
change's SQL is then collected, applied, and its rollback collected from the state after it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from queue import SimpleQueue

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.ddl_references import Statement
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.transaction import atomic
from django.db.utils import ConnectionHandler

from apps.designs.engine.model import DesignModel
from apps.migrations_preview.engine.states import (
    PreviewState,
    lazily_pointed,
    migration_between_states,
    models_reached,
    project_state,
)
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


def _rendered(state: ProjectState) -> ProjectState:
    """A clone of `state` with its models rendered. Rendered once here, the models are carried by
    every intermediate state and re-rendered only where an operation changes them; otherwise
    unapply's intermediate states would each render every model from scratch (as Django's
    executor avoids by rendering before it unapplies)."""
    start = state.clone()
    _ = start.apps
    return start


def collect_sql(
    connection: BaseDatabaseWrapper, migration: Migration, state: ProjectState, *, backwards: bool
) -> list[str]:
    start = _rendered(state)
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        if backwards:
            migration.unapply(start, editor, collect_sql=True)
        else:
            migration.apply(start, editor, collect_sql=True)
    return list(editor.collected_sql)


Step = tuple[Operation, ProjectState, ProjectState]  # an operation, the state before it and after it


def operation_states(migration: Migration, state: ProjectState) -> list[Step]:
    """Each operation of `migration` with the state before and after it, starting from `state`:
    the intermediate states Django's `unapply` computes before it walks the operations backwards.
    Walked once, they serve the forward SQL and, after it has run, the rollback SQL; Django's
    `apply` and `unapply` would each walk (and re-render) them again."""
    return list(_walk(migration, state))


def _walk(migration: Migration, state: ProjectState) -> Iterator[Step]:
    """`operation_states`, one operation at a time. A PreviewState re-renders no model only to
    point it at a changed model whose reverse relations no operation reads (`lazily_pointed`)."""
    current = _rendered(state)
    if isinstance(current, PreviewState):
        current.lazily_pointed = lazily_pointed(migration, state)
    for operation in migration.operations:
        if not operation.reversible:
            raise IrreversibleError(f"Operation {operation} in {migration} is not reversible")
        after = current.clone()
        operation.state_forwards(migration.app_label, after)
        yield (operation, current, after)
        current = after


def _collect_step(editor: BaseDatabaseSchemaEditor, migration: Migration, step: Step, *, backwards: bool) -> None:
    """One operation's SQL, appended to the collecting schema editor's (see `collect_steps_sql`)."""
    operation, before, after = step
    editor.collected_sql.extend(("--", f"-- {operation.describe()}", "--"))
    if not operation.reduces_to_sql:
        editor.collected_sql.append("-- THIS OPERATION CANNOT BE WRITTEN AS SQL")
        return
    collected_before = len(editor.collected_sql)
    run = operation.database_backwards if backwards else operation.database_forwards
    source, target = (after, before) if backwards else (before, after)
    if operation.atomic or (migration.atomic and operation.atomic is not False):
        with atomic(editor.connection.alias):
            run(migration.app_label, editor, source, target)
    else:
        run(migration.app_label, editor, source, target)
    if collected_before == len(editor.collected_sql):
        editor.collected_sql.append("-- (no-op)")


def collect_steps_sql(
    connection: BaseDatabaseWrapper, migration: Migration, steps: Sequence[Step], *, backwards: bool
) -> list[str]:
    """The SQL of `migration` over its `operation_states`, as Django's `apply` (or `unapply`)
    collects it with `collect_sql=True`: the same comment lines, the same `-- (no-op)` marks,
    each operation in a transaction of its own where Django puts one (tests compare the two)."""
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        for step in reversed(steps) if backwards else steps:
            _collect_step(editor, migration, step, backwards=backwards)
    return list(editor.collected_sql)


_END, _ABORT = "end", "abort"


def _run_streamed(box: SandboxSession, batches: SimpleQueue[list[str] | str]) -> None:
    """Run the statements of an atomic migration as they come, in one transaction committed at
    `_END` (rolled back at `_ABORT`, or when one fails): what `run_sql` does with them all at
    once, since PostgreSQL runs a multi-statement query in one transaction too. What has come
    meanwhile goes as one query: this thread waits for the interpreter's lock after each one."""
    box.execute("BEGIN")
    try:
        last = None
        while last is None:
            statements: list[str] = []
            item = batches.get()
            while True:
                if isinstance(item, str):
                    last = item
                    break
                statements += item
                if batches.empty():
                    break
                item = batches.get()
            if last == _ABORT:
                box.execute("ROLLBACK")
                return
            if any(not statement.startswith("--") for statement in statements):
                box.execute("\n".join(statements))
        box.execute("COMMIT")
    except BaseException:
        with suppress(Exception):  # the session is dropped anyway: the first error is the one to tell
            box.execute("ROLLBACK")
        raise


def _walk_and_run_forward(
    connection: BaseDatabaseWrapper,
    box: SandboxSession,
    sandbox: ThreadPoolExecutor,
    migration: Migration,
    before: ProjectState,
) -> tuple[list[Step], list[str]]:
    """The operations' states and the forward SQL, each operation's statements sent to the
    sandbox as soon as they are collected, so that the sandbox runs them while the next states
    are walked. The transaction they run in is committed only once every statement has been
    collected: until then, the schema editor's introspection (on its own connection) sees the
    schema as it was, as when the statements are collected first and run afterwards."""
    batches: SimpleQueue[list[str] | str] = SimpleQueue()
    running = sandbox.submit(_run_streamed, box, batches)
    steps: list[Step] = []
    last = _ABORT
    try:
        with connection.schema_editor(collect_sql=True, atomic=False) as editor:
            for step in _walk(migration, before):
                steps.append(step)
                sent = len(editor.collected_sql)
                _collect_step(editor, migration, step, backwards=False)
                batches.put(editor.collected_sql[sent:])
            sent = len(editor.collected_sql)
        batches.put(editor.collected_sql[sent:])  # the deferred statements (foreign keys, indexes)
        last = _END
    finally:
        batches.put(last)
    running.result()
    return steps, list(editor.collected_sql)


def apply_migration(connection: BaseDatabaseWrapper, migration: Migration, state: ProjectState) -> None:
    with connection.schema_editor(atomic=migration.atomic) as editor:
        migration.apply(_rendered(state), editor)


def create_tables(connection: BaseDatabaseWrapper, state: ProjectState) -> None:
    """Every table of `state`, created in one transaction (see `create_tables_sql`)."""
    with connection.schema_editor(atomic=True) as editor:
        for model in _rendered(state).apps.get_models():
            editor.create_model(model)


def create_tables_sql(
    connection: BaseDatabaseWrapper, state: ProjectState, *, only: Collection[tuple[str, str]] | None = None
) -> list[str]:
    """The statements that create every table of rendered `state` (or those of the models `only`
    names), from the schema editor: what applying the initial migration of `state` gives (the
    same tables, columns, indexes and constraints, under the same names; a test compares the
    catalogs), without the autodetector and one state change per operation. PostgreSQL's schema
    editor adds foreign keys and indexes at the end (its deferred SQL), so the order of the
    tables does not matter. With `only`, a foreign key to a table left out is left out too."""
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        models = [
            model
            for model in state.apps.get_models()
            if only is None or (model._meta.app_label, model._meta.model_name) in only
        ]
        for model in models:
            editor.create_model(model)
        if only is not None:
            tables = {model._meta.db_table for model in models}
            editor.deferred_sql = [
                statement
                for statement in editor.deferred_sql
                if not isinstance(statement, Statement)
                or "to_table" not in statement.parts
                or statement.parts["to_table"].table in tables
            ]
    return list(editor.collected_sql)


def run_sql(box: SandboxSession, statements: Sequence[str], *, atomic: bool) -> None:
    """Run previewed statements as written (the `--` lines are the operations' descriptions).
    An atomic migration's go as one query: PostgreSQL runs a multi-statement query in one
    transaction, its statements in order as if sent one by one, and rolls all back if one
    fails. A non-atomic migration's go one by one, as CREATE INDEX CONCURRENTLY must."""
    if atomic:
        box.execute("\n".join(statements))
        return
    for statement in statements:
        if not statement.startswith("--"):
            box.execute(statement)


def preview_sql(
    box: SandboxSession,
    *,
    base: DesignModel | None,
    new: DesignModel,
    detect_renames: bool = True,
    name: str = "preview",
    meanwhile: Callable[[Migration, tuple[str, ...], tuple[str, ...]], None] | None = None,
) -> MigrationSql | None:
    """The migration from `base` to `new` with its forward and rollback SQL; None if nothing changes.

    The proof runs the statements a reviewer reads: the forward SQL (collected from the schema
    editor on the base tables), then the rollback SQL (collected from the state after it), then
    the forward SQL again, comparing the catalog at each step. They are the statements Django's
    `migrate` runs for this migration (its `sqlmigrate` prints the same), so there is no second
    walk of the operations through the schema editor for each step.

    The sandbox's work overlaps Python's: the base tables the change reaches are created while
    the operations' states are walked, and `meanwhile(migration, forward, rollback)` (the caller's work on them,
    such as their review) runs while the sandbox rolls back and applies again."""
    base_state = project_state(base).state if base is not None else None
    migration = migration_between_states(
        base_state if base_state is not None else PreviewState(),
        project_state(new).state,
        detect_renames=detect_renames,
        name=name,
    )
    if migration is None:
        return None
    return prove_migration(box, migration, base=base, base_state=base_state, meanwhile=meanwhile)


def prove_migration(
    box: SandboxSession,
    migration: Migration,
    *,
    base: DesignModel | None,
    base_state: ProjectState | None,
    meanwhile: Callable[[Migration, tuple[str, ...], tuple[str, ...]], None] | None = None,
) -> MigrationSql:
    """`preview_sql` for a migration already made from `base_state`, the base revision's state
    (None from nothing), which is only read here: the base tables the migration reaches
    (`models_reached`) are created in the sandbox; the others would change nothing in the SQL
    or the proof. The operations are walked from `base` converted anew, as they edit fields
    shared with the state they start from."""
    with django_connection(box) as connection, ThreadPoolExecutor(max_workers=1) as sandbox:
        # The sandbox session's own connection runs the statements; the Django one, used by this
        # thread alone, introspects for the schema editor.
        created = None
        rendered = base_state
        if base_state is not None:
            rendered = _rendered(base_state)
            statements = create_tables_sql(connection, rendered, only=models_reached(migration, base_state))
            if statements:
                created = sandbox.submit(run_sql, box, statements, atomic=True)
        before = _rendered(project_state(base).state if base is not None else PreviewState())
        if created is None and migration.atomic:
            # Nothing to create first: the forward SQL runs while the operations are walked.
            started = sandbox.submit(catalog, box)
            steps, forward = _walk_and_run_forward(connection, box, sandbox, migration, before)
            start = started.result()
        else:
            steps = operation_states(migration, before)
            if created is not None and created.exception() is not None:
                # A base table PostgreSQL refuses: the failure is told as creating every base
                # table tells it (the same statement, at the same line of the same query).
                if rendered is not None:
                    run_sql(box, create_tables_sql(connection, rendered), atomic=True)
                created.result()
            start = catalog(box)
            forward = collect_steps_sql(connection, migration, steps, backwards=False)
            run_sql(box, forward, atomic=migration.atomic)
        rollback = collect_steps_sql(connection, migration, steps, backwards=True)
        proof = sandbox.submit(_prove, box, migration, forward, rollback, start)
        if meanwhile is not None:
            meanwhile(migration, tuple(forward), tuple(rollback))
        proven, reason = proof.result()
    return MigrationSql(migration, tuple(forward), tuple(rollback), proven, reason)


def _prove(
    box: SandboxSession,
    migration: Migration,
    forward: Sequence[str],
    rollback: Sequence[str],
    start: dict[tuple[str, str], str],
) -> tuple[bool, str]:
    """Proof, not promise: roll back for real, compare the catalog, then forward again."""
    after = catalog(box)
    run_sql(box, rollback, atomic=migration.atomic)
    restored = catalog(box)
    run_sql(box, forward, atomic=migration.atomic)
    again = catalog(box)
    return _judge(migration, start, restored, after, again)


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


def design_schema_sql(box: SandboxSession, model: DesignModel) -> list[str]:
    """The statements that create the design's tables in the sandbox session, as the migration
    preview writes them (`create_tables_sql` of the design's state): the tables first, then their
    foreign keys and indexes. What the query plans build their schema from."""
    from apps.migrations_preview.engine.states import project_state

    with django_connection(box) as connection:
        return create_tables_sql(connection, project_state(model).state)
