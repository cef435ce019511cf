"""OpenAPI 3.0 / 3.1 (YAML or JSON) into the DesignModel's endpoints and API settings.

Every local `$ref` is checked once (broken ones become problems); refs to other files or URLs
are refused and never fetched. Schemas are not inlined: an operation's bodies are described by
their top-level fields and the component schemas they reach, each component visited once, so
mutually referencing schemas cost what their number costs, not what their expansion would.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from apps.designs.engine.bulk import settle
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.model import (
    ApiSettings,
    Body,
    Endpoint,
    Parameter,
    Problem,
    Response,
    SecurityScheme,
    SourceRef,
)
from apps.designs.engine.structured import (
    Locator,
    escape_pointer_part,
    load_structured,
    pointer,
    ref_strings,
    resolve_pointer,
    unescape_pointer_part,
)
from apps.designs.engine.text import InputError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_COMPONENT_PREFIX = "#/components/schemas/"
_CONSTRAINT_KEYS = (
    "maxLength",
    "minLength",
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "enum",
    "pattern",
    "format",
    "maxItems",
)
_CONSTRAINT_SET = frozenset(_CONSTRAINT_KEYS)
_CURSOR_PARAMS = {
    "cursor",
    "after",
    "before",
    "starting_after",
    "ending_before",
    "page_token",
    "pagetoken",
}
_PAGE_PARAMS = {"page", "page_number", "pagenumber"}
_OFFSET_PARAMS = {"offset", "skip", "start"}
PAGE_SIZE_PARAMS = {
    "limit",
    "page_size",
    "pagesize",
    "per_page",
    "perpage",
    "size",
    "count",
    "top",
    "$top",
}


_DEREF_LIMIT = 32  # refs a chain may follow

# What a body's `content` map describes apart from where it is used: the media type read, it as a
# pointer part, its media type object, whether that has a schema, then the schema's component
# name, whether it is an array of them and its top-level fields (see `_describe_body`).
_Content = tuple[str, str, Any, bool, str | None, bool, tuple[str, ...]]


@dataclass
class OpenApiDocument:
    """The loaded document plus what the analyzers need to navigate it."""

    data: dict[str, Any]
    locator: Locator
    document: str
    problems: list[Problem] = field(default_factory=list)
    # components/schemas name -> names it refers to directly (filled lazily, each once)
    _schema_edges: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # local ref -> its target (None when broken), and root names -> what they reach: operations
    # share components, so each is worked out once.
    _targets: dict[str, Any] = field(default_factory=dict)
    _reachable: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    _reached_by: dict[int, tuple[str, ...]] = field(default_factory=dict)  # id(operation) -> schemas
    _chains: dict[str, tuple[Any, str | None]] = field(default_factory=dict)  # first ref -> `deref`'s answer
    # id(schema object) -> what a body with that schema holds; id(parameter object) -> what a
    # parameter is apart from where it is used. The objects live as long as `data`.
    body_shapes: dict[int, tuple[str | None, bool, tuple[str, ...]]] = field(default_factory=dict)
    # The same for a schema that is a `$ref` (`{"$ref": "#/components/schemas/Pet"}`, written anew
    # in each operation): by the ref, since the body it describes depends on nothing else.
    ref_body_shapes: dict[str, tuple[str | None, bool, tuple[str, ...]]] = field(default_factory=dict)
    parameter_shapes: dict[int, tuple[str, str, bool, str | None, dict[str, Any]]] = field(default_factory=dict)
    # media type key -> as a pointer part ("application/json" -> "application~1json")
    media_parts: dict[str, str] = field(default_factory=dict)
    # id(content map of a referenced response or request body) -> what it describes
    contents: dict[int, _Content] = field(default_factory=dict)
    # The operations under `paths` that declare `callbacks`, (path, method, operation) in document
    # order, as the endpoint walk met them: `parse_webhooks` reads their callbacks.
    callback_owners: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    # node_ref(node, ptr): where `node` (a dict or list of `data` that `ptr` names) is written;
    # called for every endpoint part, so the locator's fastest form of it.
    node_ref: Callable[[Any, str], SourceRef] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.node_ref = self.locator.node_lookup()

    def ref(self, ptr: str) -> SourceRef:
        return self.locator.ref(ptr)

    def resolve(self, ref: str) -> Any:
        """The target of a local `#/...` ref, or None when it does not exist."""
        try:
            return self._targets[ref]
        except KeyError:
            target = self._targets[ref] = resolve_pointer(self.data, ref) if ref.startswith("#") else None
            return target

    def deref(self, node: Any, *, limit: int = _DEREF_LIMIT) -> tuple[Any, str | None]:
        """Follow a chain of refs; returns the target and the last ref followed (cycle safe)."""
        if type(node) is not dict or "$ref" not in node:
            return node, None
        first = node["$ref"]
        # Where a chain leads depends on its first ref alone, and a large API writes the same
        # few thousand refs tens of thousands of times: each chain is followed once.
        if type(first) is str and limit == _DEREF_LIMIT:
            found = self._chains.get(first)
            if found is None:
                found = self._chains[first] = self._follow(node, limit)
            return found
        return self._follow(node, limit)

    def _follow(self, node: Any, limit: int) -> tuple[Any, str | None]:
        last: str | None = None
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and len(seen) < limit:
            target = node["$ref"]
            if target in seen:
                return None, target
            seen.add(target)
            last = target
            node = self.resolve(target)
        return node, last

    def schema_edges(self, name: str, max_depth: int) -> tuple[str, ...]:
        """Component schemas that schema `name` refers to anywhere inside itself."""
        if name not in self._schema_edges:
            schemas = (
                self.data.get("components", {}).get("schemas", {})
                if isinstance(self.data.get("components"), dict)
                else {}
            )
            self._schema_edges[name] = tuple(sorted(_component_refs(schemas.get(name), max_depth)))
        return self._schema_edges[name]

    def reached_by(self, max_depth: int, operation: dict[str, Any]) -> tuple[str, ...]:
        """The component schemas an operation's bodies reach, each operation worked out once."""
        found = self._reached_by.get(id(operation))
        if found is None:
            found = self._reached_by[id(operation)] = self.reachable_schemas(_body_roots(self, operation), max_depth)
        return found

    def reachable_schemas(self, roots: list[str], max_depth: int) -> tuple[str, ...]:
        """Component schemas reachable from `roots`, depth first, each once (dicts keep order)."""
        key = tuple(roots)
        if key in self._reachable:
            return self._reachable[key]
        seen: dict[str, None] = {}
        stack = list(reversed(roots))
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen[name] = None
            stack.extend(reversed([n for n in self.schema_edges(name, max_depth) if n not in seen]))
        found = self._reachable[key] = tuple(seen)
        return found


