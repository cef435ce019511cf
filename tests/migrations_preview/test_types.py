"""Column types and defaults beyond Django's literals: arrays, expression defaults, enums (text
with a CHECK on their labels), and types with no Django field, which the preview says it shows
as text."""

from django.db.migrations.writer import MigrationWriter

from apps.migrations_preview.engine.states import migration_between, project_state
from apps.sandbox import engine as sandbox
from tests.migrations_preview.conftest import design_model, preview

BEFORE = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  expires_at timestamptz NOT NULL DEFAULT (now() + interval '1 day'),
  label text NOT NULL DEFAULT 'it''s',
  tags text[] NOT NULL DEFAULT '{}',
  current_mood mood,
  search tsvector,
  ratio numeric
);
COMMENT ON TABLE tokens IS 'rows: 500k';
"""
AFTER = BEFORE.replace("  ratio numeric\n", "  ratio numeric,\n  code text NOT NULL DEFAULT md5(random()::text)\n")


def test_expression_defaults_and_arrays_are_kept_and_the_rest_is_noted() -> None:
    conversion = project_state(design_model(data_model=BEFORE))
    migration = migration_between(None, design_model(data_model=BEFORE))
    assert migration is not None
    source = MigrationWriter(migration).as_string()
    assert "db_default=django.db.models.expressions.RawSQL('gen_random_uuid()', [])" in source
    assert "django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), db_default='{}')" in source
    assert "RawSQL(\"now() + CAST('1 day' AS interval)\", [])" in source
    assert 'db_default="it\'s"' in source
    assert (
        "('current_mood', models.TextField(choices=[('sad', 'sad'), ('ok', 'ok'), ('happy', 'happy')], null=True))"
        in source
    )
    assert "models.CheckConstraint(condition=models.Q(('current_mood__in', ['sad', 'ok', 'happy']))" in source
    assert sorted(conversion.notes) == [
        "tokens.current_mood: enum type mood is previewed as text with a CHECK on its labels (sad, ok, happy): "
        "Django has no PostgreSQL enum type",
        "tokens.ratio: numeric without precision is previewed as numeric(65, 30): Django's decimal field needs its digits",
        "tokens.search: type tsvector has no Django field here; previewed as text, so the SQL shows text",
    ]


def test_a_volatile_default_is_measured_as_a_rewrite(config: sandbox.SandboxConfig) -> None:
    _, section = preview(design_model(data_model=AFTER), design_model(data_model=BEFORE), config)
    (statement,) = section["statements"]
    assert statement["sql"] == (
        'ALTER TABLE "tokens" ADD COLUMN "code" text DEFAULT ((md5(CAST(random() AS text)))) NOT NULL;'
    )
    assert (statement["rewrites_table"], statement["rows"]) == (True, 500_000)
    assert "at 500,000 rows (linear extrapolation)" in statement["estimate_basis"]
    assert section["rollback_proven"]["proven"] is True
    assert any("tokens.search: type tsvector has no Django field here" in note for note in section["notes"])
