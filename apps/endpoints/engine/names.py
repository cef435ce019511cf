"""Names and literals from a paste, made safe to place in generated Python.

Every identifier the generated code declares goes through `Names.claim`: ASCII letters, digits
and `_` only (a unicode look-alike of a keyword or of `__import__` cannot survive), no leading
or trailing `_` (so no dunder), never a keyword, never a name the module or class already holds,
and, at module level, never a builtin. What was renamed is listed (`Names.renamed`) for the
report. Every string from the paste is written by `literal`, which is `repr` (ASCII only, the
quote style `ruff format` prefers), so nothing from the paste is ever code.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re
import unicodedata
from dataclasses import dataclass, field

# Longer identifiers are cut and given a digest of the whole: two of them on a line stay within
# the formatter's line length, so the generated code is laid out as `ruff format` would.
MAX_IDENTIFIER = 48
# A word of a name: a run of ASCII letters and digits, cut where a small letter or a digit meets
# a capital (`HTTPServer` is one word, `customerId` two).
_WORD = re.compile(r"[A-Z]+[a-z0-9]*|[a-z0-9]+")
BUILTINS = frozenset(dir(builtins))
# Attributes a Django model already has: a field of that name would replace the framework's own.
MODEL_ATTRIBUTES = frozenset(
    {
        "objects",
        "pk",
        "Meta",
        "save",
        "delete",
        "clean",
        "full_clean",
        "check",
        "refresh_from_db",
        "serializable_value",
        "DoesNotExist",
        "MultipleObjectsReturned",
    }
)
# The same for a DRF serializer and a django-filter FilterSet.
FRAMEWORK_ATTRIBUTES = MODEL_ATTRIBUTES | frozenset(
    {
        "data",
        "errors",
        "fields",
        "instance",
        "initial_data",
        "validated_data",
        "context",
        "is_valid",
        "create",
        "update",
        "to_representation",
        "to_internal_value",
        "validate",
        "partial",
        "many",
        "root",
        "parent",
        "source",
        "request",
        "queryset",
        "form",
        "qs",
        "filters",
        "base_filters",
        "declared_filters",
    }
)


@dataclass(frozen=True, slots=True)
class Renamed:
    scope: str  # where the name lives: a module, or a class of one
    original: str  # as the paste wrote it
    name: str  # what the generated code calls it
    why: str


def _words_as_written(raw: str) -> list[str]:
    # ASCII text is its own NFKD form: only other text is folded.
    folded = raw if raw.isascii() else unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    return _WORD.findall(folded)


def words(raw: str) -> list[str]:
    """The ASCII words of a name: `customerId` -> [customer, id], `Idempotency-Key` -> [idempotency, key]."""
    return [w.lower() for w in _words_as_written(raw)]


# Every name the generated code declares goes through one of these two: each lowers or
# capitalizes the words as found, in one pass (the same as lowering each word first, the words
# being ASCII letters and digits).
def snake(raw: str) -> str:
    return "_".join(_words_as_written(raw)).lower()


def camel(raw: str) -> str:
    return "".join([w.capitalize() for w in _words_as_written(raw)])


@dataclass(slots=True)
class Names:
    """The identifiers one scope (a module, or a class body) has given out."""

    scope: str
    module_level: bool = True
    reserved: frozenset[str] = FRAMEWORK_ATTRIBUTES
    taken: set[str] = field(default_factory=set)
    renamed: list[Renamed] = field(default_factory=list)

    def _safe_as_written(self, raw: str) -> bool:
        return _is_safe(raw, self.taken, self.reserved, self.module_level)

    def reserve(self, *names: str) -> None:
        self.taken.update(names)

    def claim(
        self, raw: str, *, style: str = "snake", fallback: str = "item", record: bool = True, keep: bool = False
    ) -> str:
        """A safe identifier for `raw` in this scope, unique within it; listed in `renamed` when it
        differs from `raw` and `record` (False for names the generator composes itself). With
        `keep`, a name that is already a safe identifier (`customerId`) is kept as written."""
        if keep and _is_safe(raw, self.taken, self.reserved, self.module_level):
            self.taken.add(raw)
            return raw
        base = snake(raw) if style == "snake" else camel(raw)
        why = ""
        if not base:
            base, why = fallback, "has no ASCII letters or digits"
        if base[0].isdigit():
            base, why = f"{fallback}_{base}", why or "starts with a digit"
        if len(base) > MAX_IDENTIFIER:
            digest = hashlib.sha256(base.encode()).hexdigest()[:8]
            base = f"{base[: MAX_IDENTIFIER - 9]}_{digest}" if style == "snake" else base[: MAX_IDENTIFIER - 8] + digest
            why = why or f"longer than {MAX_IDENTIFIER} characters"
        if keyword.iskeyword(base):  # soft keywords (match, type) are legal names
            base, why = f"{base}_value" if style == "snake" else f"{base}Value", "is a Python keyword"
        elif self.module_level and base in BUILTINS:
            base, why = f"{base}_value" if style == "snake" else f"{base}Value", "is a Python builtin"
        elif base in self.reserved:
            base, why = f"{base}_value" if style == "snake" else f"{base}Value", "is a Django or DRF attribute"
        name, number = base, 1
        while name in self.taken:
            number += 1
            name = f"{base}_{number}" if style == "snake" else f"{base}{number}"
        if name != base:
            why = why or "another name became the same identifier"
        self.taken.add(name)
        if name != raw and record:
            self.renamed.append(Renamed(self.scope, raw, name, why or "written as a Python identifier"))
        return name


def _is_safe(name: str, taken: set[str], reserved: frozenset[str], module_level: bool) -> bool:
    return (
        name.isascii()
        and name.isidentifier()
        and not name.startswith("_")
        and not name.endswith("_")
        and "__" not in name
        and len(name) <= MAX_IDENTIFIER
        and not keyword.iskeyword(name)
        and name not in taken
        and name not in reserved
        and not (module_level and name in BUILTINS)
    )


class Literals(dict[str, str]):
    """`literal` of each text once: `written[text]` is literal(text). A memo for one generation
    (names, methods and enum values recur in every operation), dropped with it: nothing of one
    design is kept for another."""

    def __missing__(self, value: str) -> str:
        written = self[value] = literal(value)
        return written


def literal(value: str) -> str:
    """`value` as Python source: `repr` with every non-ASCII character escaped (`ascii`), so no
    look-alike letter and no bidirectional control (Trojan Source) reaches the code as itself; in
    double quotes unless that needs more escapes (what `ruff format` writes)."""
    written = ascii(value)
    if written.startswith("'") and '"' not in value:
        # repr chose single quotes although the text has no double quote: it has no single
        # quote either (repr prefers double quotes only then), so the body needs no change.
        return '"' + written[1:-1] + '"'
    if written.startswith("'") and value.count('"') <= value.count("'"):
        body = written[1:-1].replace("\\'", "'").replace('"', '\\"')
        return '"' + body + '"'
    return written
