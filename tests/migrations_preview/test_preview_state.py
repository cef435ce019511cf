"""The preview state renders fewer models than Django's, and must give Django's SQL exactly."""

from django.db.migrations.state import ProjectState

from apps.migrations_preview.engine.sql import apply_migration, collect_sql, django_connection
from apps.migrations_preview.engine.states import PreviewState, project_state
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
