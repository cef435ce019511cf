"""Loading YAML and JSON safely, and finding the line of a JSON pointer on demand.

JSON goes through `json` (fast); YAML through libyaml's safe loader (`yamldoc`, imported only
when YAML is pasted), with timestamps kept as strings and alias bombs refused before anything is
built. For JSON, the compiled scanner in `_jsonpos` gives every object, array and member its line
and column in one pass on first use; without it (not compiled, or a duplicate key) the text is
walked instead, with the same answers.

Where a part of the document is located: a dict or list of the loaded data is located where
that object is written (its key when it is an object member, itself when it is an array item),
whatever pointer the caller names it by; anything else by its pointer, at the nearest part of
the pointer that is written. So an element reached through a `$ref` is located at the
referenced definition: the operations of `"/b": {"$ref": "#/components/pathItems/B"}` are
where `B`'s operations are written, the place a reviewer edits. Where a caller wants the `$ref`
instead (a body read through a response's `$ref` is located at that response, as the operation
writes it), it passes the `$ref` object as the node.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import orjson

from apps.designs.engine.bulk import settle
from apps.designs.engine.model import Problem, SourceRef
from apps.designs.engine.text import InputError, LineIndex, check_json_escapes

try:
    from apps.designs.engine._jsonpos import Positions
except ImportError:  # not compiled (a checkout without `pip install -e .`): the text walk serves
    Positions = None

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
    # Resolved by the thousand (the endpoint generator's refs): the part is unescaped inline, and
    # a missing key reads as None, which no later part can enter.
    node = data
    path = ref[1:] if ref.startswith("#") else ref
    for raw in path.split("/")[1:] if path else []:
        part = unquote(raw) if "%" in raw else raw
        if "~" in part:
            part = part.replace("~1", "/").replace("~0", "~")
        if type(node) is dict:
            node = node.get(part)
        elif type(node) is list and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def dict_objects(data: Any, prefix: str, skip: frozenset[str]) -> list[tuple[str, dict[str, Any]]]:
    """Every dict of `data` with its JSON pointer (under `prefix`), depth first; members whose
    key is in `skip` or starts with "x-" are not entered."""
    # Run on every object of a large document (Microsoft Graph's: 211,875), so the loop does
    # without calls it can spare: a key is escaped inline, and only when it needs to be.
    found: list[tuple[str, dict[str, Any]]] = []
    add = found.append
    stack: list[tuple[str, Any]] = [(prefix, data)]
    push = stack.append
    pop = stack.pop
    while stack:
        ptr, node = pop()
        kind = type(node)
        if kind is dict:
            add((ptr, node))
            for key, value in node.items():
                inner = type(value)
                if (inner is dict or inner is list) and key not in skip:
                    name = key if type(key) is str else str(key)
                    if name.startswith("x-"):
                        continue
                    if "~" in name or "/" in name:
                        name = name.replace("~", "~0").replace("/", "~1")
                    push((f"{ptr}/{name}", value))
        elif kind is list:
            stack.extend([(f"{ptr}/{index}", value) for index, value in enumerate(node) if type(value) in (dict, list)])
    return found


def utf8_length(text: str) -> int:
    """len(text.encode("utf-8")), a lone surrogate counting 3."""
    return len(text.encode("utf-8", "surrogatepass"))


def ref_strings(data: Any, max_depth: int) -> list[str]:
    """The string value of every `$ref` in the dicts of `data` at most `max_depth` containers
    deep (`data` itself is depth 0)."""
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
    text rather than one decode of every sibling on the way. With the loaded data, containers are
    located by identity (see the module docstring): through the compiled scanner's table when it
    serves, else through a table of the same answers built by walking the text."""

    def __init__(self, text: str, *, document: str, line_offset: int = 0, data: Any = None) -> None:
        super().__init__(text, document=document, line_offset=line_offset)
        # container offset -> {key: (offset of the key, offset of its value)} or [item offsets]
        self._children: dict[int, dict[str, tuple[int, int]] | list[int]] = {}
        self._ends: dict[int, int] | None = None
        self._data = data
        self._positions: Any = None  # built on the first node(); False when it cannot be
        # Without the scanner: id(container) -> (offset where it is written, the container, held
        # so that its id cannot be reused), and what the scanner collects on its way.
        self._identity: dict[int, tuple[int, Any]] | None = None
        self._collected: tuple[frozenset[str], frozenset[str]] | None = None

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

    def index(self) -> None:
        """Build the scanner's table now rather than on the first node(): a parse locates nodes
        all along, and a table built before the parse settles (see `bulk`) is not traversed by
        the collector again."""
        self._scan()

    def _at(self, packed: int, ptr: str) -> SourceRef:
        return SourceRef.make(self.document, (packed >> 32) + self.line_offset, packed & 0xFFFFFFFF, ptr)

    def _collect(self) -> tuple[frozenset[str], frozenset[str]]:
        """Every key starting with "x-" and every str `$ref` value of the data: what the scanner
        meets on its way, found by walking the data when it does not serve."""
        if self._collected is None:
            extensions: set[str] = set()
            refs: set[str] = set()
            stack = [self._data]
            while stack:
                node = stack.pop()
                if type(node) is dict:
                    for key, value in node.items():
                        if type(key) is str and key.startswith("x-"):
                            extensions.add(key)
                        if key == "$ref" and type(value) is str:
                            refs.add(value)
                        if type(value) in (dict, list):
                            stack.append(value)
                elif type(node) is list:
                    stack.extend(value for value in node if type(value) in (dict, list))
            self._collected = (frozenset(extensions), frozenset(refs))
        return self._collected

    def extension_keys(self) -> frozenset[str] | None:
        positions = self._scan()
        if positions:
            return positions.extensions  # type: ignore[no-any-return]
        return self._collect()[0] if self._data is not None else None

    def ref_values(self) -> frozenset[str] | None:
        positions = self._scan()
        if positions:
            return positions.refs  # type: ignore[no-any-return]
        return self._collect()[1] if self._data is not None else None

    def _identities(self) -> dict[int, tuple[int, Any]]:
        """Where each dict and list of the data is written, by walking the text beside it: the
        scanner's answers, for when it does not serve. With a duplicate key, the member json.loads
        kept (the last) is the one located."""
        if self._identity is None:
            containers = (dict, list)
            found: dict[int, tuple[int, Any]] = {}
            if type(self._data) in containers:
                root = self._skip(0)
                found[id(self._data)] = (root, self._data)
                stack: list[tuple[Any, int]] = [(self._data, root)]
                while stack:
                    node, pos = stack.pop()
                    children = self._container(pos)
                    if type(node) is dict and isinstance(children, dict):
                        for key, value in node.items():
                            if type(value) in containers and key in children:
                                key_at, value_at = children[key]
                                found.setdefault(id(value), (key_at, value))
                                stack.append((value, value_at))
                    elif type(node) is list and isinstance(children, list):
                        for item, item_at in zip(node, children, strict=False):
                            if type(item) in containers:
                                found.setdefault(id(item), (item_at, item))
                                stack.append((item, item_at))
            self._identity = found
        return self._identity

    def node_lookup(self) -> Callable[[Any, str], SourceRef]:
        """`node` as a function: with the scanner's table, one lookup and the SourceRef, the
        table, the document's name and its line offset bound once (the parse and the review
        locate a large API's parts by the hundred thousand)."""
        positions = self._scan()
        if not positions:
            return self.node
        get = positions.get
        document = self.document
        line_offset = self.line_offset
        by_pointer = self.ref
        make = SourceRef.make

        def node(node: Any, ptr: str) -> SourceRef:
            packed = get(node)
            if packed is None:
                return by_pointer(ptr)
            return make(document, (packed >> 32) + line_offset, packed & 0xFFFFFFFF, ptr)

        return node

    def node(self, node: Any, ptr: str) -> SourceRef:
        positions = self._positions if self._positions is not None else self._scan()
        if positions:
            packed = positions.get(node)
            return self.ref(ptr) if packed is None else self._at(packed, ptr)
        if self._data is None:
            return self.ref(ptr)
        entry = self._identities().get(id(node))
        if entry is None or entry[1] is not node:
            return self.ref(ptr)
        line, column = self._index().position(entry[0])
        return SourceRef(self.document, line + self.line_offset, column, ptr)

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
            found = positions.get(child) if type(child) in containers else positions.member(node, part)
            if found is None:  # the data changed since the scan: the text is what was written
                return super().ref(ptr)
            packed, node = found, child
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


