"""The safe variant of a previewed migration, where the safe way is mechanical.

- `AddIndex` becomes `AddIndexConcurrently` (the migration is then non-atomic, as PostgreSQL
  refuses CREATE INDEX CONCURRENTLY inside a transaction);
- a column becoming NOT NULL is made so through `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE`,
  `SET NOT NULL` and dropping the check again: a validated check spares SET NOT NULL its scan
  under ACCESS EXCLUSIVE (PostgreSQL 12+), while Django's state gets the plain AlterField;
- a foreign key added to an existing table is created `NOT VALID`, then validated (VALIDATE
  takes SHARE UPDATE EXCLUSIVE, which lets reads and writes through);
- a CHECK constraint added to an existing table is created `NOT VALID`, then validated;
- a column made unique on an existing table gets its index `CREATE UNIQUE INDEX CONCURRENTLY`,
  then the constraint adopts it with `ADD CONSTRAINT ... UNIQUE USING INDEX` (metadata only);
- the migration starts by setting lock_timeout and statement_timeout, so a blocked statement
  fails fast instead of queueing every query behind it.
In each case Django's state gets the original operation (SeparateDatabaseAndState), so later
migrations see exactly the field the design describes. (Left out: the extra `varchar_pattern_ops`
index Django adds beside a unique varchar column for LIKE 'prefix%' lookups; the unique index
serves equality.)
Everything else is kept as it is and left to the review's advice. The variant's own statements
(`safe_statements`) go through the same statement review as the migration; those it still rates
high (`not_made_safe`) are listed in its header and in the report, never presented as safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pglast
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import models
from django.db.migrations import operations
from django.db.migrations.migration import Migration
from django.db.migrations.state import ModelState, ProjectState
from django.db.models.deletion import DatabaseOnDelete
from django.db.models.expressions import RawSQL
from pglast import ast, enums
from pglast.parser import ParseError
from pglast.stream import RawStream

from apps.designs.engine.identifiers import bounded_name
from apps.designs.engine.identifiers import quote_identifier as q
from apps.migrations_preview.engine.backend.base import PERCENT_MARK
from apps.migrations_preview.engine.review import StatementReview
from apps.migrations_preview.engine.states import APP_LABEL


def _name(table: str, column: str, suffix: str) -> str:
    """A constraint or index name within PostgreSQL's 63 bytes, stable for the same column."""
    return bounded_name(table[:24], column[:20], suffix=suffix)


def _unique_sql(table: str, column: str) -> tuple[list[str], list[str]]:
    name = q(_name(table, column, "uniq"))
    return (
        [
            f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {q(table)} ({q(column)});",
            f"ALTER TABLE {q(table)} ADD CONSTRAINT {name} UNIQUE USING INDEX {name};",
        ],
        [f"ALTER TABLE {q(table)} DROP CONSTRAINT {name};"],
    )


def _foreign_key_sql(
    table: str, column: str, target: ModelState, field: models.ForeignKey[Any, Any]
) -> tuple[list[str], list[str]]:
    """The foreign key NOT VALID, then validated; with the field's database-level ON DELETE and
    the referenced column (the primary key, or the field's to_field)."""
    name = q(_name(table, column, "fk"))
    target_table = target.options["db_table"]
    wanted = field.to_fields[0] if field.to_fields and field.to_fields[0] else None
    target_column = next(
        (
            other.db_column or (f"{other_name}_id" if isinstance(other, models.ForeignKey) else other_name)
            for other_name, other in target.fields.items()
            if (other_name == wanted if wanted else other.primary_key)
        ),
        wanted or "id",
    )
    on_delete = field.remote_field.on_delete
    action = f" ON DELETE {on_delete.operation}" if isinstance(on_delete, DatabaseOnDelete) else ""
    return (
        [
            f"ALTER TABLE {q(table)} ADD CONSTRAINT {name} FOREIGN KEY ({q(column)}) REFERENCES {q(target_table)} ({q(target_column)}){action} DEFERRABLE INITIALLY DEFERRED NOT VALID;",
            f"ALTER TABLE {q(table)} VALIDATE CONSTRAINT {name};",
        ],
        [f"ALTER TABLE {q(table)} DROP CONSTRAINT {name};"],
    )