def _component_refs(node: Any, max_depth: int) -> set[str]:
    """Names of components/schemas referenced inside one schema, without following them."""
    return {
        unescape_pointer_part(unquote(ref[len(_COMPONENT_PREFIX) :]).split("/")[0])
        for ref in set(ref_strings(node, max_depth))
        if ref.startswith(_COMPONENT_PREFIX)
    }


def _fatal(code: str, message: str, source: SourceRef, fix: str) -> InputError:
    return InputError(Problem(code=code, message=message, source=source, fix=fix, fatal=True))


def load_openapi(
    text: str, *, document: str, line_offset: int = 0, limits: ParseLimits, utf8: bytes | None = None
) -> OpenApiDocument:
    """Load and check the outer shape of an OpenAPI document (`utf8`: the text in UTF-8, if the
    caller has it). Raises InputError when unusable."""
    data, locator = load_structured(
        text,
        document=document,
        line_offset=line_offset,
        max_yaml_nodes=limits.max_yaml_nodes,
        utf8=utf8,
    )
    start = SourceRef(document, 1 + line_offset, 1, "")
    if not isinstance(data, dict):
        raise _fatal(
            "openapi.not-an-object",
            "the OpenAPI document is not a mapping of keys to values",
            start,
            "Paste an OpenAPI 3.0 or 3.1 document: it starts with `openapi: 3.x.y`.",
        )
    if "swagger" in data:
        raise _fatal(
            "openapi.swagger-2",
            f"this is Swagger {data.get('swagger')} (OpenAPI 2), which the workbench does not read",
            locator.ref("/swagger"),
            "Convert it to OpenAPI 3 first (for example `npx swagger2openapi spec.yaml -o spec3.yaml`, "
            "or Swagger Editor's 'Convert to OpenAPI 3'), then paste the result.",
        )
    version = str(data.get("openapi", ""))
    if not version:
        raise _fatal(
            "openapi.no-version",
            "the document has no `openapi:` version field, so it is not an OpenAPI description",
            start,
            "Add `openapi: 3.1.0` (or 3.0.3) as the first line, or paste it into the field it belongs to.",
        )
    if not (version.startswith("3.0") or version.startswith("3.1")):
        raise _fatal(
            "openapi.unsupported-version",
            f"OpenAPI {version} is not supported; the workbench reads 3.0.x and 3.1.x",
            locator.ref("/openapi"),
            "Declare `openapi: 3.1.0` or `3.0.3` if the document follows one of them.",
        )
    doc = OpenApiDocument(data=data, locator=locator, document=document)
    _check_shapes(doc)
    _check_refs(doc, limits)
    return doc


