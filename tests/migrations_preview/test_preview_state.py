"""The preview state renders fewer models than Django's, and must give Django's SQL exactly."""

from django.db.migrations.state import ProjectState

from apps.migrations_preview.engine.sql import apply_migration, collect_sql, django_connection, preview_sql
from apps.migrations_preview.engine.states import PreviewState, lazily_pointed, migration_between, project_state
from apps.sandbox import engine as sandbox
from tests.migrations_preview.conftest import chained_change, design_model, djangos_state
from tests.synthetic import design


def test_the_same_sql_as_djangos_own_state_on_a_chained_schema_and_its_change(
    config: sandbox.SandboxConfig,
) -> None:
    base, _, initial, change = chained_change(24, 12)
    kinds = {type(op).__name__ for op in change.operations}
    assert kinds >= {"RenameField", "RemoveField", "AddField", "AlterField", "AddIndex", "AddConstraint"}
    with sandbox.session(config) as box, django_connection(box) as connection:
        assert collect_sql(connection, initial, PreviewState(), backwards=False) == collect_sql(
            connection, initial, ProjectState(), backwards=False
        )
        apply_migration(connection, initial, PreviewState())
        state = project_state(base).state
        forward = collect_sql(connection, change, state, backwards=False)
        assert forward == collect_sql(connection, change, djangos_state(state), backwards=False)
        apply_migration(connection, change, state)
        rollback = collect_sql(connection, change, state, backwards=True)
        assert rollback == collect_sql(connection, change, djangos_state(state), backwards=True)
    assert any("RENAME COLUMN" in line for line in forward)
    assert any("FOREIGN KEY" in line or "REFERENCES" in line for line in forward)


def test_clones_do_not_see_each_others_changes() -> None:
    state = project_state(design_model(data_model=design(3, 5, changed=False))).state
    copy = state.clone()
    key = ("design", "t001")
    copy.models[key].fields.pop("c00")
    assert "c00" in state.models[key].fields
    state.models[key].fields.pop("c01")
    assert "c01" in copy.models[key].fields
    assert "c00" not in copy.models[key].fields


LINKED = """
CREATE TABLE a (id integer PRIMARY KEY, code text UNIQUE, note text);
CREATE TABLE b (id bigint PRIMARY KEY, a_id integer REFERENCES a (id), a_code text REFERENCES a (code), x text);
"""


def _lazily_pointed(new: str) -> set[str]:
    base = design_model(data_model=LINKED)
    migration = migration_between(base, design_model(data_model=new))
    assert migration is not None
    return {name for _, name in lazily_pointed(migration, project_state(base).state)}


def test_a_model_is_pointed_at_lazily_when_no_operation_reads_the_foreign_keys_to_it() -> None:
    _, _, initial, change = chained_change(12, 8)
    assert len(lazily_pointed(initial, PreviewState())) == 12  # CreateModel and AddIndex only
    assert {name for _, name in lazily_pointed(change, project_state(chained_change(12, 8)[0]).state)} == {
        "t000",
        "t004",
        "t008",
    }
    assert _lazily_pointed(LINKED.replace("note text", "note varchar(9)")) == {"a"}
    assert _lazily_pointed(LINKED.replace("code text UNIQUE", "code varchar(9) UNIQUE")) == set()  # referenced
    assert _lazily_pointed(LINKED.replace("id integer", "id bigint")) == set()  # the primary key
    renamed = LINKED.replace("TABLE b", "TABLE c").replace("REFERENCES a (code), x text", "REFERENCES a (code)")
    assert _lazily_pointed(renamed) == set()  # a renamed (or dropped) model: none


def test_lazily_pointed_models_give_djangos_own_sql(config: sandbox.SandboxConfig) -> None:
    base = design_model(data_model=LINKED)
    new = design_model(
        data_model=LINKED.replace("note text", "note varchar(9) NOT NULL").replace("x text", "x text, y integer")
        + "CREATE INDEX a_note ON a (note);\nCREATE INDEX b_x ON b (x);\n"
    )
    initial = migration_between(None, base, name="base")
    change = migration_between(base, new)
    assert initial is not None
    assert change is not None
    with sandbox.session(config) as box, django_connection(box) as connection:
        apply_migration(connection, initial, ProjectState())
        state = djangos_state(project_state(base).state)
        djangos_forward = collect_sql(connection, change, state, backwards=False)
        apply_migration(connection, change, state)
        djangos_rollback = collect_sql(connection, change, state, backwards=True)
    assert lazily_pointed(change, project_state(base).state) == {("design", "a"), ("design", "b")}
    with sandbox.session(config) as box:
        result = preview_sql(box, base=base, new=new)
    assert result is not None
    assert list(result.forward) == djangos_forward
    assert list(result.rollback) == djangos_rollback
