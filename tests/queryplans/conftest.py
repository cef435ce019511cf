"""Shared by the query-plan tests that run the analysis on the real sandbox."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from apps.analysis.engine.pipeline import AnalysisOutcome, AnalyzerContext, analyze
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput
from apps.sandbox import engine as sandbox
from apps.sandbox.services import sandbox_config


@pytest.fixture(scope="module")
def config(django_db_blocker: Any) -> Iterator[sandbox.SandboxConfig]:
    """The sandbox, set up; the schema comes from Django's schema editor (a Django connection to
    the sandbox, not the app's database), so database access is unblocked."""
    base = sandbox_config()
    sandbox.setup(base)
    with django_db_blocker.unblock():
        yield base


def analyse(
    config: sandbox.SandboxConfig,
    text: str,
    *,
    cap: int,
    progress: Any = None,
    opened: list[str] | None = None,
    **options: Any,
) -> AnalysisOutcome:
    """The traceability, the generated endpoints and the query plans of a design, with the sandbox
    (`options`: more of the AnalyzerContext's settings; `opened` gets each session's name, which is
    its database's and its role's)."""

    @contextmanager
    def factory() -> Iterator[Any]:
        with sandbox.session(config) as box:
            if opened is not None:
                opened.append(box.schema)
            yield box

    return analyze(
        DesignInput(document=text),
        limits=ParseLimits(),
        only=("traceability", "endpoints", "queryplans"),
        sandbox=factory,
        context=AnalyzerContext(sandbox=factory, plans_max_rows=cap, **options),
        on_progress=progress,
    )
