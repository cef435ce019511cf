"""Shared by the migration preview tests: designs from text, and the sandbox."""

from collections.abc import Iterator
from typing import Any

import pytest

from apps.analysis.engine.findings import Finding
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.model import DesignModel
from apps.migrations_preview.engine.analyzer import analyze_migrations
from apps.sandbox import engine as sandbox
from apps.sandbox.services import sandbox_config


def design_model(document: str = "", *, data_model: str = "") -> DesignModel:
    return parse_design(DesignInput(document=document, data_model=data_model), limits=ParseLimits()).model


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