def _safe_add_field(
    operation: operations.AddField, model: ModelState, after: ProjectState
) -> operations.SeparateDatabaseAndState | None:
    """A new column on an existing table: its foreign key NOT VALID then validated, its
    uniqueness through a concurrent index; None when neither applies."""
    field = operation.field
    is_fk = isinstance(field, models.ForeignKey) and field.db_constraint
    if not (is_fk or field.unique):
        return None
    table = model.options["db_table"]
    _, _, args, kwargs = field.deconstruct()
    forward: list[str] = []
    backward: list[str] = []
    column = field.db_column or (f"{operation.name}_id" if isinstance(field, models.ForeignKey) else operation.name)
    if field.unique:
        kwargs.pop("unique", None)
        sql, undo = _unique_sql(table, column)
        forward += sql
        backward = undo + backward
    if is_fk:
        target = after.models.get((APP_LABEL, field.related_model.split(".")[-1].lower()))
        if target is None:
            return None
        kwargs["db_constraint"] = False
        sql, undo = _foreign_key_sql(table, column, target, field)
        forward += sql
        backward = undo + backward
    plain = type(field)(*args, **kwargs)
    return operations.SeparateDatabaseAndState(
        database_operations=[
            operations.AddField(operation.model_name, operation.name, plain),
            operations.RunSQL(forward, reverse_sql=backward),
        ],
        state_operations=[operation],
    )


def _safe_check(operation: operations.AddConstraint, model: ModelState) -> operations.SeparateDatabaseAndState | None:
    constraint = operation.constraint
    if not isinstance(constraint, models.CheckConstraint) or not isinstance(constraint.condition, RawSQL):
        return None
    table = model.options["db_table"]
    expression = constraint.condition.sql.replace(PERCENT_MARK, "%")
    return operations.SeparateDatabaseAndState(
        database_operations=[
            operations.RunSQL(
                [
                    f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(constraint.name)} CHECK ({expression}) NOT VALID;",
                    f"ALTER TABLE {q(table)} VALIDATE CONSTRAINT {q(constraint.name)};",
                ],
                reverse_sql=[f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(constraint.name)};"],
            )
        ],
        state_operations=[operation],
    )


def _safe_link(
    operation: operations.AlterField, model: ModelState, after: ProjectState
) -> operations.SeparateDatabaseAndState | None:
    """An existing column that gains a foreign key and nothing else (states.py turns that change
    into a no-op rename and this AlterField): the constraint NOT VALID, then validated."""
    field = operation.field
    if not isinstance(field, models.ForeignKey) or not field.db_constraint or field.unique:
        return None
    column = field.db_column or f"{operation.name}_id"
    old = next(
        (
            f
            for name, f in model.fields.items()
            if (f.db_column or (f"{name}_id" if isinstance(f, models.ForeignKey) else name)) == column
        ),
        None,
    )
    if old is None or isinstance(old, models.ForeignKey) or old.null != field.null:
        return None
    target = after.models.get((APP_LABEL, field.related_model.split(".")[-1].lower()))
    if target is None:
        return None
    sql, undo = _foreign_key_sql(model.options["db_table"], column, target, field)
    return operations.SeparateDatabaseAndState(
        database_operations=[operations.RunSQL(sql, reverse_sql=undo)], state_operations=[operation]
    )


