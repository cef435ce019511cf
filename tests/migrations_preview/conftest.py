"""Shared by the migration preview tests: designs from text, and the sandbox."""

from collections.abc import Iterator
from typing import Any

import pytest

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.model import DesignModel
from apps.queryplans import sandbox
from apps.queryplans.services import sandbox_config


def design_model(document: str = "", *, data_model: str = "") -> DesignModel:
    return parse_design(DesignInput(document=document, data_model=data_model), limits=ParseLimits()).model


@pytest.fixture
def config(django_db_blocker: Any) -> Iterator[sandbox.SandboxConfig]:
    """The sandbox, set up; the schema editor's connection is a Django one (to the sandbox, not
    the app's database), so database access is unblocked."""
    base = sandbox_config()
    sandbox.setup(base)
    with django_db_blocker.unblock():
        yield base
