"""django-migration-linter's reversibility checks, over a migration's operations: `RunPython`
without `reverse_code` and `RunSQL` without `reverse_sql` make `migrate <app> <previous>` fail
at the moment a rollback is needed. (Its other backward-incompatibility checks, on drops,
renames and NOT NULL additions, are made on the SQL by the statement review.)

Pure: a Migration object in (nothing is applied), plain data out.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.migrations import operations
from django.db.migrations.migration import Migration


@dataclass(frozen=True, slots=True)
class OperationIssue:
    rule_id: str
    migration: str
    index: int  # position of the operation in the migration, from 0
    message: str
    fix: str


def _flatten(items: list[operations.base.Operation]) -> list[operations.base.Operation]:
    flat: list[operations.base.Operation] = []
    for item in items:
        flat.append(item)
        if isinstance(item, operations.SeparateDatabaseAndState):
            flat += _flatten(list(item.database_operations))
    return flat


def review_operations(migration: Migration) -> list[OperationIssue]:
    """One issue per operation that cannot be reversed."""
    issues: list[OperationIssue] = []
    for index, operation in enumerate(migration.operations):
        for inner in _flatten([operation]):
            if isinstance(inner, operations.RunPython) and not inner.reversible:
                issues.append(
                    OperationIssue(
                        "mig.runpython-irreversible",
                        migration.name,
                        index,
                        "RunPython has no reverse_code: unapplying this migration raises IrreversibleError",
                        "Give it reverse_code (migrations.RunPython.noop when undoing the data change is not needed).",
                    )
                )
            elif isinstance(inner, operations.RunSQL) and not inner.reversible:
                issues.append(
                    OperationIssue(
                        "mig.runsql-irreversible",
                        migration.name,
                        index,
                        "RunSQL has no reverse_sql: unapplying this migration raises IrreversibleError",
                        "Give it reverse_sql (migrations.RunSQL.noop when nothing needs undoing).",
                    )
                )
    return issues
