"""The code every generated app carries unchanged (support/): read as text, never imported."""

from __future__ import annotations

import functools
from pathlib import Path

SUPPORT_DIR = Path(__file__).resolve().parent / "support"


@functools.cache
def support_source() -> str:
    """support/base.py: what the generated views, permissions and pagination share."""
    return (SUPPORT_DIR / "base.py").read_text(encoding="utf-8")


@functools.cache
def inbox_sources() -> dict[str, str]:
    """The inbox app a design with receiving operations (webhooks) gets: path -> text."""
    return {
        "models.py": (SUPPORT_DIR / "inbox_models.py").read_text(encoding="utf-8"),
        "migrations/0001_initial.py": (SUPPORT_DIR / "inbox_migration.py").read_text(encoding="utf-8"),
    }