# Each byte of a UTF-8 text as `_load_json` looks at it: a digit as "0", any other byte as a space.
_DIGITS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_NINETEEN_DIGITS = b"0" * 19
_DIGIT_SLICE = 1 << 16  # bytes of a text translated at a time by `has_nineteen_digits`


def has_nineteen_digits(utf8: bytes) -> bool:
    """Whether 19 digits stand in a row anywhere in `utf8`. Read in slices of 64 KiB, each reaching
    18 bytes into the next (a run lies whole in the slice it starts in), rather than translated
    whole: the same answer without a second buffer the size of the text, which a fresh process
    pays for in page faults (Microsoft Graph's 19 MiB: 14 ms rather than 22, and 4,600 faults fewer)."""
    return any(
        _NINETEEN_DIGITS in utf8[start : start + _DIGIT_SLICE + 18].translate(_DIGITS)
        for start in range(0, len(utf8), _DIGIT_SLICE)
    )


def _load_json(text: str, utf8: bytes | None) -> Any:
    """What `json.loads(text)` returns, read by orjson when both read the same (orjson takes about
    two thirds of the time on a large specification), otherwise by json itself. orjson reads an
    integer past 64 bits as a float where json keeps every digit: a text with 19 digits in a row
    anywhere (in a string, a fraction) is left to json. What orjson refuses (NaN, a number past a
    float's range, a lone surrogate's escape, nesting past 1,024 levels, bad syntax) is read, or
    refused with the error the caller reports, by json. `utf8`: the text in UTF-8, None when it
    cannot be encoded (a lone surrogate written as such: json says what it makes of it)."""
    if utf8 is not None and not has_nineteen_digits(utf8):
        try:
            return orjson.loads(utf8)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def load_structured(
    text: str, *, document: str, line_offset: int = 0, max_yaml_nodes: int, utf8: bytes | None = None
) -> tuple[Any, Locator]:
    """Load a JSON or YAML text into plain Python data and a Locator for its pointers. `utf8` is
    the text encoded as UTF-8, when the caller has it (a JSON text is read from its bytes).

    Raises InputError with the line of the syntax error, when YAML aliases expand past
    `max_yaml_nodes` nodes or refer to themselves, or when a JSON or YAML escape would load a
    character PostgreSQL cannot store (NUL, a lone surrogate; `parse_design` refuses them raw).
    """
    if looks_like_json(text):
        if utf8 is None:
            with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate: json alone reads it
                utf8 = text.encode()
        check_json_escapes(text, document=document, line_offset=line_offset, utf8=utf8)
        try:
            data = _load_json(text, utf8)
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
        locator = JsonLocator(text, document=document, line_offset=line_offset, data=data)
        locator.index()
        settle()  # the document and its positions outlive the parse: the collector need not walk them again
        return data, locator

    from apps.designs.engine.yamldoc import load_yaml  # libyaml only when YAML is pasted

    loaded = load_yaml(text, document=document, line_offset=line_offset, max_yaml_nodes=max_yaml_nodes)
    settle()
    return loaded
