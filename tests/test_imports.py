"""The imports that must never exist between the apps (read from the source, not assumed).

- An analyzer's engine never imports the job app (apps.analysis), the reports or another analyzer:
  they all speak the vocabulary beside the DesignModel (apps.designs.engine.findings, .matching)
  and reach the sandbox through apps.sandbox.
- The DesignModel and its parsers (apps.designs.engine) import neither jobs nor reports nor any
  analyzer.
- No app imports another app's views.
- The design pages do not import the analysis registry (apps.analysis.engine.pipeline).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ROOT / "apps"
ANALYZERS = ("migrations_preview", "security", "queryplans", "endpoints")
# The generated endpoints write models.py and the migration from the migration preview's model
# states and writer, so that the two never disagree: the one crossing between analyzers allowed.
SHARED_WITH = {
    "apps.endpoints.engine": ("apps.migrations_preview.engine.states", "apps.migrations_preview.engine.writer")
}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _sources() -> list[Path]:
    return sorted(p for p in APPS.rglob("*.py") if "migrations" not in p.relative_to(APPS).parts[1:2])


def _forbidden(module: str, imported: str) -> str | None:
    app = module.split(".")[1]
    target = imported.split(".")
    if len(target) < 2 or target[0] != "apps":
        return None
    target_app = target[1]
    if target_app != app and len(target) > 2 and target[2] == "views":
        return "an app imports another app's views"
    crossing = target_app != app and (target_app in {"analysis", "reports"} or target_app in ANALYZERS)
    shared = next((allowed for prefix, allowed in SHARED_WITH.items() if module.startswith(prefix)), ())
    if any(imported == allowed or imported.startswith(allowed + ".") for allowed in shared):
        crossing = False
    if ".engine" in module and app in ANALYZERS and crossing:
        return "an analyzer imports the job app, the reports or another analyzer"
    if module.startswith("apps.designs.engine") and target_app in {"analysis", "reports", *ANALYZERS}:
        return "the DesignModel imports jobs, reports or an analyzer"
    if module.startswith("apps.designs") and imported.startswith("apps.analysis.engine.pipeline"):
        return "a design page imports the analysis registry"
    return None


def test_no_forbidden_import_exists() -> None:
    broken = [
        f"{_module(path)} imports {imported}: {reason}"
        for path in _sources()
        for imported in sorted(_imports(path))
        if (reason := _forbidden(_module(path), imported))
    ]
    assert broken == []


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("apps.security.engine.review", "apps.analysis.engine.findings"),
        ("apps.migrations_preview.engine.analyzer", "apps.security.engine.catalog"),
        ("apps.security.engine.rules", "apps.reports.engine.report"),
        ("apps.designs.engine.loader", "apps.analysis.models"),
        ("apps.security.views", "apps.analysis.views"),
        ("apps.designs.views", "apps.analysis.engine.pipeline.ANALYZERS"),
    ],
)
def test_the_check_would_catch_each_kind_of_forbidden_import(module: str, imported: str) -> None:
    assert _forbidden(module, imported) is not None


def test_only_the_migration_previews_states_and_writer_are_shared_with_the_endpoints() -> None:
    assert (
        _forbidden("apps.endpoints.engine.models_source", "apps.migrations_preview.engine.states.project_state") is None
    )
    assert _forbidden("apps.endpoints.engine.models_source", "apps.migrations_preview.engine.writer") is None
    assert _forbidden("apps.endpoints.engine.generate", "apps.migrations_preview.engine.review") is not None
    assert _forbidden("apps.endpoints.engine.generate", "apps.security.engine.rules.bodies") is not None
    assert _forbidden("apps.security.engine.review", "apps.migrations_preview.engine.states") is not None


def test_the_vocabulary_and_the_sandbox_are_allowed_everywhere() -> None:
    for module in ("apps.security.engine.review", "apps.migrations_preview.engine.analyzer"):
        assert _forbidden(module, "apps.designs.engine.findings") is None
        assert _forbidden(module, "apps.designs.engine.matching") is None
        assert _forbidden(module, "apps.sandbox.engine") is None
