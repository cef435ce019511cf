"""Shared by the migration preview tests: designs from text, and the sandbox."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState

from apps.designs.engine.findings import Finding
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.model import DesignModel
from apps.migrations_preview.engine.analyzer import analyze_migrations
from apps.migrations_preview.engine.states import migration_between
from apps.sandbox import engine as sandbox
from apps.sandbox.services import sandbox_config
from tests.synthetic import design


def design_model(document: str = "", *, data_model: str = "") -> DesignModel:
    return parse_design(DesignInput(document=document, data_model=data_model), limits=ParseLimits()).model


def chained_change(tables: int, columns: int) -> tuple[DesignModel, DesignModel, Migration, Migration]:
    """A synthetic design whose tables are chained by foreign keys, its change (tests.synthetic),
    the initial migration of the first and the migration between them."""
    base = design_model(data_model=design(tables, columns, changed=False))
    new = design_model(data_model=design(tables, columns, changed=True))
    initial = migration_between(None, base, name="base")
    change = migration_between(base, new)
    assert initial is not None
    assert change is not None
    return base, new, initial, change


def djangos_state(state: ProjectState) -> ProjectState:
    """The same models in Django's own ProjectState, which re-renders every related model."""
    plain = ProjectState(real_apps=state.real_apps)
    plain.models = {key: model.clone() for key, model in state.models.items()}
    return plain


def preview(
    new: DesignModel, base: DesignModel | None, config: sandbox.SandboxConfig, **options: Any
) -> tuple[list[Finding], dict[str, Any]]:
    """The migrations analyzer with the sandbox and small calibration tables."""
    options.setdefault("calibration_rows", (500, 2000))
    return analyze_migrations(
        new, base, lambda: sandbox.session(config), lock_timeout_ms=2000, statement_timeout_ms=60000, **options
    )


@pytest.fixture
def config(django_db_blocker: Any) -> Iterator[sandbox.SandboxConfig]:
    """The sandbox, set up; the schema editor's connection is a Django one (to the sandbox, not
    the app's database), so database access is unblocked."""
    base = sandbox_config()
    sandbox.setup(base)
    with django_db_blocker.unblock():
        yield base