# Where the specification puts a mapping or a list. A node of another type (`servers: 5`) is
# reported on its line and dropped from the data, so that no walk and no analyzer meets it; the
# rest of the document is read as if it were absent. `security` is not among them: the review
# reads a `security: {}` or `null` as "no security", which is what it says.
_TOP_SHAPES: dict[str, type] = {
    "info": dict,
    "servers": list,
    "tags": list,
    "paths": dict,
    "components": dict,
    "webhooks": dict,
    "externalDocs": dict,
}
_COMPONENT_SHAPES: dict[str, type] = dict.fromkeys(
    (
        "schemas",
        "responses",
        "parameters",
        "examples",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "callbacks",
        "pathItems",
    ),
    dict,
)
_ITEM_SHAPES: dict[str, type] = {"parameters": list, "servers": list, **dict.fromkeys(HTTP_METHODS, dict)}
_OPERATION_SHAPES: dict[str, type | tuple[type, ...]] = {
    "tags": (list, str),  # a string is read as the walks always read it: one tag per character
    "parameters": list,
    "responses": dict,
    "requestBody": dict,
    "servers": list,
    "callbacks": dict,
}
_SHAPE_NAMES = {dict: "a mapping (`key: value` lines)", list: "a list (`- item` lines)"}


def _check_shapes(doc: OpenApiDocument) -> None:
    data = doc.data
    _expect(doc, data, (), _TOP_SHAPES)
    if "components" in data:
        _expect(doc, data["components"], ("components",), _COMPONENT_SHAPES)
    paths = data.get("paths", {})
    _expect(doc, paths, ("paths",), dict.fromkeys(paths, dict))
    for path, item in paths.items():
        _expect(doc, item, ("paths", path), _ITEM_SHAPES)
        for method in HTTP_METHODS:
            if method in item:
                _expect(doc, item[method], ("paths", path, method), _OPERATION_SHAPES)


def _expect(
    doc: OpenApiDocument, parent: dict[str, Any], path: tuple[str, ...], shapes: dict[str, type | tuple[type, ...]]
) -> None:
    """Drop each member of `parent` named in `shapes` whose value is not of its type, with a problem."""
    # Run on every path item and operation: a member is looked up in `shapes` rather than each
    # of `shapes` in the member's parent (an operation has a few members, the shapes are many).
    wrong = {key for key, value in parent.items() if key in shapes and not isinstance(value, shapes[key])}
    if not wrong:
        return
    for key in [key for key in shapes if key in wrong]:  # in the order of `shapes`, as reported
        source = doc.ref(pointer(*path, key))
        value = parent.pop(key)
        kind = shapes[key]
        shape = _SHAPE_NAMES[kind if isinstance(kind, type) else kind[0]]
        doc.problems.append(
            Problem(
                code="openapi.wrong-type",
                message=f"`{key}` at line {source.line} should be {shape}, not {_kind(value)}; it was ignored",
                source=source,
                fix=f"Write `{key}` as {shape}, as the OpenAPI specification defines it, or remove it.",
            )
        )


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return f"`{json.dumps(value)}`"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else _SHAPE_NAMES.get(type(value), type(value).__name__)


