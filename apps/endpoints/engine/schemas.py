"""OpenAPI schemas as DRF serializer fields: each component schema written once (linear in the
document, never a walk of the inlined tree), nested ones by name, cycles as JSON."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.designs.engine.structured import resolve_pointer
from apps.endpoints.engine.code import call, sequence
from apps.endpoints.engine.names import Literals, Names, literal

COMPONENT = "#/components/schemas/"
# The DRF field of a string of this format.
_FORMAT_FIELDS = {
    "date-time": "DateTimeField",
    "date": "DateField",
    "time": "TimeField",
    "email": "EmailField",
    "uri": "URLField",
    "url": "URLField",
    "uuid": "UUIDField",
    "ipv4": "IPAddressField",
    "ipv6": "IPAddressField",
    "binary": "FileField",
}
# The keywords a field is read from before its type: a union, a merge or an enum.
_COMBINED = frozenset({"oneOf", "anyOf", "allOf", "enum"})
MAX_DEPTH = 8  # inline objects nested deeper are JSON (a component is a class: its depth restarts)


def ref_name(schema: Any) -> str | None:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str) and ref.startswith(COMPONENT) and "/" not in ref[len(COMPONENT) :]:
        return ref[len(COMPONENT) :].replace("~1", "/").replace("~0", "~")
    return None


def deref_local(data: Mapping[str, Any], schema: Any) -> Any:
    """The schema a chain of local `$ref`s (`#/...`) leads to, at most 16 deep; an external
    reference (`other.yaml#/X`) is returned as it is, never followed."""
    for _ in range(16):
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        schema = resolve_pointer(data, ref)
    return schema


class Pointers:
    """`resolve_pointer` and `deref_local` over one document, for one generation: each pointer is
    resolved once (a component schema's `$ref` is followed from every place that names it, and
    an operation's body pointers are read by several writers). What is kept lives as long as the
    object: nothing of one design stays for another."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self._nodes: dict[str, Any] = {}

    def resolve(self, ref: str) -> Any:
        """resolve_pointer(data, ref): the value a `#/a/b` (or `/a/b`) pointer names, or None."""
        nodes = self._nodes
        if ref not in nodes:
            nodes[ref] = resolve_pointer(self.data, ref)
        return nodes[ref]

    def deref(self, schema: Any) -> Any:
        """deref_local(data, schema), each reference resolved once."""
        for _ in range(16):
            ref = schema.get("$ref") if isinstance(schema, dict) else None
            if not isinstance(ref, str) or not ref.startswith("#/"):
                return schema
            schema = self.resolve(ref)
        return schema


def types_of(schema: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(the non-null type, nullable) under 3.0 (`nullable`) and 3.1 (`type: [x, "null"]`)."""
    kind = schema.get("type")
    nullable = bool(schema.get("nullable"))
    if isinstance(kind, list):
        nullable = nullable or "null" in kind
        rest = [k for k in kind if k != "null"]
        kind = rest[0] if len(rest) == 1 else None
    return (kind if isinstance(kind, str) else None), nullable


@dataclass
class SerializerWriter:
    """Writes plain serializers for component schemas and inline bodies into one module."""

    components: Mapping[str, Any]
    resolve: Callable[[str], Any]
    names: Names
    classes: dict[str, str] = field(default_factory=dict)  # component -> class name
    blocks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    renames: list[str] = field(default_factory=list)  # rename_fields(...) calls after the classes
    _busy: set[str] = field(default_factory=set)
    _calls: dict[tuple[str, ...], str] = field(default_factory=dict)
    literals: Literals = field(default_factory=Literals)  # the generation's, when it shares one

    def component(self, name: str) -> str | None:
        """The class for a component schema (written on first use), None for a non-object or a cycle."""
        if name in self.classes:
            return self.classes[name]
        if name in self._busy:
            return None
        schema = self.components.get(name)
        if not isinstance(schema, dict):
            return None
        props = self.properties(schema)
        if props is None:
            return None
        self._busy.add(name)
        class_name = self.names.claim(name + "Serializer", style="camel", fallback="Schema", record=False)
        self.write_class(class_name, props, where=f"schema {name}")
        self._busy.discard(name)
        self.classes[name] = class_name
        return class_name

    def properties(self, schema: Mapping[str, Any], depth: int = 0) -> tuple[dict[str, Any], set[str]] | None:
        """(properties, required) of an object schema, allOf parts merged; None when not an object."""
        if depth > MAX_DEPTH:
            return None
        target = schema
        name = ref_name(schema)
        if name is not None:
            target = self.components.get(name)
            if not isinstance(target, dict):
                return None
        props: dict[str, Any] = {}
        required: set[str] = set()
        for part in target.get("allOf") or ():
            merged = self.properties(part, depth + 1) if isinstance(part, dict) else None
            if merged is None:
                return None
            props.update(merged[0])
            required |= merged[1]
        own = target.get("properties")
        if isinstance(own, dict):
            props.update({str(k): v for k, v in own.items()})
        if isinstance(target.get("required"), list):
            required |= {str(r) for r in target["required"]}
        kind, _ = types_of(target)
        if not props and kind != "object" and not target.get("allOf"):
            return None
        return props, required

    def write_class(self, class_name: str, props_required: tuple[dict[str, Any], set[str]], *, where: str) -> None:
        props, required = props_required
        scope = Names(class_name, module_level=False)
        lines = [f"class {class_name}(serializers.Serializer):"]
        renamed: list[tuple[str, str]] = []
        for prop, schema in props.items():
            attribute = scope.claim(prop, fallback="field", keep=True)
            expr = self.field(schema if isinstance(schema, dict) else {}, required=prop in required, where=where)
            if attribute != prop:
                # The API's own name is given back after the class (rename_fields); the value is
                # read and validated under the attribute's name.
                renamed.append((attribute, prop))
                expr = with_source(expr, attribute)
            lines.append(f"    {attribute} = {_indent(expr)}")
        if len(lines) == 1:
            lines.append("    pass")
        self.blocks.append("\n".join(lines))
        if renamed:
            mapping = "{\n" + "".join(f"        {literal(a)}: {literal(p)},\n" for a, p in renamed) + "    }"
            self.renames.append(f"rename_fields(\n    {class_name},\n    {mapping},\n)")

    def field(self, schema: Mapping[str, Any], *, required: bool, where: str, depth: int = 0) -> str:
        kwargs: list[tuple[str, str]] = []
        if schema.get("readOnly") is True:
            kwargs.append(("read_only", "True"))
        else:
            if not required:
                kwargs.append(("required", "False"))
            if schema.get("writeOnly") is True:
                kwargs.append(("write_only", "True"))
        return self._field(schema, kwargs, where=where, depth=depth)

    def _call(self, func: str, kwargs: list[tuple[str, str]]) -> str:
        """call(func, (), kwargs), each distinct one written once per module: the same few field
        calls recur in every class."""
        key = (func, *kwargs)
        written = self._calls.get(key)
        if written is None:
            written = self._calls[key] = call(func, (), kwargs)
        return written

    def _field(self, schema: Mapping[str, Any], kwargs: list[tuple[str, str]], *, where: str, depth: int) -> str:
        name = ref_name(schema) if "$ref" in schema else None
        if name is not None:
            target = self.components.get(name)
            if isinstance(target, dict) and self.properties(target) is None:
                return self._field(target, kwargs, where=where, depth=depth + 1)
            class_name = self.component(name)
            if class_name is None:
                self.notes.append(f"{where}: {name} refers back to itself; it is accepted as any JSON value")
                return self._call("serializers.JSONField", kwargs)
            return self._call(class_name, kwargs)
        kind, nullable = types_of(schema)
        if nullable:
            kwargs = [*kwargs, ("allow_null", "True")]
        if not _COMBINED.isdisjoint(schema):  # most fields are a plain value's, with none of them
            for union in ("oneOf", "anyOf"):
                if schema.get(union):
                    self.notes.append(f"{where}: {union} is accepted as any JSON value; DRF has no union field")
                    return self._call("serializers.JSONField", kwargs)
            if schema.get("allOf") and depth < MAX_DEPTH:
                props = self.properties(schema, depth)
                if props is None:
                    return self._call("serializers.JSONField", kwargs)
                return self._call("serializers.DictField", kwargs)
            enum = schema.get("enum")
            if (
                isinstance(enum, list)
                and enum
                and all(isinstance(v, str | int) and not isinstance(v, bool) for v in enum)
            ):
                choices = sequence(self.literals[v] if isinstance(v, str) else repr(v) for v in enum)
                return self._call("serializers.ChoiceField", [("choices", choices), *kwargs])
        if kind == "string":
            fmt = schema.get("format")
            special = _FORMAT_FIELDS.get(fmt) if isinstance(fmt, str) else None
            if special:
                return self._call(f"serializers.{special}", kwargs)
            extra = []
            for src, key in (("maxLength", "max_length"), ("minLength", "min_length")):
                value = schema.get(src)
                if type(value) is int and value >= 0:
                    extra.append((key, str(value)))
            return self._call("serializers.CharField", [*extra, *kwargs] if extra else kwargs)
        if kind == "integer" or kind == "number":
            extra = []
            for src, key in (("minimum", "min_value"), ("maximum", "max_value")):
                value = schema.get(src)
                if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e15:
                    extra.append((key, repr(value)))
            cls = "IntegerField" if kind == "integer" else "FloatField"
            return self._call(f"serializers.{cls}", [*extra, *kwargs])
        if kind == "boolean":
            return self._call("serializers.BooleanField", kwargs)
        if kind == "array":
            items = schema.get("items")
            if isinstance(items, dict) and depth < MAX_DEPTH:
                item_name = ref_name(items)
                class_name = self.component(item_name) if item_name is not None else None
                if class_name is not None:
                    return self._call(class_name, [("many", "True"), *kwargs])
                child = self._field(items, [], where=where, depth=depth + 1)
                return self._call("serializers.ListField", [("child", child), *kwargs])
            return self._call("serializers.ListField", kwargs)
        if kind == "object" or isinstance(schema.get("properties"), dict):
            return self._call("serializers.DictField", kwargs)
        return self._call("serializers.JSONField", kwargs)


def with_source(expr: str, attribute: str) -> str:
    """A field call with `source=` the attribute added as its first keyword."""
    head, _, rest = expr.partition("(")
    source = f"(\n    source={literal(attribute)},"
    # `call` writes either `Name()` or `Name(\n    item,\n...)`: the keyword goes first.
    return f"{head}{source}\n)" if rest == ")" else f"{head}{source}{rest}"


def _indent(expr: str) -> str:
    """A multi-line expression placed after `name = ` inside a class body."""
    return expr.replace("\n", "\n    ")
