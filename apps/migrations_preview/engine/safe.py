"""The safe variant of a previewed migration, where the safe way is mechanical.

- `AddIndex` becomes `AddIndexConcurrently` (the migration is then non-atomic, as PostgreSQL
  refuses CREATE INDEX CONCURRENTLY inside a transaction);
- a column becoming NOT NULL is made so through `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE`,
  `SET NOT NULL` and dropping the check again: a validated check spares SET NOT NULL its scan
  under ACCESS EXCLUSIVE (PostgreSQL 12+), while Django's state gets the plain AlterField;
- the migration starts by setting lock_timeout and statement_timeout, so a blocked statement
  fails fast instead of queueing every query behind it.
Everything else is kept as it is and left to the review's advice.
"""

from __future__ import annotations

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations import operations
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState

from apps.migrations_preview.engine.states import APP_LABEL


def safe_migration(
    migration: Migration, *, before: ProjectState, lock_timeout_ms: int, statement_timeout_ms: int
) -> Migration | None:
    """The safe variant, or None when nothing in the migration has a mechanical safe form."""
    result: list[operations.base.Operation] = []
    changed = False
    for operation in migration.operations:
        if isinstance(operation, operations.AddIndex):
            result.append(AddIndexConcurrently(operation.model_name, operation.index))
            changed = True
            continue
        if isinstance(operation, operations.AlterField):
            model = before.models.get((APP_LABEL, operation.model_name_lower))
            old = model.fields.get(operation.name) if model is not None else None
            new = operation.field
            if model is not None and old is not None and old.null and not new.null and type(old) is type(new):
                table = model.options["db_table"]
                column = new.db_column or operation.name
                check = f"{table}_{column}_not_null"[:63]
                result.append(
                    operations.SeparateDatabaseAndState(
                        database_operations=[
                            operations.RunSQL(
                                [
                                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{check}" CHECK ("{column}" IS NOT NULL) NOT VALID;',
                                    f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{check}";',
                                    f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET NOT NULL;',
                                    f'ALTER TABLE "{table}" DROP CONSTRAINT "{check}";',
                                ],
                                reverse_sql=[f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP NOT NULL;'],
                            )
                        ],
                        state_operations=[operation],
                    )
                )
                changed = True
                continue
        result.append(operation)
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
