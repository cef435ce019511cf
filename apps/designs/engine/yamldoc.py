"""YAML documents: libyaml's safe loader with timestamps kept as strings, keys read as the
strings they are written as, alias bombs, recursive aliases and NUL characters refused before
anything is built, and a Locator over the composed node tree. Imported only when a pasted
document is YAML."""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from apps.designs.engine.model import Problem, SourceRef
from apps.designs.engine.structured import JsonLocator, Locator
from apps.designs.engine.text import InputError, describe_unstorable, unstorable_problem

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loading without YAML 1.1 timestamps: `2024-01-01` stays the string it is in JSON."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        """Keys as written: `200:` is "200" (JSON has string keys only, and so do OpenAPI's maps);
        a sequence or mapping used as a key is refused on its line."""
        self.flatten_mapping(node)  # `<<` merge keys, as the safe loader reads them
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConstructorError(
                    "while reading a mapping", node.start_mark, "a key must be a string", key_node.start_mark
                )
            mapping[str(key_node.value)] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        # Python refuses to read integers past sys.get_int_max_str_digits() digits (a ValueError
        # that would otherwise escape without a line).
        digits = sum(c.isdigit() for c in node.value)
        if digits > sys.get_int_max_str_digits():
            raise ConstructorError(
                None,
                None,
                f"the number has {digits:,} digits, more than the {sys.get_int_max_str_digits():,} allowed",
                node.start_mark,
            )
        return int(super().construct_yaml_int(node))


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_ANCHOR = re.compile(r"&([^\s,\[\]{}]+)")


class YamlLocator(Locator):
    """Walks the composed YAML node tree, whose nodes keep their marks."""

    def __init__(self, text: str, root: yaml.Node, *, document: str, line_offset: int = 0) -> None:
        super().__init__(text, document=document, line_offset=line_offset)
        self.root = root
        # A mapping's keys are indexed the first time it is walked through: `paths` may hold
        # thousands of entries and every endpoint looks itself up there.
        self._keys: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = {}

    def _pairs(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        pairs = self._keys.get(id(node))
        if pairs is None:
            pairs = {}
            for key, value in node.value:
                pairs.setdefault(str(key.value), (key, value))
            self._keys[id(node)] = pairs
        return pairs

    def offset(self, parts: list[str]) -> int | None:
        node = self.root
        for index, part in enumerate(parts):
            if isinstance(node, yaml.MappingNode):
                pair = self._pairs(node).get(part)
                if pair is None:
                    return None
                if index == len(parts) - 1:
                    return int(pair[0].start_mark.index)
                node = pair[1]
            elif isinstance(node, yaml.SequenceNode):
                if not part.isdigit() or int(part) >= len(node.value):
                    return None
                node = node.value[int(part)]
            else:
                return None
        return int(node.start_mark.index)


def _expanded_size(root: yaml.Node, text: str, limit: int, *, document: str, line_offset: int) -> int:
    """Nodes the document would have with every alias expanded; stops counting past the limit.

    Raises InputError for a node that contains itself through an alias (`x: &a [*a]`: no end
    when expanded) and for a scalar holding NUL (a `"\\0"` escape), which cannot be stored."""
    sizes: dict[int, int] = {}
    # Nodes whose children are being sized: meeting one again means it contains itself.
    open_nodes: set[int] = set()
    # Post-order over the node graph; each distinct node is sized once, so aliases cost nothing.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            if "\x00" in node.value:
                raise _scalar_problem(node, document=document, line_offset=line_offset)
            sizes[id(node)] = 1
            continue
        children: list[yaml.Node] = (
            [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        )
        if ready:
            sizes[id(node)] = min(limit + 1, 1 + sum(sizes[id(c)] for c in children))
            open_nodes.discard(id(node))
            continue
        if id(node) in open_nodes:
            raise _recursion_problem(node, text, document=document, line_offset=line_offset)
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _recursion_problem(node: yaml.Node, text: str, *, document: str, line_offset: int) -> InputError:
    mark = node.start_mark
    line = mark.line + 1 + line_offset
    anchor = _ANCHOR.match(text, mark.index)
    name = f"&{anchor.group(1)}" if anchor else "an anchor"
    return InputError(
        Problem(
            code="input.yaml-recursive-alias",
            message=f"the YAML anchor {name} at line {line} is used inside itself (a recursive alias), "
            "which would never end when expanded; refused without expanding it",
            source=SourceRef(document, line, mark.column + 1),
            fix=f"Remove the alias to {name} from inside the part it names, or write that part out.",
            fatal=True,
        )
    )


def _scalar_problem(node: yaml.ScalarNode, *, document: str, line_offset: int) -> InputError:
    what = f"{describe_unstorable(chr(0))} (a \\0 or \\x00 escape)"
    mark = node.start_mark
    return InputError(
        unstorable_problem(document=document, line=mark.line + 1 + line_offset, column=mark.column + 1, what=what)
    )


def load_yaml(text: str, *, document: str, line_offset: int = 0, max_yaml_nodes: int) -> tuple[Any, Locator]:
    """The YAML half of `structured.load_structured`."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, JsonLocator("", document=document, line_offset=line_offset)
        size = _expanded_size(root, text, max_yaml_nodes, document=document, line_offset=line_offset)
        if size > max_yaml_nodes:
            raise InputError(
                Problem(
                    code="input.yaml-too-large",
                    message=(
                        f"the YAML would expand to more than {max_yaml_nodes:,} nodes through its aliases "
                        "(an alias bomb); refused without expanding it"
                    ),
                    source=SourceRef(document, root.start_mark.line + 1 + line_offset, 1),
                    fix="Remove the anchors (&name) and aliases (*name) that repeat large parts, or paste JSON.",
                    fatal=True,
                )
            )
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        column = mark.column + 1 if mark else 1
        context = ""
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            context = f" ({exc.context} started at line {exc.context_mark.line + 1 + line_offset})"
        raise InputError(
            Problem(
                code="input.invalid-yaml",
                message=f"invalid YAML at line {line}, column {column}: {exc.problem or exc.context}{context}",
                source=SourceRef(document, line, column),
                fix="Fix the YAML at that line: check its indentation, quotes and colons.",
                fatal=True,
            )
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(
            Problem(
                code="input.invalid-yaml",
                message=f"invalid YAML: {exc}",
                source=SourceRef(document, 1 + line_offset, 1),
                fix="Fix the YAML syntax.",
                fatal=True,
            )
        ) from None
    finally:
        loader.dispose()
    return data, YamlLocator(text, root, document=document, line_offset=line_offset)
