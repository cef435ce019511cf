"""django-migration-linter's reversibility checks, and our own generated migrations pass them."""

from django.db import migrations
from django.db.migrations.migration import Migration

from apps.migrations_preview.engine.operations import review_operations
from apps.migrations_preview.engine.safe import safe_migration
from apps.migrations_preview.engine.states import migration_between, project_state
from tests.migrations_preview.conftest import design_model


def _forwards(apps: object, schema_editor: object) -> None:
    """A data migration's body; never run here."""


def _migration(*operations: object) -> Migration:
    migration = Migration("0002_backfill", "design")
    migration.operations = list(operations)
    return migration


def test_runpython_and_runsql_without_reverse_are_found() -> None:
    issues = review_operations(
        _migration(
            migrations.RunPython(_forwards),
            migrations.RunPython(_forwards, reverse_code=migrations.RunPython.noop),
            migrations.RunSQL("UPDATE orders SET channel = 'web' WHERE channel IS NULL"),
            migrations.RunSQL("SELECT 1", reverse_sql=migrations.RunSQL.noop),
            migrations.SeparateDatabaseAndState(database_operations=[migrations.RunSQL("DROP TABLE legacy")]),
        )
    )
    assert [(i.rule_id, i.index) for i in issues] == [
        ("mig.runpython-irreversible", 0),
        ("mig.runsql-irreversible", 2),
        ("mig.runsql-irreversible", 4),
    ]
    assert "IrreversibleError" in issues[0].message
    assert "RunPython.noop" in issues[0].fix


def test_the_generated_migration_and_its_safe_variant_are_reversible(shop_v1: str, shop_v2: str) -> None:
    v1, v2 = design_model(shop_v1), design_model(shop_v2)
    migration = migration_between(v1, v2)
    assert migration is not None
    safe = safe_migration(migration, before=project_state(v1).state, lock_timeout_ms=1, statement_timeout_ms=1)
    assert safe is not None
    initial = migration_between(None, v1)
    assert initial is not None
    assert review_operations(migration) == []
    assert review_operations(safe) == []
    assert review_operations(initial) == []
