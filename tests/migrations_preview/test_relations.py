"""Referential actions, composite keys, partial uniques, enums and checks: reproduced with
Django in the previewed migration, or said in a note with what the preview did instead."""

from django.db.migrations.writer import MigrationWriter

from apps.migrations_preview.engine.states import migration_between, project_state
from apps.sandbox import engine as sandbox
from tests.migrations_preview.conftest import design_model, preview

DDL = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, code text UNIQUE);
CREATE TABLE subscriptions (
  customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE ON UPDATE CASCADE,
  plan text,
  status text,
  mood mood,
  data jsonb,
  code text REFERENCES customers (code) ON DELETE SET NULL,
  blocker bigint REFERENCES customers (id) ON DELETE RESTRICT,
  PRIMARY KEY (customer_id, plan),
  CHECK (status <> plan)
);
CREATE UNIQUE INDEX one_active ON subscriptions (customer_id) WHERE status = 'active';
CREATE INDEX subscriptions_lower ON subscriptions (lower(status)) WHERE status IS NOT NULL;
CREATE INDEX subscriptions_data ON subscriptions USING gin (data);
CREATE TABLE events (a bigint, b text, FOREIGN KEY (a, b) REFERENCES subscriptions (customer_id, plan));
"""


def test_the_initial_migration_reproduces_actions_keys_partial_uniques_enums_and_checks(
    config: sandbox.SandboxConfig,
) -> None:
    _, section = preview(design_model(data_model=DDL), None, config)
    forward = section["forward_sql"]
    assert 'FOREIGN KEY ("customer_id") REFERENCES "customers" ("id") ON DELETE CASCADE' in forward
    assert 'FOREIGN KEY ("code") REFERENCES "customers" ("code") ON DELETE SET NULL' in forward
    blocker = next(line for line in forward.splitlines() if 'FOREIGN KEY ("blocker")' in line)
    assert "ON DELETE" not in blocker  # NO ACTION, and a note says so
    assert 'PRIMARY KEY ("customer_id", "plan")' in forward
    assert 'CREATE UNIQUE INDEX "one_active" ON "subscriptions" ("customer_id") WHERE (status = \'active\');' in forward
    assert (
        'CREATE INDEX "subscriptions_lower" ON "subscriptions" (((lower(status)))) WHERE (status IS NOT NULL);'
        in forward
    )
    assert 'CREATE INDEX "subscriptions_data" ON "subscriptions" USING gin ("data");' in forward
    assert "CHECK (\"mood\" IN ('happy', 'sad'))" in forward
    assert "CHECK ((status <> plan))" in forward
    assert section["rollback_proven"]["proven"] is True
    notes = "\n".join(section["notes"])
    assert "subscriptions (customer_id) -> customers: ON UPDATE CASCADE is not previewed" in notes
    assert "subscriptions (blocker) -> customers: ON DELETE RESTRICT is previewed as NO ACTION" in notes
    assert "events (a, b) -> subscriptions (customer_id, plan): the foreign key is not previewed" in notes
    assert "events: the table has no primary key" in notes
    assert "subscriptions.mood: enum type mood is previewed as text with a CHECK on its labels (happy, sad)" in notes
    assert "DEFERRABLE INITIALLY DEFERRED" in notes


def test_the_migration_file_names_djangos_own_forms() -> None:
    migration = migration_between(None, design_model(data_model=DDL))
    assert migration is not None
    source = MigrationWriter(migration).as_string()
    assert "on_delete=django.db.models.deletion.DB_CASCADE" in source
    assert "on_delete=django.db.models.deletion.DB_SET_NULL" in source
    assert "to_field='code'" in source
    assert "models.CompositePrimaryKey('customer', 'plan'" in source
    assert (
        "models.UniqueConstraint(condition=models.Q(django.db.models.expressions.RawSQL(\"status = 'active'\"" in source
    )


def test_a_changed_on_delete_is_a_migration_of_its_own(config: sandbox.SandboxConfig) -> None:
    before = design_model(data_model=DDL)
    after = design_model(data_model=DDL.replace("ON DELETE CASCADE ON UPDATE CASCADE", "ON DELETE SET NULL"))
    assert migration_between(before, before) is None
    _, section = preview(after, before, config)
    forward = section["forward_sql"]
    assert 'DROP CONSTRAINT "subscriptions_customer_id_' in forward
    assert 'FOREIGN KEY ("customer_id") REFERENCES "customers" ("id") ON DELETE SET NULL' in forward
    assert section["rollback_proven"]["proven"] is True
    assert "ON UPDATE CASCADE is not previewed" not in "\n".join(project_state(after).notes)


def test_dbml_reference_actions_and_composite_keys_reach_the_migration(config: sandbox.SandboxConfig) -> None:
    dbml = """