def _safe_make_unique(
    operation: operations.AlterField, model: ModelState
) -> operations.SeparateDatabaseAndState | None:
    """An existing column that becomes unique, and nothing else changes about it."""
    old = model.fields.get(operation.name)
    new = operation.field
    if old is None or old.unique or not new.unique or type(old) is not type(new):
        return None
    old_kwargs = {k: v for k, v in old.deconstruct()[3].items() if k != "unique"}
    new_kwargs = {k: v for k, v in new.deconstruct()[3].items() if k != "unique"}
    if old_kwargs != new_kwargs:
        return None
    column = new.db_column or (f"{operation.name}_id" if isinstance(new, models.ForeignKey) else operation.name)
    sql, undo = _unique_sql(model.options["db_table"], column)
    return operations.SeparateDatabaseAndState(
        database_operations=[operations.RunSQL(sql, reverse_sql=undo)], state_operations=[operation]
    )


def _safe_not_null(operation: operations.AlterField, model: ModelState) -> operations.SeparateDatabaseAndState | None:
    """A nullable column becoming NOT NULL: through a validated check, which spares SET NOT NULL
    its scan under ACCESS EXCLUSIVE (PostgreSQL 12+)."""
    old = model.fields.get(operation.name)
    new = operation.field
    if old is None or not old.null or new.null or type(old) is not type(new):
        return None
    table = model.options["db_table"]
    column = new.db_column or operation.name
    check = q(bounded_name(table, column, suffix="not_null"))
    return operations.SeparateDatabaseAndState(
        database_operations=[
            operations.RunSQL(
                [
                    f"ALTER TABLE {q(table)} ADD CONSTRAINT {check} CHECK ({q(column)} IS NOT NULL) NOT VALID;",
                    f"ALTER TABLE {q(table)} VALIDATE CONSTRAINT {check};",
                    f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} SET NOT NULL;",
                    f"ALTER TABLE {q(table)} DROP CONSTRAINT {check};",
                ],
                reverse_sql=[f"ALTER TABLE {q(table)} ALTER COLUMN {q(column)} DROP NOT NULL;"],
            )
        ],
        state_operations=[operation],
    )


def _safe_form(
    operation: operations.base.Operation, before: ProjectState, after: ProjectState
) -> operations.base.Operation | None:
    """The operation's safe form, or None when it has no mechanical one."""
    if isinstance(operation, operations.AddIndex):
        return AddIndexConcurrently(operation.model_name, operation.index)
    existing = before.models.get((APP_LABEL, getattr(operation, "model_name_lower", "")))
    if existing is None:
        return None  # a table this migration creates is empty: nothing to protect
    if isinstance(operation, operations.AddField):
        return _safe_add_field(operation, existing, after)
    if isinstance(operation, operations.AddConstraint):
        return _safe_check(operation, existing)
    if isinstance(operation, operations.AlterField):
        return (
            _safe_make_unique(operation, existing)
            or _safe_not_null(operation, existing)
            or _safe_link(operation, existing, after)
        )
    return None


def safe_migration(
    migration: Migration, *, before: ProjectState, lock_timeout_ms: int, statement_timeout_ms: int
) -> Migration | None:
    """The safe variant, or None when nothing in the migration has a mechanical safe form."""
    after = before.clone()
    for operation in migration.operations:
        operation.state_forwards(APP_LABEL, after)
    result: list[operations.base.Operation] = []
    changed = False
    for operation in migration.operations:
        safe_form = _safe_form(operation, before, after)
        changed = changed or safe_form is not None
        result.append(safe_form if safe_form is not None else operation)
    if not changed:
        return None
    safe = Migration(f"{migration.name}_safe", APP_LABEL)
    safe.atomic = False
    safe.operations = [
        operations.RunSQL(
            f"SET lock_timeout = '{lock_timeout_ms}ms'; SET statement_timeout = '{statement_timeout_ms}ms';",
            reverse_sql=f"SET lock_timeout = '{lock_timeout_ms}ms'; SET statement_timeout = '{statement_timeout_ms}ms';",
        ),
        *result,
    ]
    return safe


