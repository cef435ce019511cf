"""Loading YAML and JSON safely, and finding the line of a JSON pointer on demand.

JSON goes through `json` (fast); YAML through libyaml's safe loader (`yamldoc`, imported only
when YAML is pasted), with timestamps kept as strings and alias bombs refused before anything is
built. For JSON, the compiled scanner in `_jsonpos` gives every object, array and member its line
and column in one pass on first use; without it (not compiled, or a duplicate key) pointers are
resolved by walking the text. The same module walks loaded documents (`dict_objects`,
`ref_strings`) with Python fallbacks.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from apps.designs.engine.model import Problem, SourceRef
from apps.designs.engine.text import InputError, LineIndex, check_json_escapes

try:
    from apps.designs.engine import _jsonpos
    from apps.designs.engine._jsonpos import Positions, Sources
except ImportError:  # not compiled (a checkout without `pip install -e .`): the Python below serves
    _jsonpos = None  # type: ignore[assignment]
    Positions = None
    Sources = None

_WS = re.compile(r"[ \t\n\r]*")
# A JSON number with more digits than Python reads as an int (json.loads raises a bare ValueError).
_LONG_INTEGER = re.compile(r"(?<=[:\[,\s])-?[0-9]{%d,}")


def looks_like_json(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith("{") or stripped.startswith("[")


def unescape_pointer_part(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~") if "~" in part else part


def escape_pointer_part(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1") if "~" in part or "/" in part else part


def resolve_pointer(data: Any, ref: str) -> Any:
    """The value a local `#/a/b` reference (or a bare `/a/b` pointer) names, or None."""
    node = data
    path = ref[1:] if ref.startswith("#") else ref
    for raw in path.split("/")[1:] if path else []:
        part = unescape_pointer_part(unquote(raw) if "%" in raw else raw)
        if type(node) is dict:
            if part not in node:
                return None
            node = node[part]
        elif type(node) is list and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def dict_objects(data: Any, prefix: str, skip: frozenset[str]) -> list[tuple[str, dict[str, Any]]]:
    """Every dict of `data` with its JSON pointer (under `prefix`), depth first; members whose
    key is in `skip` or starts with "x-" are not entered. Compiled when it can be."""
    if _jsonpos is not None:
        return _jsonpos.objects(data, prefix, set(skip))
    found = []
    stack: list[tuple[str, Any]] = [(prefix, data)]
    containers = (dict, list)
    while stack:
        ptr, node = stack.pop()
        if type(node) is dict:
            found.append((ptr, node))
            for key, value in node.items():
                if type(value) in containers and key not in skip:
                    name = key if type(key) is str else str(key)
                    if not name.startswith("x-"):
                        stack.append((f"{ptr}/{escape_pointer_part(name)}", value))
        elif type(node) is list:
            stack.extend((f"{ptr}/{index}", value) for index, value in enumerate(node) if type(value) in containers)
    return found


def utf8_length(text: str) -> int:
    """len(text.encode("utf-8")) without building the bytes (a lone surrogate counts 3)."""
    if _jsonpos is not None:
        return _jsonpos.utf8_length(text)
    return len(text.encode("utf-8", "surrogatepass"))


def ref_strings(data: Any, max_depth: int) -> list[str]:
    """The string value of every `$ref` in the dicts of `data` at most `max_depth` containers
    deep (`data` itself is depth 0). Compiled when it can be."""
    if _jsonpos is not None:
        return _jsonpos.refs(data, max_depth)
    found = []
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if type(node) is dict:
            ref = node.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            values: Any = node.values()
        elif type(node) is list:
            values = node
        else:
            continue
        if depth < max_depth:
            stack.extend((v, depth + 1) for v in values if type(v) in (dict, list))
    return found


def pointer(*parts: str | int) -> str:
    return "/" + "/".join(escape_pointer_part(str(p)) for p in parts) if parts else ""


class Locator:
    """Finds the line and column of a JSON pointer inside the loaded text."""

    def __init__(self, text: str, *, document: str, line_offset: int = 0) -> None:
        self.text = text
        self.document = document
        self.line_offset = line_offset
        self._lines: LineIndex | None = None

    def _index(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    def offset(self, parts: list[str]) -> int | None:
        """Offset of the key (for a mapping member) or the value the pointer names; None if absent."""
        raise NotImplementedError

    def node(self, node: Any, ptr: str) -> SourceRef:
        """A SourceRef for `node`, a dict or list of the loaded data that `ptr` names. The same
        answer as `ref(ptr)`; locators that can find nodes by identity do it without the pointer."""
        return self.ref(ptr)

    def node_lookup(self) -> Callable[[Any, str], SourceRef]:
        """`node` as a function, for callers that locate tens of thousands of nodes."""
        return self.node

    def extension_keys(self) -> frozenset[str] | None:
        """Every key starting with `x-` in the document, when the locator met them all on its
        way anyway; None when it did not (the caller searches the text)."""
        return None

    def ref_values(self) -> frozenset[str] | None:
        """Every str value of a `$ref` in the document, when the locator met them all on its way
        anyway; None when it did not (the caller walks the data)."""
        return None

    def ref(self, ptr: str) -> SourceRef:
        """A SourceRef for the pointer, or for its nearest existing ancestor."""
        parts = [unescape_pointer_part(p) for p in ptr.split("/")[1:]] if ptr else []
        while True:
            found = self.offset(parts)
            if found is not None:
                line, column = self._index().position(found)
                return SourceRef(self.document, line + self.line_offset, column, ptr)
            if not parts:
                return SourceRef(self.document, 1 + self.line_offset, 1, ptr)
            parts = parts[:-1]


# The next bracket outside strings: runs of other characters and whole strings are consumed by
# the regex engine, so finding every container's end costs one pass at C speed per bracket.
_NEXT_BRACKET = re.compile(r'(?:[^"{}\[\]]+|"[^"\\]*(?:\\.[^"\\]*)*")*([{}\[\]])')
_SCALAR_END = re.compile(r"[^,\]}\s]*")


class JsonLocator(Locator):
    """Walks the JSON text itself. Sibling values are skipped through a bracket index built
    once (open offset -> close offset), so finding many pointers costs about one pass over the
    text rather than one decode of every sibling on the way."""

    def __init__(self, text: str, *, document: str, line_offset: int = 0, data: Any = None) -> None:
        super().__init__(text, document=document, line_offset=line_offset)
        # container offset -> {key: (offset of the key, offset of its value)} or [item offsets]
        self._children: dict[int, dict[str, tuple[int, int]] | list[int]] = {}
        self._ends: dict[int, int] | None = None
        self._data = data
        self._positions: Any = None  # built on the first node(); False when it cannot be

    def _scan(self) -> Any:
        """The compiled scanner's table, built on first use: one pass over the text (about a
        quarter of what json.loads takes) answers every later question without walking it.
        False when it cannot serve: not compiled, no data, or a duplicate key (json.loads kept
        one of the two, the text has both)."""
        if self._positions is None:
            try:
                self._positions = Positions(self.text, self._data) if Positions and self._data is not None else False
            except ValueError:
                self._positions = False
        return self._positions

    def _at(self, packed: int, ptr: str) -> SourceRef:
        return SourceRef(self.document, (packed >> 32) + self.line_offset, packed & 0xFFFFFFFF, ptr)

    def extension_keys(self) -> frozenset[str] | None:
        positions = self._scan()
        return positions.extensions if positions else None  # type: ignore[no-any-return]

    def ref_values(self) -> frozenset[str] | None:
        positions = self._scan()
        return positions.refs if positions else None  # type: ignore[no-any-return]

    def node_lookup(self) -> Callable[[Any, str], SourceRef]:
        positions = self._scan()
        if not positions:
            return self.node
        # `node` compiled (the table comes from the same module): each SourceRef built directly.
        return Sources(positions, self.document, self.line_offset, SourceRef, self.ref)  # type: ignore[no-any-return]

    def node(self, node: Any, ptr: str) -> SourceRef:
        positions = self._positions if self._positions is not None else self._scan()
        packed = positions.get(node) if positions else None
        return self.ref(ptr) if packed is None else self._at(packed, ptr)

    def ref(self, ptr: str) -> SourceRef:
        positions = self._scan()
        node = self._data
        packed = positions.get(node) if positions else None
        if packed is None:  # no table, or a scalar document
            return super().ref(ptr)
        containers = (dict, list)
        for raw in ptr.split("/")[1:] if ptr else ():
            part: str | int = unescape_pointer_part(raw)
            if type(node) is list:
                if not (isinstance(part, str) and part.isdigit() and int(part) < len(node)):
                    break
                part = int(part)
            elif type(node) is not dict or part not in node:
                break
            child = node[part]
            packed = positions.get(child) if type(child) in containers else positions.member(node, part)
            node = child
        return self._at(packed, ptr)

    def _value_end(self, pos: int) -> int:
        text = self.text
        first = text[pos]
        if first in "{[":
            if self._ends is None:
                self._ends = {}
                opened: list[int] = []
                for match in _NEXT_BRACKET.finditer(text):
                    at = match.end() - 1
                    if text[at] in "{[":
                        opened.append(at)
                    else:
                        self._ends[opened.pop()] = at
            return self._ends[pos] + 1
        if first == '"':
            return int(json.decoder.scanstring(text, pos + 1)[1])  # type: ignore[attr-defined]
        return _SCALAR_END.match(text, pos).end()  # type: ignore[union-attr]

    def _skip(self, pos: int) -> int:
        return _WS.match(self.text, pos).end()  # type: ignore[union-attr]

    def _container(self, pos: int) -> dict[str, tuple[int, int]] | list[int] | None:
        if pos in self._children:
            return self._children[pos]
        text = self.text
        opener = text[pos] if pos < len(text) else ""
        if opener not in "{[":
            return None
        result: dict[str, tuple[int, int]] | list[int] = {} if opener == "{" else []
        closer = "}" if opener == "{" else "]"
        cursor = self._skip(pos + 1)
        if text[cursor : cursor + 1] == closer:
            self._children[pos] = result
            return result
        while True:
            if isinstance(result, dict):
                key_at = cursor
                key, cursor = json.decoder.scanstring(text, cursor + 1)  # type: ignore[attr-defined]
                cursor = self._skip(self._skip(cursor) + 1)  # the colon
                result[key] = (key_at, cursor)
            else:
                result.append(cursor)
            cursor = self._skip(self._value_end(cursor))
            if text[cursor] == ",":
                cursor = self._skip(cursor + 1)
                continue
            break
        self._children[pos] = result
        return result

    def offset(self, parts: list[str]) -> int | None:
        pos = self._skip(0)
        for index, part in enumerate(parts):
            children = self._container(pos)
            if isinstance(children, dict):
                if part not in children:
                    return None
                key_at, pos = children[part]
                if index == len(parts) - 1:
                    return key_at
            elif isinstance(children, list):
                if not part.isdigit() or int(part) >= len(children):
                    return None
                pos = children[int(part)]
            else:
                return None
        return pos


def _long_integer_problem(text: str, reason: str, *, document: str, line_offset: int) -> InputError:
    limit = sys.get_int_max_str_digits()
    found = re.compile(_LONG_INTEGER.pattern % (limit + 1)).search(text)
    line, column = LineIndex(text).position(found.start()) if found else (1, 1)
    digits = len(found.group().lstrip("-")) if found else 0
    return InputError(
        Problem(
            code="input.number-too-long",
            message=f"the number at line {line + line_offset}, column {column} has {digits:,} digits, more than the {limit:,} a number may have"
            if found
            else f"the JSON cannot be read: {reason}",
            source=SourceRef(document, line + line_offset, column),
            fix="Shorten the number, or write it as a string if it is an identifier.",
            fatal=True,
        )
    )


def load_structured(text: str, *, document: str, line_offset: int = 0, max_yaml_nodes: int) -> tuple[Any, Locator]:
    """Load a JSON or YAML text into plain Python data and a Locator for its pointers.

    Raises InputError with the line of the syntax error, when YAML aliases expand past
    `max_yaml_nodes` nodes or refer to themselves, or when a JSON or YAML escape would load a
    character PostgreSQL cannot store (NUL, a lone surrogate; `parse_design` refuses them raw).
    """
    if looks_like_json(text):
        check_json_escapes(text, document=document, line_offset=line_offset)
        try:
            data = json.loads(text)
        except RecursionError:
            raise InputError(
                Problem(
                    code="input.too-deep",
                    message="the JSON is nested more deeply than the parser allows (about 1,000 levels)",
                    source=SourceRef(document, 1 + line_offset, 1),
                    fix="Flatten the nesting: move deep inline schemas into components/schemas and refer to them with $ref.",
                    fatal=True,
                )
            ) from None
        except json.JSONDecodeError as exc:
            raise InputError(
                Problem(
                    code="input.invalid-json",
                    message=f"invalid JSON at line {exc.lineno + line_offset}, column {exc.colno}: {exc.msg}",
                    source=SourceRef(document, exc.lineno + line_offset, exc.colno),
                    fix="Fix the JSON syntax at that spot (a missing comma, quote or bracket is the usual cause).",
                    fatal=True,
                )
            ) from None
        except ValueError as exc:  # an integer past Python's digit limit: the message has no place
            raise _long_integer_problem(text, str(exc), document=document, line_offset=line_offset) from None
        return data, JsonLocator(text, document=document, line_offset=line_offset, data=data)

    from apps.designs.engine.yamldoc import load_yaml  # libyaml only when YAML is pasted

    return load_yaml(text, document=document, line_offset=line_offset, max_yaml_nodes=max_yaml_nodes)
