"""Shared by the endpoint tests: generating from a text, and running a generated project in a
separate process with an empty environment (the generated code is never imported here)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, input_from_file, parse_design
from apps.designs.engine.model import DesignModel
from apps.endpoints.engine.generate import Generation, generate_app
from apps.endpoints.engine.project import project_files
from apps.endpoints.services import generation_write
from tests.conftest import CORPUS, ROOT

SHOP = CORPUS / "shop" / "v1-design.md"
RUFF = Path(sys.executable).parent / "ruff"


def design(text: str, name: str = "design.md") -> DesignModel:
    parsed = parse_design(DesignInput(document=text, document_name=name), limits=ParseLimits())
    assert parsed.ok, [p.message for p in parsed.fatal]
    return parsed.model


def design_file(path: Path) -> DesignModel:
    parsed = parse_design(input_from_file(path.name, path.read_text(encoding="utf-8")), limits=ParseLimits())
    assert parsed.ok, [p.message for p in parsed.fatal]
    return parsed.model


def shop() -> Generation:
    return generate_app(design_file(SHOP))


def write_project(generation: Generation, target: Path) -> Path:
    generation_write(files=project_files(generation), target=target)
    return target


def run_in_project(project: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """`python <args>` in the generated project, with nothing of the workbench's environment."""
    return subprocess.run(  # noqa: S603 - our interpreter, the generated project's own manage.py
        [sys.executable, *args],
        cwd=project,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def class_assignments(source: str) -> dict[str, dict[str, ast.expr]]:
    """Class name -> its top-level assignments (name -> value), read with ast (never imported)."""
    found: dict[str, dict[str, ast.expr]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            found[node.name] = {
                target.id: item.value
                for item in node.body
                if isinstance(item, ast.Assign)
                for target in item.targets
                if isinstance(target, ast.Name)
            }
            for item in node.body:
                if isinstance(item, ast.ClassDef) and item.name == "Meta":
                    found[f"{node.name}.Meta"] = {
                        t.id: i.value
                        for i in item.body
                        if isinstance(i, ast.Assign)
                        for t in i.targets
                        if isinstance(t, ast.Name)
                    }
    return found


__all__ = ["ROOT", "RUFF", "SHOP", "class_assignments", "design", "design_file", "run_in_project", "shop"]
