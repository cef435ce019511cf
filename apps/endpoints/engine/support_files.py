"""The code every generated app carries unchanged (support/base.py): read as text, never imported."""

from __future__ import annotations

import functools
from pathlib import Path

SUPPORT_DIR = Path(__file__).resolve().parent / "support"


@functools.cache
def support_source() -> str:
    """support/base.py without its docstring line (the generated file has its own header)."""
    return (SUPPORT_DIR / "base.py").read_text(encoding="utf-8")
