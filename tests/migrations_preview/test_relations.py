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