Enum status {
  active
  paused
}
Table customers {
  id bigint [pk]
}
Table subscriptions {
  customer_id bigint [not null]
  plan text [not null]
  status status
  indexes {
    (customer_id, plan) [pk]
  }
}
Ref: subscriptions.customer_id > customers.id [delete: cascade]
"""
    _, section = preview(design_model(data_model=dbml), None, config)
    forward = section["forward_sql"]
    assert 'PRIMARY KEY ("customer_id", "plan")' in forward
    assert 'REFERENCES "customers" ("id") ON DELETE CASCADE' in forward
    assert "CHECK (\"status\" IN ('active', 'paused'))" in forward


BEFORE_CHANGE = """CREATE TABLE customers (id bigint PRIMARY KEY, email text);
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint REFERENCES customers (id),
  status text,
  note text
);
CREATE INDEX orders_status ON orders (status);
COMMENT ON TABLE orders IS 'rows: 5M';
COMMENT ON TABLE customers IS 'rows: 2M';
"""
AFTER_CHANGE = """CREATE TABLE customers (id bigint PRIMARY KEY, email text);
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL
    REFERENCES customers (id),
  status text NOT NULL,
  channel text NOT NULL,
  CONSTRAINT status_known CHECK (status IN ('a', 'b'))
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE UNIQUE INDEX customers_email ON customers (email);
COMMENT ON TABLE orders IS 'rows: 5M';
COMMENT ON TABLE customers IS 'rows: 2M';
"""


def test_each_finding_points_at_the_line_of_what_changed(config: sandbox.SandboxConfig) -> None:
    findings, _ = preview(design_model(data_model=AFTER_CHANGE), design_model(data_model=BEFORE_CHANGE), config)

    def line_of(fragment: str) -> int | None:
        (found,) = [f for f in findings if f.rule_id == "mig.blocking-statement" and fragment in f.title]
        return found.locations[0].line

    assert line_of('ADD COLUMN "channel" text NOT NULL') == 7
    assert line_of('ALTER COLUMN "customer_id" SET NOT NULL') == 4
    assert line_of('ALTER COLUMN "status" SET NOT NULL') == 6
    assert line_of('ADD CONSTRAINT "status_known"') == 8
    assert line_of('INDEX "orders_customer" ON') == 10
    unique = next(f for f in findings if '"customers_email' in f.title and "UNIQUE" in f.title)
    assert unique.locations[0].line == 11
    # what is dropped is found in the base revision: the column `note` was on its line 6
    dropped = next(f for f in findings if f.rule_id == "mig.breaking-change" and "DROP COLUMN" in f.title)
    assert dropped.locations[0].line == 6
    foreign_key = next(f for f in findings if f.rule_id == "mig.breaking-change" and "DROP CONSTRAINT" in f.title)
    assert foreign_key.locations[0].line == 4
    assert all(f.locations[0].line != 2 for f in findings if f.locations)  # never the CREATE TABLE line


PLAIN = """CREATE TABLE customers (id bigint PRIMARY KEY, email text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, code text);
COMMENT ON TABLE orders IS 'rows: 5M';
COMMENT ON TABLE customers IS 'rows: 1M';
"""
LINKED = PLAIN.replace("customer_id bigint,", "customer_id bigint REFERENCES customers (id) ON DELETE CASCADE,")


def test_a_column_that_gains_or_loses_a_foreign_key_keeps_its_column(config: sandbox.SandboxConfig) -> None:
    findings, section = preview(design_model(data_model=LINKED), design_model(data_model=PLAIN), config)
    statements = [line for line in section["forward_sql"].splitlines() if not line.startswith("--")]
    assert statements == [
        'ALTER TABLE "orders" ADD CONSTRAINT "orders_customer_id_b7016332_fk_customers_id" FOREIGN KEY ("customer_id") '
        'REFERENCES "customers" ("id") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;'
    ]
    assert section["rollback_proven"]["proven"] is True
    (added,) = section["statements"]
    # synthetic customers are made for the new foreign key to find: the statement is measured
    assert added["estimate_seconds"] is not None, added["estimate_basis"]
    assert {f.rule_id for f in findings} == {"mig.blocking-statement"}
    # the safe variant adds it NOT VALID, with its action, then validates it: nothing left high
    safe = section["safe_migration"]
    assert 'REFERENCES "customers" ("id") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED NOT VALID;' in safe["source"]
    assert safe["not_safe"] == []
    assert {r["risk"] for r in safe["statements"]} <= {"none", "low"}
    _, back = preview(design_model(data_model=PLAIN), design_model(data_model=LINKED), config)
    assert "RENAME" not in back["forward_sql"] and "ADD COLUMN" not in back["forward_sql"]
    assert 'DROP CONSTRAINT "orders_customer_id_b7016332_fk_customers_id";' in back["forward_sql"]
    assert back["rollback_proven"]["proven"] is True


def test_column_comments_become_db_comments_and_a_percent_is_noted(config: sandbox.SandboxConfig) -> None:
    ddl = """CREATE TABLE orders (id bigint PRIMARY KEY, note text, share text);
COMMENT ON COLUMN orders.note IS 'free text, the customer''s own';
COMMENT ON COLUMN orders.share IS '100% of it';
"""
    model = design_model(data_model=ddl)
    assert model.entities[0].column("note").comment == "free text, the customer's own"  # type: ignore[union-attr]
    _, section = preview(model, None, config)
    assert "COMMENT ON COLUMN \"orders\".\"note\" IS 'free text, the customer''s own';" in section["forward_sql"]
    assert "100" not in section["forward_sql"]
    assert (
        "orders.share: its comment holds `%`, which Django's schema editor takes as a placeholder: "
        "the comment is left out of the preview"
    ) in section["notes"]
    assert section["rollback_proven"]["proven"] is True


def test_nulls_not_distinct_and_schemas(config: sandbox.SandboxConfig) -> None:
    ddl = """CREATE TABLE sales.coupons (
  id bigint PRIMARY KEY,
  code text,
  CONSTRAINT one_code UNIQUE NULLS NOT DISTINCT (code)
);
"""
    model = design_model(data_model=ddl)
    assert model.entities[0].uniques[0].nulls_distinct is False
    _, section = preview(model, None, config)
    assert 'CONSTRAINT "one_code" UNIQUE NULLS NOT DISTINCT ("code")' in section["forward_sql"]
    assert any(note.startswith("sales.coupons: previewed in the sandbox's own schema") for note in section["notes"])
