"""Forward and rollback SQL come from Django's schema editor, run against a sandbox session."""

from queue import SimpleQueue
from typing import Any

import psycopg
import pytest
from django.db.migrations.state import ProjectState

from apps.migrations_preview.engine import sql
from apps.migrations_preview.engine.sql import (
    apply_migration,
    catalog,
    collect_sql,
    create_tables,
    django_connection,
    preview_sql,
)
from apps.migrations_preview.engine.states import project_state
from apps.sandbox import engine as sandbox
from tests.migrations_preview.conftest import chained_change, design_model, djangos_state


def test_shop_v1_to_v2_forward_and_rollback_sql(config: sandbox.SandboxConfig, shop_v1: str, shop_v2: str) -> None:
    with sandbox.session(config) as box:
        result = preview_sql(box, base=design_model(shop_v1), new=design_model(shop_v2))
        tables = {row[0] for row in box.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    assert result is not None
    forward = "\n".join(result.forward)
    rollback = "\n".join(result.rollback)
    assert 'ALTER TABLE "orders" RENAME COLUMN "shipping_address" TO "delivery_address";' in forward
    assert 'ALTER TABLE "order_lines" ALTER COLUMN "quantity" TYPE bigint' in forward
    assert 'ALTER TABLE "customers" ALTER COLUMN "phone" SET NOT NULL;' in forward
    assert 'ALTER TABLE "payments" DROP COLUMN "card_number";' in forward
    assert 'CREATE TABLE "shipments"' in forward
    assert 'ALTER TABLE "orders" RENAME COLUMN "delivery_address" TO "shipping_address";' in rollback
    assert 'ALTER TABLE "payments" ADD COLUMN "card_number" varchar(19) NULL;' in rollback
    assert 'DROP TABLE "shipments" CASCADE;' in rollback
    assert 'ALTER TABLE "order_lines" ALTER COLUMN "quantity" TYPE integer USING "quantity"::integer;' in rollback
    assert 'ALTER TABLE "customers" ALTER COLUMN "phone" DROP NOT NULL;' in rollback
    assert "shipments" in tables  # the change was really applied in the sandbox
    assert result.rollback_proven is False
    assert "the data of payment.card_number is lost" in result.rollback_reason


def test_a_rollback_without_data_loss_is_proven(config: sandbox.SandboxConfig, shop_v1: str) -> None:
    v1 = design_model(shop_v1)
    more = design_model(
        shop_v1.replace(
            "  stock integer [not null, default: 0]\n",
            "  stock integer [not null, default: 0]\n  weight_grams integer\n",
        )
    )
    with sandbox.session(config) as box:
        result = preview_sql(box, base=v1, new=more)
    assert result is not None
    assert result.forward[-1] == 'ALTER TABLE "products" ADD COLUMN "weight_grams" integer NULL;'
    assert result.rollback_proven, result.rollback_reason


def test_a_design_from_nothing_gives_its_create_tables(config: sandbox.SandboxConfig, shop_v1: str) -> None:
    with sandbox.session(config) as box:
        result = preview_sql(box, base=None, new=design_model(shop_v1))
    assert result is not None
    assert sum(1 for s in result.forward if s.startswith("CREATE TABLE")) == 7
    assert any(s.startswith('DROP TABLE "orders"') for s in result.rollback)


def _schema(box: sandbox.SandboxSession) -> dict[tuple[str, str], str]:
    """The session's catalog without its schema's name (each session has its own)."""
    return {key: definition.replace(f"{box.schema}.", "") for key, definition in catalog(box).items()}


def test_the_base_tables_are_those_the_initial_migration_creates(config: sandbox.SandboxConfig) -> None:
    base, _, initial, _ = chained_change(24, 12)
    with sandbox.session(config) as box, django_connection(box) as connection:
        apply_migration(connection, initial, ProjectState())
        migrated = _schema(box)
    with sandbox.session(config) as box, django_connection(box) as connection:
        create_tables(connection, project_state(base).state)
        created = _schema(box)
    assert len(created) > 24 * 12
    assert created == migrated


def test_the_preview_of_a_change_gives_djangos_sql_and_proves_its_rollback(config: sandbox.SandboxConfig) -> None:
    base, new, initial, change = chained_change(24, 12)
    with sandbox.session(config) as box, django_connection(box) as connection:
        # Django's own path: migrate to the base, then sqlmigrate, migrate, sqlmigrate --backwards.
        apply_migration(connection, initial, ProjectState())
        state = djangos_state(project_state(base).state)
        djangos_forward = collect_sql(connection, change, state, backwards=False)
        apply_migration(connection, change, state)
        djangos_rollback = collect_sql(connection, change, state, backwards=True)
        migrated = _schema(box)
    with sandbox.session(config) as box:
        result = preview_sql(box, base=base, new=new)
        previewed = _schema(box)
    assert result is not None
    assert list(result.forward) == djangos_forward
    assert list(result.rollback) == djangos_rollback
    # Only the base tables the change reaches were created: the changed ones and those their
    # foreign keys point at (t000, t004, ... and t003, t007, ... and t007 + 4k for added_ref).
    tables = {name.split(".")[0] for _, name in previewed}
    assert tables == {f"t{t:03d}" for t in range(24) if t % 4 in (0, 3)}
    # Forward, rollback and forward again really ran; the sandbox's tables are Django's, each
    # without the foreign keys to the tables left out (none of them changes).
    left_out_targets = {f"t{t:03d}" for t in range(24)} - tables
    assert previewed == {
        key: definition
        for key, definition in migrated.items()
        if key[1].split(".")[0] in tables and not any(f"REFERENCES {t}(" in definition for t in left_out_targets)
    }
    # Columns are dropped, so the data is lost; but only once the catalog after the rollback equals
    # the one before, and the one after forward again equals the one after forward, is this said.
    assert not result.rollback_proven
    assert result.rollback_reason.startswith("the schema is restored, but the data of t000.c05, t004.c05")


def test_a_rollback_that_does_not_restore_the_schema_is_not_proven(
    config: sandbox.SandboxConfig, shop_v1: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = design_model(shop_v1)
    more = design_model(shop_v1.replace("  stock integer [not null, default: 0]\n", "  stock bigint [not null]\n"))
    run = sql.run_sql
    rollbacks: list[str] = []

    def rollback_left_out(box: Any, statements: Any, *, atomic: bool) -> None:
        if any('TYPE integer USING "stock"::integer' in statement for statement in statements):
            rollbacks.append("skipped")
            return
        run(box, statements, atomic=atomic)

    monkeypatch.setattr(sql, "run_sql", rollback_left_out)
    with sandbox.session(config) as box:
        result = preview_sql(box, base=v1, new=more)
    assert result is not None
    assert rollbacks == ["skipped"]
    assert not result.rollback_proven
    assert "the rollback does not restore the schema" in result.rollback_reason


def test_a_design_from_nothing_gives_djangos_sql_run_while_it_is_collected(config: sandbox.SandboxConfig) -> None:
    base, _, initial, _ = chained_change(24, 12)
    with sandbox.session(config) as box, django_connection(box) as connection:
        djangos_forward = collect_sql(connection, initial, ProjectState(), backwards=False)
        apply_migration(connection, initial, ProjectState())
        djangos_rollback = collect_sql(connection, initial, ProjectState(), backwards=True)
        migrated = _schema(box)
    with sandbox.session(config) as box:
        result = preview_sql(box, base=None, new=base)
        previewed = _schema(box)
    assert result is not None
    assert list(result.forward) == djangos_forward
    assert list(result.rollback) == djangos_rollback
    assert previewed == migrated
    assert result.rollback_proven, result.rollback_reason


def test_statements_run_as_they_come_are_one_transaction(config: sandbox.SandboxConfig) -> None:
    batches: SimpleQueue[list[str] | str] = SimpleQueue()
    for batch in (["--", "-- Create model A", "--"], ["CREATE TABLE a (id integer);"], ["SELECT 1 / 0;"], sql._END):
        batches.put(batch)
    with sandbox.session(config) as box:
        with pytest.raises(psycopg.errors.DivisionByZero):
            sql._run_streamed(box, batches)
        assert catalog(box) == {}  # the table made before the failure is rolled back
