"""Only the base tables a change reaches are created in the sandbox: the SQL and the proof are
the same as with every table there."""

import pytest
from django.db.migrations import operations
from django.db.migrations.migration import Migration

from apps.migrations_preview.engine import sql
from apps.migrations_preview.engine.sql import _rendered, create_tables_sql, django_connection, preview_sql
from apps.migrations_preview.engine.states import migration_between, models_reached, project_state
from apps.sandbox import engine as sandbox
from tests.migrations_preview.conftest import design_model

BASE = """
CREATE TABLE a (id integer PRIMARY KEY, code text UNIQUE, note text);
CREATE TABLE b (id bigint PRIMARY KEY, a_id integer REFERENCES a (id), a_code text REFERENCES a (code), x text);
CREATE TABLE c (id bigint PRIMARY KEY, b_id bigint REFERENCES b (id));
CREATE TABLE d (id bigint PRIMARY KEY, y text);
"""


def _reached(new: str) -> set[str]:
    base = project_state(design_model(data_model=BASE)).state
    migration = migration_between(design_model(data_model=BASE), design_model(data_model=new))
    assert migration is not None
    reached = models_reached(migration, base)
    assert reached is not None
    return {name for _, name in reached}


@pytest.mark.parametrize(
    ("old", "new", "reached"),
    [
        ("note text", "note varchar(20)", {"a"}),  # a's own column: a alone
        ("x text", "x varchar(20)", {"b", "a"}),  # and the table b's foreign keys point at
        ("id integer PRIMARY KEY, code", "id bigint PRIMARY KEY, code", {"a", "b"}),  # a referenced key
        ("code text UNIQUE", "code varchar(20) UNIQUE", {"a", "b"}),  # a referenced unique column
        ("y text", "y text, a_id integer REFERENCES a (id)", {"d", "a"}),  # a new foreign key's target
    ],
)
def test_a_change_reaches_its_tables_and_those_the_schema_editor_visits(old: str, new: str, reached: set[str]) -> None:
    assert _reached(BASE.replace(old, new)) == reached


def test_dropping_a_table_reaches_it_and_the_tables_it_points_at() -> None:
    new = BASE.replace("CREATE TABLE c (id bigint PRIMARY KEY, b_id bigint REFERENCES b (id));\n", "")
    assert _reached(new) == {"c", "b"}


def test_an_operation_it_does_not_know_reaches_every_table() -> None:
    migration = Migration("preview", "design")
    migration.operations = [operations.RunSQL("SELECT 1", reverse_sql="SELECT 1")]
    assert models_reached(migration, project_state(design_model(data_model=BASE)).state) is None


def test_only_the_reached_tables_are_created_with_their_foreign_keys_among_them(config: sandbox.SandboxConfig) -> None:
    state = _rendered(project_state(design_model(data_model=BASE)).state)
    with sandbox.session(config) as box, django_connection(box) as connection:
        statements = create_tables_sql(connection, state, only={("design", "b"), ("design", "c")})
    assert sum(s.startswith("CREATE TABLE") for s in statements) == 2
    assert any('REFERENCES "b" ("id")' in s for s in statements)  # c -> b: both created
    assert not any('REFERENCES "a"' in s for s in statements)  # b -> a: a is left out


CHANGES = {
    "a referenced column renamed": BASE.replace("code text UNIQUE", "label text UNIQUE").replace(
        "REFERENCES a (code)", "REFERENCES a (label)"
    ),
    "a table dropped": BASE.replace("CREATE TABLE c (id bigint PRIMARY KEY, b_id bigint REFERENCES b (id));\n", ""),
    "a referenced table dropped": BASE.replace(
        "CREATE TABLE b (id bigint PRIMARY KEY, a_id integer REFERENCES a (id), a_code text REFERENCES a (code), x text);\n",
        "",
    ).replace("b_id bigint REFERENCES b (id)", "b_id bigint"),
    "own columns changed": BASE.replace("note text", "note varchar(20)").replace("x text", "x text NOT NULL"),
    # These two fail today, in Django's state rendering (a referenced table renamed while the
    # foreign key to it becomes a plain column) or when Django's SQL is run (b's foreign key
    # dropped twice): they must fail alike.
    "a referenced table renamed": BASE.replace("CREATE TABLE b (", "CREATE TABLE gone (").replace(
        "b_id bigint REFERENCES b (id)", "b_id bigint"
    ),
    "a referenced key's type changed": BASE.replace(
        "id integer PRIMARY KEY, code", "id bigint PRIMARY KEY, code"
    ).replace("a_id integer", "a_id bigint"),
}


def _outcome(config: sandbox.SandboxConfig, new: str) -> tuple[object, ...]:
    with sandbox.session(config) as box:
        try:
            result = preview_sql(box, base=design_model(data_model=BASE), new=design_model(data_model=new))
        except Exception as error:  # the same failure either way (see CHANGES)
            return ("failed", type(error).__name__, str(error))
    assert result is not None
    return (result.forward, result.rollback, result.rollback_proven, result.rollback_reason)


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_the_sql_and_the_verdict_are_those_with_every_base_table_created(
    config: sandbox.SandboxConfig, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    reached = _outcome(config, CHANGES[change])
    monkeypatch.setattr(sql, "models_reached", lambda migration, state: None)
    assert _outcome(config, CHANGES[change]) == reached


def test_a_base_table_postgresql_refuses_fails_the_preview_as_creating_every_table_does(
    config: sandbox.SandboxConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = BASE + "CREATE INDEX a_missing ON a (missing);\n"  # kept as an expression PostgreSQL rejects
    changed = refused.replace("note text", "note varchar(20)")  # a is reached

    def outcome() -> tuple[object, ...]:
        with sandbox.session(config) as box:
            try:
                preview_sql(box, base=design_model(data_model=refused), new=design_model(data_model=changed))
            except Exception as error:  # the failure is what is compared
                return (type(error).__name__, str(error))
        return ("succeeded",)

    reached = outcome()
    assert reached[0] == "UndefinedColumn"
    monkeypatch.setattr(sql, "models_reached", lambda migration, state: None)
    assert outcome() == reached  # the same statement, at the same line of the same query
