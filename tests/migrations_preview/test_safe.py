"""The generated safe migration is ready to run: applied for real in the sandbox."""

from django.db.migrations.state import ProjectState
from django.db.migrations.writer import MigrationWriter

from apps.migrations_preview.engine.safe import safe_migration
from apps.migrations_preview.engine.sql import apply_migration, catalog, django_connection
from apps.migrations_preview.engine.states import migration_between, project_state
from apps.sandbox import engine as sandbox
from tests.migrations_preview.conftest import design_model, preview


def test_the_safe_variant_of_shop_v1_to_v2_runs_in_the_sandbox(
    config: sandbox.SandboxConfig, shop_v1: str, shop_v2: str
) -> None:
    v1, v2 = design_model(shop_v1), design_model(shop_v2)
    migration = migration_between(v1, v2)
    assert migration is not None
    safe = safe_migration(migration, before=project_state(v1).state, lock_timeout_ms=2000, statement_timeout_ms=60000)
    assert safe is not None
    source = MigrationWriter(safe).as_string()
    assert "atomic = False" in source
    assert "SET lock_timeout = '2000ms'; SET statement_timeout = '60000ms';" in source
    assert "AddIndexConcurrently(" in source
    assert 'CHECK ("phone" IS NOT NULL) NOT VALID' in source
    assert 'FOREIGN KEY ("refund_of") REFERENCES "payments" ("id") DEFERRABLE INITIALLY DEFERRED NOT VALID;' in source
    assert 'CREATE UNIQUE INDEX CONCURRENTLY "products_slug_' in source
    assert 'UNIQUE USING INDEX "products_slug_' in source
    with sandbox.session(config) as box:
        with django_connection(box) as connection:
            base = migration_between(None, v1, name="base")
            assert base is not None
            apply_migration(connection, base, ProjectState())
            before = catalog(box)
            apply_migration(connection, safe, project_state(v1).state)
            # Its reverse restores the base schema too.
            with connection.schema_editor(atomic=False) as editor:
                safe.unapply(project_state(v1).state.clone(), editor)
            assert catalog(box) == before
            apply_migration(connection, safe, project_state(v1).state)
        constraints = dict(
            box.execute(
                "SELECT conname, pg_get_constraintdef(oid) || CASE WHEN convalidated THEN '' ELSE ' (not validated)' END"
                " FROM pg_constraint WHERE connamespace = current_schema()::regnamespace"
            )
        )
        columns = dict(
            box.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'customers'"
            )
        )
        indexes = {
            row[0] for row in box.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        }
    assert columns["phone"] == "NO"
    foreign_key = next(d for n, d in constraints.items() if n.startswith("payments_refund_of_"))
    assert foreign_key == "FOREIGN KEY (refund_of) REFERENCES payments(id) DEFERRABLE INITIALLY DEFERRED"  # validated
    assert next(d for n, d in constraints.items() if n.startswith("products_slug_")) == "UNIQUE (slug)"
    assert not any(n.endswith("_not_null") for n in constraints)  # the helper check is gone again
    assert any(name.startswith("order_lines_order_i") for name in indexes)


def test_nothing_mechanical_means_no_safe_variant(shop_v1: str) -> None:
    v1 = design_model(shop_v1)
    more = design_model(
        shop_v1.replace(
            "  stock integer [not null, default: 0]\n",
            "  stock integer [not null, default: 0]\n  weight_grams integer\n",
        )
    )
    migration = migration_between(v1, more)
    assert migration is not None
    assert safe_migration(migration, before=project_state(v1).state, lock_timeout_ms=1, statement_timeout_ms=1) is None


def test_the_safe_variant_is_reviewed_and_names_what_it_could_not_make_safe(
    config: sandbox.SandboxConfig, shop_v1: str, shop_v2: str
) -> None:
    _, section = preview(design_model(shop_v2), design_model(shop_v1), config)
    safe = section["safe_migration"]
    reviews = safe["statements"]
    assert reviews[0]["sql"].startswith("SET lock_timeout")
    high = [r["sql"].rstrip(";")[:160] for r in reviews if r["risk"] == "high"]
    # every statement still rated high is named as not made safe, in the report and the header
    assert [item.split(": ", 1)[0] for item in safe["not_safe"]] == high
    assert f"# NOT MADE SAFE ({len(high)}): no mechanical safe form" in safe["source"]
    assert any('ADD COLUMN "channel"' in sql for sql in high)  # NOT NULL without a default: nothing mechanical
    # what has a mechanical safe form is not high in the variant
    by_sql = {r["sql"]: r for r in reviews}
    assert by_sql['ALTER TABLE "customers" ALTER COLUMN "phone" SET NOT NULL;']["risk"] == "low"
    assert by_sql['ALTER TABLE "payments" VALIDATE CONSTRAINT "payments_refund_of_2c37c6ae_fk";']["risk"] == "low"
    assert by_sql["ALTER TABLE payments ADD COLUMN refund_of bigint NULL;"]["risk"] == "low"
    assert next(r for r in reviews if "CREATE INDEX CONCURRENTLY order_lines_order" in r["sql"])["risk"] == "low"
    assert not any("refund_of" in sql for sql in high)
