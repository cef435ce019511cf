"""Python source written the way `ruff format` writes it: every call, list, tuple and dict with
arguments is exploded one item per line with a trailing comma (which the formatter keeps as
written), every string through `names.literal`. Values are Django's deconstructed fields,
constraints and indexes, and plain data."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from apps.endpoints.engine.names import literal

INDENT = "    "


def block(text: str, level: int) -> str:
    """`text` with every line after the first indented by `level` steps (for nesting)."""
    if "\n" not in text:  # most items are one line
        return text
    pad = INDENT * level
    if "\n\n" not in text and text[-1] != "\n":
        # No empty line (the usual case): every line after the first is indented, in one pass.
        return text.replace("\n", "\n" + pad)
    first, *rest = text.split("\n")
    return "\n".join([first, *(pad + line if line else line for line in rest)])


def call(func: str, args: Iterable[str] = (), kwargs: Iterable[tuple[str, str]] = ()) -> str:
    items = [*args, *[f"{k}={v}" for k, v in kwargs]]
    if not items:
        return f"{func}()"
    return f"{func}(\n{_items(items)})"


def sequence(items: Iterable[str], brackets: str = "[]") -> str:
    rendered = list(items)
    if not rendered:
        return brackets
    return f"{brackets[0]}\n{_items(rendered)}{brackets[1]}"


def mapping(items: Iterable[tuple[str, str]]) -> str:
    rendered = list(items)
    if not rendered:
        return "{}"
    if any("\n" in k for k, _ in rendered):
        inner = "".join(f"{INDENT}{block(k, 1)}: {block(v, 1)},\n" for k, v in rendered)
        return "{\n" + inner + "}"
    # A one-line key: `key: value` indented as one item is the key, then the value indented.
    return "{\n" + _items([f"{k}: {v}" for k, v in rendered]) + "}"


def _items(items: list[str]) -> str:
    """The items one per line, each indented one step (its own lines too) and followed by a
    comma: joined first and indented in one pass when no item has an empty line, which `block`
    would leave unindented."""
    joined = ",\n".join(items)
    if "\n\n" not in joined and "\n," not in joined and joined[-1:] != "\n":
        return INDENT + joined.replace("\n", "\n" + INDENT) + ",\n"
    return "".join(f"{INDENT}{block(item, 1)},\n" for item in items)


class Printer:
    """Turns deconstructed Django values into source, collecting the imports they need."""

    def __init__(self) -> None:
        self.imports: set[tuple[str, str]] = set()  # (module, name)

    def name_for(self, path: str) -> str:
        module, _, name = path.rpartition(".")
        if module == "django.db.models" or (module.startswith("django.db.models.") and self._in_models(name)):
            return f"models.{name}"
        self.imports.add((module, name))
        return name

    @staticmethod
    def _in_models(name: str) -> bool:
        from django.db import models

        return hasattr(models, name)

    def value(self, value: Any) -> str:
        from django.db import models

        if isinstance(value, str):
            return literal(value)
        if value is None or isinstance(value, bool | int):
            return repr(value)
        if isinstance(value, float):
            return repr(value) if math.isfinite(value) else f"float({literal(repr(value))})"
        if isinstance(value, list):
            return sequence(self.value(v) for v in value)
        if isinstance(value, tuple):
            if len(value) == 1:
                # A one-item tuple's comma is syntax, not a magic trailing comma: the formatter
                # joins it onto one line when the item is one line.
                item = self.value(value[0])
                return f"({item},)" if "\n" not in item else "(\n" + INDENT + block(item, 1) + ",\n)"
            return sequence((self.value(v) for v in value), "()")
        if isinstance(value, dict):
            return mapping((self.value(k), self.value(v)) for k, v in value.items())
        if isinstance(value, models.Q):
            path, args, kwargs = value.deconstruct()
            return call(
                self.name_for(path),
                (self.value(a) for a in args),
                ((k, self.value(v)) for k, v in sorted(kwargs.items())),
            )
        if callable(value) and hasattr(value, "__name__") and not hasattr(value, "deconstruct"):
            if getattr(models, value.__name__, None) is value:
                return f"models.{value.__name__}"
            return self.name_for(f"{value.__module__}.{value.__qualname__}")
        if hasattr(value, "deconstruct"):
            deconstructed = value.deconstruct()
            path, args, kwargs = deconstructed[-3:]
            return call(
                self.name_for(path),
                (self.value(a) for a in args),
                ((k, self.value(v)) for k, v in kwargs.items()),
            )
        raise TypeError(f"cannot write a {type(value).__name__} as source")

    def import_lines(self) -> list[str]:
        by_module: dict[str, set[str]] = {}
        for module, name in self.imports:
            by_module.setdefault(module, set()).add(name)
        return [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(by_module.items())]


def tuple_of(items: Iterable[str]) -> str:
    """A tuple: one single-line item inline (its comma is syntax, which the formatter joins onto
    one line), anything else exploded with a trailing comma."""
    rendered = list(items)
    if not rendered:
        return "()"
    if len(rendered) == 1 and "\n" not in rendered[0]:
        return f"({rendered[0]},)"
    return sequence(rendered, "()")