def _check_refs(doc: OpenApiDocument, limits: ParseLimits) -> None:
    """Report refs to other files or URLs (refused) and local refs that point nowhere.

    The usual document has neither, so a first look only checks each distinct ref once (those
    the JSON scanner met on its way, or a walk's); the walk that builds pointers for the problems
    runs only when there is one to report. The scanner's refs are not limited in depth: a broken
    one deeper than the walk goes costs that walk, and reports what it always did."""
    limit = limits.max_schema_depth * 4
    refs = doc.locator.ref_values()
    if refs is None:
        refs = frozenset(ref_strings(doc.data, limit))
    if all(ref.startswith("#") and doc.resolve(ref) is not None for ref in refs):
        return
    checked: dict[str, bool] = {}
    stack: list[tuple[Any, tuple[str, ...]]] = [(doc.data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                ptr = pointer(*path, "$ref")
                if not ref.startswith("#"):
                    doc.problems.append(
                        Problem(
                            code="openapi.external-ref",
                            message=f"`$ref: {ref}` points outside this document; it was not fetched",
                            source=doc.ref(ptr),
                            fix="Bundle the document first (for example `npx @redocly/cli bundle`) so every $ref is local (`#/...`).",
                        )
                    )
                else:
                    if ref not in checked:
                        checked[ref] = doc.resolve(ref) is not None
                    if not checked[ref]:
                        doc.problems.append(
                            Problem(
                                code="openapi.broken-ref",
                                message=f"`$ref: {ref}` points at nothing in this document",
                                source=doc.ref(ptr),
                                fix="Correct the reference or add the missing component.",
                                severity="high",
                            )
                        )
            if len(path) < limits.max_schema_depth * 4:
                stack.extend((v, (*path, k)) for k, v in node.items() if isinstance(v, dict | list))
        elif isinstance(node, list) and len(path) < limits.max_schema_depth * 4:
            stack.extend((v, (*path, str(i))) for i, v in enumerate(node) if isinstance(v, dict | list))


def _base_path(servers: list[str]) -> str:
    for url in servers:
        path = urlsplit(url).path if "://" in url else url
        return "/" + path.strip("/") if path.strip("/") else ""
    return ""


def _security(value: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(tuple(sorted(req)) if isinstance(req, dict) else () for req in value)


def _schema_type(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return str(kinds[0]) if kinds else "null"
    return str(kind) if kind is not None else None


def _body(doc: OpenApiDocument, content: Any, ptr: str, limits: ParseLimits, *, via: Any = None) -> Body | None:
    """The body a `content` map describes; `ptr` is where the content would be written under the
    operation, with a trailing `/`. `via` is the `$ref` object the content was reached through,
    if any: the pointer then names nothing in the document, and its nearest part that exists is
    that object."""
    if not isinstance(content, dict) or not content:
        return None
    if via is None:
        described = _describe_content(doc, content, limits)
    else:
        # A referenced response or request body is shared by every operation that refers to it
        # (Microsoft Graph's 8,400 operations refer to a few hundred of them 26,000 times): what
        # its content describes is worked out once; where it is used, at each use.
        described = doc.contents.get(id(content))
        if described is None:
            described = doc.contents[id(content)] = _describe_content(doc, content, limits)
    media_type, part, media_obj, has_schema, schema_name, is_array, fields = described
    media_ptr = ptr + part
    return Body.make(
        media_type=media_type,
        schema_pointer=media_ptr + "/schema" if has_schema else None,
        schema_name=schema_name,
        is_array=is_array,
        fields=fields,
        source=doc.node_ref(media_obj if via is None else via, media_ptr),
    )


def _describe_content(doc: OpenApiDocument, content: dict[str, Any], limits: ParseLimits) -> _Content:
    """What a non-empty `content` map describes apart from where it is used."""
    media = next(iter(content))
    if len(content) > 1 and "json" not in media:
        media = next((m for m in content if "json" in m), media)
    media_obj = content[media]
    schema = media_obj.get("schema") if isinstance(media_obj, dict) else None
    media_type = str(media)
    # A large API writes a handful of media types tens of thousands of times.
    part = doc.media_parts.get(media_type)
    if part is None:
        part = doc.media_parts[media_type] = escape_pointer_part(media_type)
    # Operations share schemas (an error schema, a page of items): each is described once, a
    # `$ref` by the ref, any other by the schema object's identity.
    ref = schema.get("$ref") if type(schema) is dict else None
    if type(ref) is str:
        shape = doc.ref_body_shapes.get(ref)
        if shape is None:
            shape = doc.ref_body_shapes[ref] = _describe_body(doc, schema, limits)
    else:
        shape = doc.body_shapes.get(id(schema))
        if shape is None:
            shape = doc.body_shapes[id(schema)] = _describe_body(doc, schema, limits)
    return (media_type, part, media_obj, schema is not None, *shape)


def _describe_body(doc: OpenApiDocument, schema: Any, limits: ParseLimits) -> tuple[str | None, bool, tuple[str, ...]]:
    target, ref = doc.deref(schema)
    is_array = False
    if isinstance(target, dict) and target.get("type") == "array":
        is_array = True
        items, items_ref = doc.deref(target.get("items"))
        ref = items_ref or None
        target = items
    fields: list[str] = []
    _collect_fields(doc, target, fields, depth=0, limits=limits)
    return _component_name(ref), is_array, tuple(dict.fromkeys(fields))


def _component_name(ref: str | None) -> str | None:
    """The components/schemas name a ref names, or None."""
    name = ref[len(_COMPONENT_PREFIX) :] if ref and ref.startswith(_COMPONENT_PREFIX) else None
    return unescape_pointer_part(unquote(name)) if name else None


def _collect_fields(
    doc: OpenApiDocument,
    schema: Any,
    out: list[str],
    *,
    depth: int,
    limits: ParseLimits,
) -> None:
    if depth > 8 or not isinstance(schema, dict):
        return
    props = schema.get("properties")
    if isinstance(props, dict):
        out.extend(map(str, props))
    for combo in ("allOf", "oneOf", "anyOf"):
        parts = schema.get(combo)
        if isinstance(parts, list):
            for part in parts:
                target, _ = doc.deref(part)
                _collect_fields(doc, target, out, depth=depth + 1, limits=limits)


def _body_roots(doc: OpenApiDocument, operation: dict[str, Any]) -> list[str]:
    """Component schema names an operation's bodies refer to (directly, inside its own tree)."""
    found: set[str] = set()
    request = operation.get("requestBody")
    request, _ = doc.deref(request)
    if isinstance(request, dict):
        found |= _component_refs(request.get("content"), 12)
    responses = operation.get("responses")
    if isinstance(responses, dict):
        for response in responses.values():
            resolved, _ = doc.deref(response)
            if isinstance(resolved, dict):
                found |= _component_refs(resolved.get("content"), 12)
    return sorted(found)


def _schemas_reached(doc: OpenApiDocument, max_depth: int) -> Callable[[dict[str, Any]], Callable[[], tuple[str, ...]]]:
    """For an operation, what its Endpoint calls to learn the component schemas its bodies
    reach: worked out when first asked, once per operation."""
    return functools.partial(functools.partial, doc.reached_by, max_depth)


# Query parameter names that say how a list is paged, strongest first.
_PAGINATION = (
    (frozenset(_CURSOR_PARAMS), "cursor"),
    (frozenset(_PAGE_PARAMS), "page"),
    (frozenset(_OFFSET_PARAMS), "offset"),
    (frozenset(PAGE_SIZE_PARAMS), "limit"),
)


def _pagination(parameters: tuple[Parameter, ...]) -> str | None:
    names = {p.name.lower() for p in parameters if p.location == "query"}
    if names:
        for wanted, style in _PAGINATION:
            if not names.isdisjoint(wanted):
                return style
    return None


def parse_openapi(
    text: str, *, document: str, line_offset: int = 0, limits: ParseLimits, utf8: bytes | None = None
) -> tuple[ApiSettings, tuple[Endpoint, ...], list[Problem], OpenApiDocument]:
    """Parse an OpenAPI text into API settings and endpoints (entities not yet linked). `utf8`:
    the text in UTF-8, when the caller has it.

    Returns the problems found on the way; raises InputError when the text is not usable at all.
    Ignores: links; webhooks (3.1) and callbacks are read by `parse_webhooks`.
    """
    doc = load_openapi(text, document=document, line_offset=line_offset, limits=limits, utf8=utf8)
    data = doc.data
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    servers = [str(s.get("url")) for s in data.get("servers", []) or [] if isinstance(s, dict) and s.get("url")]
    components = data.get("components") if isinstance(data.get("components"), dict) else {}
    raw_schemes = components.get("securitySchemes") if isinstance(components.get("securitySchemes"), dict) else {}
    schemes = []
    for name, scheme in raw_schemes.items():
        resolved, _ = doc.deref(scheme)
        if isinstance(resolved, dict):
            schemes.append(
                SecurityScheme(
                    name=str(name),
                    type=str(resolved.get("type", "")),
                    details={
                        k: v
                        for k, v in resolved.items()
                        if k
                        in {
                            "scheme",
                            "in",
                            "name",
                            "bearerFormat",
                            "flows",
                            "openIdConnectUrl",
                        }
                    },
                    source=doc.ref(pointer("components", "securitySchemes", name)),
                )
            )
    schema_names = tuple(
        str(n) for n in (components.get("schemas") or {}) if isinstance(components.get("schemas"), dict)
    )
    default_security = _security(data.get("security"))
    base_path = _base_path(servers)
    settings = ApiSettings(
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        openapi_version=str(data.get("openapi")),
        servers=tuple(servers),
        base_path=base_path,
        security_schemes=tuple(schemes),
        default_security=default_security,
        schema_names=schema_names,
        source=doc.ref(""),
    )

    paths = data.get("paths") if isinstance(data.get("paths"), dict) else {}
    operations = sum(
        1 for item in paths.values() if isinstance(item, dict) for method in HTTP_METHODS if method in item
    )
    if operations > limits.max_operations:
        raise _fatal(
            "openapi.too-many-operations",
            f"the API has {operations:,} operations, more than the limit of {limits.max_operations:,}",
            doc.ref("/paths"),
            "Split the description by area and paste the part under review, or raise DESIGN_MAX_OPERATIONS.",
        )
    endpoints = _endpoints(doc, paths, base_path=base_path, default_security=default_security, limits=limits)
    return settings, tuple(endpoints), doc.problems, doc


_SETTLE_EVERY = 256  # path items


def _endpoints(
    doc: OpenApiDocument,
    paths: dict[str, Any],
    *,
    base_path: str,
    default_security: tuple[tuple[str, ...], ...],
    limits: ParseLimits,
) -> list[Endpoint]:
    """Every operation under `paths` as an Endpoint, in document order."""
    reached = _schemas_reached(doc, limits.max_schema_depth)
    endpoints: list[Endpoint] = []
    for number, (path, item) in enumerate(paths.items(), start=1):
        if number % _SETTLE_EVERY == 0:
            # The records built so far live as long as the model: without this, each full run of
            # the collector during the parse traversed all of them again (four runs, 0.14 s, on
            # Microsoft Graph's 7,419 path items; see `bulk`).
            settle()
        item_ptr = f"/paths/{escape_pointer_part(str(path))}"
        item, _ = doc.deref(item)
        if not isinstance(item, dict):
            continue
        endpoints.extend(
            _item_endpoints(
                doc,
                item,
                item_ptr,
                path=str(path),
                full_path=base_path + str(path),
                default_security=default_security,
                reached=reached,
                limits=limits,
                kind="operation",
            )
        )
    return endpoints


def parse_webhooks(
    doc: OpenApiDocument, *, default_security: tuple[tuple[str, ...], ...], limits: ParseLimits
) -> tuple[Endpoint, ...]:
    """The calls the API documents outside `paths`: OpenAPI 3.1 `webhooks` (path: the webhook's
    name, kind `webhook`) and every operation's `callbacks` (path: the callback's URL expression,
    full_path `<operation path> callback <name>`, kind `callback`), in document order.

    `doc` is the one `parse_openapi` returned: its walk of `paths` noted the operations that
    declare callbacks, which are not looked for again. Ignores callbacks declared inside webhooks
    or callbacks, and anything not a path item."""
    reached = _schemas_reached(doc, limits.max_schema_depth)
    found: list[Endpoint] = []
    webhooks = doc.data.get("webhooks")
    for name, item in webhooks.items() if isinstance(webhooks, dict) else ():
        resolved, _ = doc.deref(item)
        if isinstance(resolved, dict):
            found.extend(
                _item_endpoints(
                    doc,
                    resolved,
                    f"/webhooks/{escape_pointer_part(str(name))}",
                    path=str(name),
                    full_path=str(name),
                    default_security=default_security,
                    reached=reached,
                    limits=limits,
                    kind="webhook",
                )
            )
    for path, method, operation in doc.callback_owners:
        callbacks = operation["callbacks"]
        if not isinstance(callbacks, dict):
            continue
        op_ptr = f"/paths/{escape_pointer_part(path)}/{method}"
        for name, raw in callbacks.items():
            callback, ref = doc.deref(raw)
            if not isinstance(callback, dict):
                continue
            at = ref[1:] if ref else f"{op_ptr}/callbacks/{escape_pointer_part(str(name))}"
            if len(found) > limits.max_operations:
                return tuple(found)
            for expression, cb_item in callback.items():
                cb_item, _ = doc.deref(cb_item)
                if not isinstance(cb_item, dict) or str(expression).startswith("x-"):
                    continue
                found.extend(
                    _item_endpoints(
                        doc,
                        cb_item,
                        f"{at}/{escape_pointer_part(str(expression))}",
                        path=str(expression),
                        full_path=f"{path} callback {name}",
                        default_security=default_security,
                        reached=reached,
                        limits=limits,
                        kind="callback",
                    )
                )
    return tuple(found)


def _item_endpoints(
    doc: OpenApiDocument,
    item: dict[str, Any],
    item_ptr: str,
    *,
    path: str,
    full_path: str,
    default_security: tuple[tuple[str, ...], ...],
    reached: Callable[[dict[str, Any]], Callable[[], tuple[str, ...]]],
    limits: ParseLimits,
    kind: str,
) -> list[Endpoint]:
    """The operations of one path item, written at `item_ptr`, in the order of HTTP_METHODS."""
    # Run once per path item of a large API (Microsoft Graph's: 7,419 items, 11,422 operations,
    # 120,000 located parts), so what does not depend on the operation is worked out once here
    # and the loop builds the records (through `make`: see model.stored_through_slots) and little else.
    endpoints: list[Endpoint] = []
    node_ref = doc.node_ref
    deref = doc.deref
    shared = _parameters(doc, item.get("parameters"), item_ptr)
    shared_only = tuple(shared.values())  # immutable: every operation without its own shares it
    declared_by_document = "security" in doc.data
    for method in HTTP_METHODS:
        operation = item.get(method)
        if not isinstance(operation, dict):
            continue
        op_ptr = f"{item_ptr}/{method}"
        if "callbacks" in operation and kind == "operation":
            doc.callback_owners.append((path, method, operation))
        # An operation's parameter replaces the path item's of the same name and location, in
        # its place: both are keyed so, the later of a list's duplicates winning in the first's place.
        own = _parameters(doc, operation.get("parameters"), op_ptr)
        if not own:
            parameters = shared_only
        elif not shared:
            parameters = tuple(own.values())
        else:
            merged = shared.copy()
            merged.update(own)
            parameters = tuple(merged.values())
        request_raw = operation.get("requestBody")
        request_obj, _ = deref(request_raw)
        request_body = (
            _body(
                doc,
                request_obj.get("content"),
                f"{op_ptr}/requestBody/content/",
                limits,
                via=None if request_obj is request_raw else request_raw,
            )
            if isinstance(request_obj, dict)
            else None
        )
        responses: tuple[Response, ...] = ()
        raw_responses = operation.get("responses")
        if isinstance(raw_responses, dict) and raw_responses:
            found: list[Response] = []
            responses_ptr = f"{op_ptr}/responses/"
            for raw_status, response in raw_responses.items():
                resolved, _ = deref(response)
                if not isinstance(resolved, dict):
                    continue
                status = str(raw_status)
                resp_ptr = responses_ptr + escape_pointer_part(status)
                found.append(
                    Response.make(
                        status=status,
                        description=str(resolved.get("description", "")),
                        body=_body(
                            doc,
                            resolved.get("content"),
                            resp_ptr + "/content/",
                            limits,
                            via=None if resolved is response else response,
                        ),
                        source=node_ref(response, resp_ptr),
                    )
                )
            responses = tuple(found)
        tags = operation.get("tags")
        endpoints.append(
            Endpoint.make(
                method=method.upper(),
                path=path,
                full_path=full_path,
                operation_id=str(operation["operationId"]) if operation.get("operationId") else None,
                summary=str(operation.get("summary") or operation.get("description") or "")[:300],
                tags=tuple(map(str, tags)) if tags else (),
                parameters=parameters,
                request_body=request_body,
                responses=responses,
                security=_security(operation["security"]) if "security" in operation else default_security,
                security_declared=declared_by_document or "security" in operation,
                deprecated=bool(operation.get("deprecated", False)),
                pagination=_pagination(parameters) if method == "get" else None,
                entities=(),
                source=node_ref(operation, op_ptr),
                schemas_reached=reached(operation),
                kind=kind,
            )
        )
    return endpoints


def _parameters(doc: OpenApiDocument, raw: Any, owner_ptr: str) -> dict[tuple[str, str], Parameter]:
    """The parameters a `parameters` list written at `owner_ptr` declares, keyed by (name,
    location): a later duplicate replaces an earlier one in its place."""
    found: dict[tuple[str, str], Parameter] = {}
    if not isinstance(raw, list):
        return found
    shapes = doc.parameter_shapes
    node_ref = doc.node_ref
    prefix = f"{owner_ptr}/parameters/"
    for index, param in enumerate(raw):
        if type(param) is dict and "$ref" in param:
            # A referenced parameter is shared by the operations that refer to it: described once.
            resolved = doc.deref(param)[0]
            if not isinstance(resolved, dict) or "name" not in resolved:
                continue
            shape = shapes.get(id(resolved))
            if shape is None:
                shape = shapes[id(resolved)] = _parameter_shape(doc, resolved)
        elif isinstance(param, dict) and "name" in param:
            # One written in place is met once (twice only in a path item two paths refer to):
            # kept, its shape would be one more long-lived object for the collector to traverse.
            shape = _parameter_shape(doc, param)
        else:
            continue
        name, location, required, schema_type, constraints = shape
        found[name, location] = Parameter.make(
            name=name,
            location=location,
            required=required,
            schema_type=schema_type,
            source=node_ref(param, f"{prefix}{index}"),
            constraints=constraints,
        )
    return found


def _parameter_shape(
    doc: OpenApiDocument, resolved: dict[str, Any]
) -> tuple[str, str, bool, str | None, dict[str, Any]]:
    """What a parameter object is apart from where it is used: (name, location, required, schema
    type, constraints)."""
    schema, _ = doc.deref(resolved.get("schema"))
    constraints = (
        {k: schema[k] for k in _CONSTRAINT_KEYS if k in schema}
        if isinstance(schema, dict) and not _CONSTRAINT_SET.isdisjoint(schema)
        else {}
    )
    return (
        str(resolved["name"]),
        str(resolved.get("in", "")),
        bool(resolved.get("required", False)),
        _schema_type(schema),
        constraints,
    )