def operation_groups(forward: Sequence[str]) -> list[list[str]]:
    """The collected forward SQL split per operation: `collect_steps_sql` writes a `--`,
    `-- <description>`, `--` header before each operation's statements."""
    groups: list[list[str]] = []
    index = 0
    while index < len(forward):
        if forward[index] == "--" and index + 2 < len(forward) and forward[index + 2] == "--":
            groups.append([])
            index += 3
            continue
        if groups and not forward[index].startswith("--"):
            groups[-1].append(forward[index])
        index += 1
    return groups


def _without_inline_keys(statement: str) -> list[str]:
    """`ALTER TABLE ... ADD COLUMN` without the column's UNIQUE and REFERENCES (the safe form adds
    them afterwards), and without the SET CONSTRAINTS that follows an inline foreign key; other
    statements as they are. (Django writes an inline foreign key and its SET CONSTRAINTS as one
    string of two statements.)"""
    try:
        parsed = pglast.parse_sql(statement)
    except ParseError:
        return [statement]
    C = enums.ConstrType
    dropped = (C.CONSTR_UNIQUE, C.CONSTR_FOREIGN, C.CONSTR_ATTR_DEFERRABLE, C.CONSTR_ATTR_DEFERRED)
    result = []
    for raw in parsed:
        stmt = raw.stmt
        if isinstance(stmt, ast.ConstraintsSetStmt):
            continue
        if isinstance(stmt, ast.AlterTableStmt) and len(stmt.cmds or ()) == 1:
            definition = stmt.cmds[0].def_
            if stmt.cmds[0].subtype == enums.AlterTableType.AT_AddColumn and isinstance(definition, ast.ColumnDef):
                definition.constraints = (
                    tuple(c for c in definition.constraints or () if c.contype not in dropped) or None
                )
        result.append(str(RawStream()(stmt)) + ";")
    return result


def safe_statements(safe: Migration, original: Migration, forward: Sequence[str]) -> list[str]:
    """The SQL the safe variant runs, in order, for its review: the timeouts, then per operation
    either the original operation's statements (kept as they are) or those of its safe form
    (RunSQL as written; a concurrent index as the plain one with CONCURRENTLY; a column added
    without its inline unique and foreign key, which the RunSQL after it adds)."""
    groups = operation_groups(forward)
    statements: list[str] = []
    for operation in safe.operations[:1]:
        statements += _run_sql(operation)
    for index, operation in enumerate(safe.operations[1:]):
        group = groups[index] if index < len(groups) else []
        if operation is original.operations[index]:
            statements += [s for s in group if not s.startswith("SET CONSTRAINTS")]
        elif isinstance(operation, AddIndexConcurrently):
            statements += [_concurrently(s) for s in group]
        elif isinstance(operation, operations.SeparateDatabaseAndState):
            for inner in operation.database_operations:
                if isinstance(inner, operations.RunSQL):
                    statements += _run_sql(inner)
                else:  # the plain AddField
                    for statement in group:
                        if not statement.startswith("SET CONSTRAINTS") and " ADD CONSTRAINT " not in statement:
                            statements += _without_inline_keys(statement)
    return statements


def _run_sql(operation: operations.base.Operation) -> list[str]:
    if not isinstance(operation, operations.RunSQL):
        return []
    sql = operation.sql
    return [sql] if isinstance(sql, str) else [str(s) for s in sql]


def _concurrently(statement: str) -> str:
    try:
        parsed = pglast.parse_sql(statement)
    except ParseError:
        return statement
    stmt = parsed[0].stmt if len(parsed) == 1 else None
    if isinstance(stmt, ast.IndexStmt):
        stmt.concurrent = True
        return str(RawStream()(stmt)) + ";"
    return statement


def not_made_safe(reviews: Sequence[StatementReview]) -> list[str]:
    """The statements of the safe variant its review still rates high: what has no mechanical safe
    form, each with why and what to do instead."""
    return [
        f"{r.sql.rstrip(';')[:160]}: {r.reason}" + (f". Instead: {r.safe_alternative}" if r.safe_alternative else "")
        for r in reviews
        if r.risk == "high"
    ]
