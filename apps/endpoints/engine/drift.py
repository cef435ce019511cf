"""Drift between the pasted OpenAPI document and the one drf-spectacular produced from the
generated project: what a client reading the pasted document would find different.

`find_drift(pasted, generated)` takes both documents as parsed JSON (dicts) and returns drift items,
each with its kind, the operation (`GET /orders/{id}`, as the pasted document spells it; empty for
a difference of the whole API), a description and both locations as JSON pointers (the nearest
existing node on the side where something is absent).

Compared: paths and methods, parameters (name, in, required, schema type), request bodies and their
media types, request and response fields (names, types, nullability, string formats, enums,
required flags, through objects, arrays and maps), status codes, response bodies, and whether an
operation admits anonymous callers; the kinds of security scheme once for the whole API.
`$ref`s are followed in both documents (local ones: `#/...`); each pair of schema locations is
compared once, so cycles end, and a difference inside a shared component is reported once, under
the first operation reaching it.

Not differences (docs/endpoints.md, "What Django REST Framework cannot express from OpenAPI", says
why for each): path parameter names and trailing slashes; the servers' base path; number formats
(`int32`, `int64`, `float`, `double`); the status codes DRF answers by itself (400, 401, 403, 404,
405, 406, 415, 429) on either side, and `default` responses; `HEAD` and `OPTIONS` operations; media
types the generated project accepts beyond the pasted ones; drf-spectacular's own schema view
(`SpectacularAPIView`, served beside the API); `additionalProperties: false`; fields under an object
the pasted document leaves open (`additionalProperties: true`); the
inside of `oneOf`/`anyOf` unions other than enums and nullability; response headers; scopes;
read-only fields in request bodies and write-only fields in responses; a response field the
generated schema marks required that the pasted one leaves optional.

Hostile input is bounded by DriftLimits: schemas are followed to `max_depth` levels, at most
`max_comparisons` schema pairs are compared and at most `max_items` items returned; past a limit
one `comparison-truncated` item says which. Pure: no Django, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

OPERATION_MISSING = "operation-missing"
OPERATION_EXTRA = "operation-extra"
PARAMETER_MISSING = "parameter-missing"
PARAMETER_EXTRA = "parameter-extra"
PARAMETER_REQUIRED = "parameter-required"
PARAMETER_TYPE = "parameter-type"
REQUEST_BODY_MISSING = "request-body-missing"
REQUEST_BODY_EXTRA = "request-body-extra"
MEDIA_TYPE_MISSING = "media-type-missing"
FIELD_MISSING = "field-missing"
FIELD_EXTRA = "field-extra"
FIELD_TYPE = "field-type"
FIELD_NULLABLE = "field-nullable"
FIELD_FORMAT = "field-format"
FIELD_ENUM = "field-enum"
FIELD_REQUIRED = "field-required"
STATUS_CODE = "status-code"
STATUS_MISSING = "status-missing"
STATUS_EXTRA = "status-extra"
RESPONSE_BODY_MISSING = "response-body-missing"
RESPONSE_BODY_EXTRA = "response-body-extra"
SECURITY_ANONYMOUS = "security-anonymous"
SECURITY_REQUIRED = "security-required"
SECURITY_SCHEMES = "security-schemes"
TRUNCATED = "comparison-truncated"

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# DRF serves these for every view without a schema saying so; drf-spectacular leaves them out.
_IMPLICIT_METHODS = frozenset({"head", "options"})
# Answered by DRF itself (validation, authentication, permissions, get_object_or_404, method and
# media type negotiation, throttling), documented or not.
IMPLICIT_STATUS_CODES = frozenset({"400", "401", "403", "404", "405", "406", "415", "429"})
# Header parameters OpenAPI itself says are ignored when described as parameters.
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
# String formats that change what a value may be; others (and number formats) are spellings.
_STRING_FORMATS = frozenset(
    {"date", "date-time", "time", "duration", "uuid", "email", "uri", "ipv4", "ipv6", "binary", "byte", "decimal"}
)
_FORMAT_SPELLINGS = {"datetime": "date-time", "url": "uri", "ip": "ipv4"}
_SUCCESS_PREFIX = "2"
_MAX_LISTED = 8  # values named in one description (enums, media types)
_MAX_REF_CHAIN = 32


@dataclass(frozen=True, slots=True)
class DriftLimits:
    max_depth: int = 64  # schema nesting followed (objects in objects, items of items, ...)
    max_comparisons: int = 200_000  # schema pairs compared in all
    max_items: int = 5_000  # drift items returned


@dataclass(frozen=True, slots=True)
class Drift:
    kind: str
    operation: str  # "GET /orders/{id}" as the pasted document spells it; "" for the whole API
    description: str
    pasted: str  # JSON pointer in the pasted document
    generated: str  # JSON pointer in the generated document

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "operation": self.operation,
            "description": self.description,
            "pasted": self.pasted,
            "generated": self.generated,
        }


class _Stop(Exception):
    """A limit was reached: no more comparisons."""


def pointer(*tokens: str | int) -> str:
    """A JSON pointer from unescaped tokens."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class _Document:
    def __init__(self, root: Any) -> None:
        self.root: dict[str, Any] = root if isinstance(root, dict) else {}

    def at(self, ptr: str) -> Any:
        node: Any = self.root
        if ptr == "":
            return node
        for raw in ptr.split("/")[1:]:
            token = _unescape(raw)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node

    def resolve(self, node: Any, ptr: str) -> tuple[Any, str]:
        """Follow `$ref`s (local ones) to the node they name; an unresolvable one gives None."""
        for _ in range(_MAX_REF_CHAIN):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, ptr
            ref = node["$ref"]
            if not ref.startswith("#"):
                return None, ptr  # external: not followed
            ptr = ref[1:]
            node = self.at(ptr)
        return None, ptr

    def base_path(self) -> str:
        """The path part of the first server's URL (variables at their defaults), without the last '/'."""
        servers = self.root.get("servers")
        if not (isinstance(servers, list) and servers and isinstance(servers[0], dict)):
            return ""
        url = servers[0].get("url")
        if not isinstance(url, str):
            return ""
        variables = servers[0].get("variables")
        if isinstance(variables, dict):
            for name, spec in variables.items():
                if isinstance(spec, dict) and isinstance(spec.get("default"), str):
                    url = url.replace("{" + str(name) + "}", spec["default"])
        try:
            path = urlsplit(url).path if "//" in url else url
        except ValueError:
            return ""
        return _clean_path(path)


def _clean_path(path: str) -> str:
    parts = [part for part in path.split("/") if part]
    return "/" + "/".join(parts) if parts else ""


def path_key(path: str) -> str:
    """A path as compared: parameter names dropped (`{}`), no trailing or doubled slashes."""
    out = []
    depth = 0
    for char in _clean_path(path) or "/":
        if char == "{":
            depth += 1
            if depth == 1:
                out.append("{}")
        elif char == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(char)
    return "".join(out)


@dataclass(slots=True)
class _Operation:
    method: str
    path: str
    ptr: str
    node: dict[str, Any]
    item: dict[str, Any]
    item_ptr: str

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _operations(doc: _Document) -> list[_Operation]:
    paths = doc.root.get("paths")
    found: list[_Operation] = []
    if not isinstance(paths, dict):
        return found
    for path, raw_item in paths.items():
        item_ptr = pointer("paths", str(path))
        item, resolved_ptr = doc.resolve(raw_item, item_ptr)
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            node = item.get(method)
            if isinstance(node, dict):
                found.append(_Operation(method, str(path), resolved_ptr + pointer(method), node, item, resolved_ptr))
    return found


@dataclass(slots=True)
class _Shape:
    """What a schema says, with $ref, allOf and nullable unions worked out."""

    ptr: str
    types: frozenset[str] = frozenset()
    nullable: bool = False
    format: str | None = None
    enum: frozenset[Any] | None = None
    properties: dict[str, tuple[Any, str]] = field(default_factory=dict)
    properties_ptr: str = ""
    required: set[str] = field(default_factory=set)
    items: tuple[Any, str] | None = None
    values: tuple[Any, str] | None = None  # additionalProperties as a schema: a map's values
    open_ended: bool = False  # `additionalProperties: true` said outright: any other field is allowed
    read_only: bool = False
    write_only: bool = False
    opaque: bool = False  # a union DRF cannot describe: nothing beneath it is compared


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


class _Comparison:
    def __init__(self, pasted: Any, generated: Any, limits: DriftLimits) -> None:
        self.p = _Document(pasted)
        self.g = _Document(generated)
        self.limits = limits
        self.items: list[Drift] = []
        self.compared = 0
        self.seen: set[tuple[str, str, str]] = set()
        self.truncated = False

    # --- output ------------------------------------------------------------------------------

    def add(self, kind: str, operation: str, description: str, pasted: str, generated: str) -> None:
        if len(self.items) >= self.limits.max_items:
            self.stop(f"more than {self.limits.max_items} differences (max_items)")
        self.items.append(Drift(kind, operation, description, pasted, generated))

    def stop(self, why: str) -> None:
        if not self.truncated:
            self.truncated = True
            self.items.append(Drift(TRUNCATED, "", f"comparison stopped: {why}", "", ""))
        raise _Stop

    # --- the whole API -------------------------------------------------------------------------

    def run(self) -> list[Drift]:
        try:
            self.compare_operations()
            self.compare_schemes()
        except _Stop:
            pass
        except RecursionError:
            self.truncated = True
            self.items.append(Drift(TRUNCATED, "", "comparison stopped: nesting too deep", "", ""))
        return self.items

    def compare_operations(self) -> None:
        p_base, g_base = self.p.base_path(), self.g.base_path()
        generated: dict[tuple[str, str], _Operation] = {}
        bare: dict[tuple[str, str], _Operation] = {}
        for op in _operations(self.g):
            generated.setdefault((op.method, path_key(g_base + op.path)), op)
            bare.setdefault((op.method, path_key(op.path)), op)
        matched: set[str] = set()
        for op in _operations(self.p):
            full = (op.method, path_key(p_base + op.path))
            other = generated.get(full) or bare.get(full) or bare.get((op.method, path_key(op.path)))
            if other is None:
                if op.method not in _IMPLICIT_METHODS:
                    where = self._nearest_path(op, generated, bare)
                    self.add(OPERATION_MISSING, op.label, f"{op.label} is not served", op.ptr, where)
                continue
            matched.add(other.ptr)
            self.compare_operation(op, other)
        for op in _operations(self.g):
            if op.ptr not in matched and not _is_schema_view(op):
                self.add(
                    OPERATION_EXTRA, op.label, f"{op.label} is served but not in the pasted document", "/paths", op.ptr
                )

    def _nearest_path(self, op: _Operation, *indexes: dict[tuple[str, str], _Operation]) -> str:
        """The generated path item of the same path (another method), else /paths."""
        key = path_key(op.path)
        for index in indexes:
            for (_method, other_key), other in index.items():
                if other_key == key:
                    return other.item_ptr
        return "/paths"

    def compare_operation(self, p: _Operation, g: _Operation) -> None:
        self.compare_parameters(p, g)
        self.compare_request(p, g)
        self.compare_responses(p, g)
        self.compare_security(p, g)

    # --- parameters --------------------------------------------------------------------------

    def _parameters(self, doc: _Document, op: _Operation) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
        """(in, name) -> (parameter, pointer of its entry); path parameters by position ("#0", ...)."""
        merged: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        for owner, owner_ptr in ((op.item, op.item_ptr), (op.node, op.ptr)):  # the operation's win
            listed = owner.get("parameters")
            if not isinstance(listed, list):
                continue
            for index, raw in enumerate(listed):
                entry_ptr = owner_ptr + pointer("parameters", index)
                param, _ = doc.resolve(raw, entry_ptr)
                if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                    continue
                where = str(param.get("in", ""))
                name = param["name"]
                if where == "header" and name.lower() in _IGNORED_HEADERS:
                    continue
                merged[(where, name.lower() if where == "header" else name)] = (param, entry_ptr)
        names = _path_parameter_names(op.path)
        positional: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        for key, value in merged.items():
            if key[0] == "path" and key[1] in names:
                positional[("path", f"#{names.index(key[1])}")] = value
            elif key[0] != "path":
                positional[key] = value
        return positional

    def compare_parameters(self, p: _Operation, g: _Operation) -> None:
        ours, theirs = self._parameters(self.p, p), self._parameters(self.g, g)
        for key, (param, ptr) in ours.items():
            label = _parameter_label(key, param)
            if key not in theirs:
                self.add(PARAMETER_MISSING, p.label, f"{label} is not accepted", ptr, g.ptr)
                continue
            other, other_ptr = theirs[key]
            if key[0] != "path" and bool(param.get("required")) != bool(other.get("required")):
                said = "required" if param.get("required") else "optional"
                made = "required" if other.get("required") else "optional"
                self.add(
                    PARAMETER_REQUIRED,
                    p.label,
                    f"{label} is {said} in the pasted document, {made} when generated",
                    ptr,
                    other_ptr,
                )
            p_shape = self.shape(self.p, param.get("schema"), ptr + "/schema", 0)
            g_shape = self.shape(self.g, other.get("schema"), other_ptr + "/schema", 0)
            if p_shape.types and g_shape.types and p_shape.types != g_shape.types:
                self.add(
                    PARAMETER_TYPE,
                    p.label,
                    f"{label} is {_types(p_shape)} in the pasted document, {_types(g_shape)} when generated",
                    p_shape.ptr,
                    g_shape.ptr,
                )
        for key, (param, ptr) in theirs.items():
            if key not in ours:
                self.add(
                    PARAMETER_EXTRA,
                    p.label,
                    f"{_parameter_label(key, param)} is accepted but not in the pasted document",
                    p.ptr,
                    ptr,
                )

    # --- bodies ------------------------------------------------------------------------------

    def _content(self, doc: _Document, holder: Any, ptr: str) -> tuple[dict[str, Any], str]:
        node, node_ptr = doc.resolve(holder, ptr)
        if not isinstance(node, dict) or not isinstance(node.get("content"), dict):
            return {}, node_ptr
        return node["content"], node_ptr + "/content"

    def compare_request(self, p: _Operation, g: _Operation) -> None:
        p_content, p_ptr = self._content(self.p, p.node.get("requestBody"), p.ptr + "/requestBody")
        g_content, g_ptr = self._content(self.g, g.node.get("requestBody"), g.ptr + "/requestBody")
        if p_content and not g_content:
            self.add(REQUEST_BODY_MISSING, p.label, "the request body is not read", p_ptr, g.ptr)
            return
        if g_content and not p_content:
            self.add(
                REQUEST_BODY_EXTRA,
                p.label,
                "a request body is read that the pasted document does not describe",
                p.ptr,
                g_ptr,
            )
            return
        self.compare_media(p.label, "request", p_content, p_ptr, g_content, g_ptr)

    def compare_media(
        self, label: str, direction: str, p_content: dict[str, Any], p_ptr: str, g_content: dict[str, Any], g_ptr: str
    ) -> None:
        """Media types the pasted document lists must be there; the schemas of the first shared one
        (JSON first) are compared."""
        offered = {_media(m) for m in g_content}
        for media in [m for m in p_content if _media(m) not in offered][:_MAX_LISTED]:
            doing = "accepted" if direction == "request" else "produced"
            self.add(
                MEDIA_TYPE_MISSING,
                label,
                f"the {direction} media type {media} is not {doing} (only {_listed(list(g_content))})",
                p_ptr + pointer(media),
                g_ptr,
            )
        shared = [
            media for media in sorted(p_content, key=_json_first) if _media(media) in {_media(m) for m in g_content}
        ]
        if not shared:
            return
        p_media = shared[0]
        g_media = next(m for m in g_content if _media(m) == _media(p_media))
        p_node, g_node = p_content[p_media], g_content[g_media]
        if not (isinstance(p_node, dict) and isinstance(g_node, dict)):
            return
        if "schema" not in p_node or "schema" not in g_node:
            return
        self.compare_schema(
            label,
            direction,
            p_node["schema"],
            p_ptr + pointer(p_media, "schema"),
            g_node["schema"],
            g_ptr + pointer(g_media, "schema"),
            "",
            0,
        )

    # --- responses ---------------------------------------------------------------------------

    def compare_responses(self, p: _Operation, g: _Operation) -> None:
        p_all = p.node.get("responses") if isinstance(p.node.get("responses"), dict) else {}
        g_all = g.node.get("responses") if isinstance(g.node.get("responses"), dict) else {}
        p_codes = {str(code).upper(): code for code in p_all if str(code) != "default"}
        g_codes = {str(code).upper(): code for code in g_all if str(code) != "default"}
        p_ptr, g_ptr = p.ptr + "/responses", g.ptr + "/responses"

        def at(codes: dict[str, Any], code: str, base: str) -> str:
            return base + pointer(codes[code])

        def compare(p_code: str, g_code: str) -> None:
            self.compare_response(
                p.label,
                p_all[p_codes[p_code]],
                at(p_codes, p_code, p_ptr),
                g_all[g_codes[g_code]],
                at(g_codes, g_code, g_ptr),
            )

        for code in p_codes:
            other = _covering(code, g_codes)
            if other is not None:
                compare(code, other)
        p_left = [c for c in p_codes if _covering(c, g_codes) is None and c not in IMPLICIT_STATUS_CODES]
        g_left = [c for c in g_codes if _covering(c, p_codes) is None and c not in IMPLICIT_STATUS_CODES]
        p_success = [c for c in p_left if c.startswith(_SUCCESS_PREFIX)]
        g_success = [c for c in g_left if c.startswith(_SUCCESS_PREFIX)]
        if len(p_success) == 1 and len(g_success) == 1:
            # One success code for another (201 for 200): one difference, and their bodies compared.
            said, made = p_success[0], g_success[0]
            self.add(
                STATUS_CODE,
                p.label,
                f"answers {made} where the pasted document says {said}",
                at(p_codes, said, p_ptr),
                at(g_codes, made, g_ptr),
            )
            compare(said, made)
            p_left.remove(said)
            g_left.remove(made)
        for code in p_left:
            self.add(STATUS_MISSING, p.label, f"never answers {code}", at(p_codes, code, p_ptr), g_ptr)
        for code in g_left:
            self.add(
                STATUS_EXTRA,
                p.label,
                f"answers {code}, which the pasted document does not list",
                p_ptr,
                at(g_codes, code, g_ptr),
            )

    def compare_response(self, label: str, p_raw: Any, p_ptr: str, g_raw: Any, g_ptr: str) -> None:
        p_content, p_cptr = self._content(self.p, p_raw, p_ptr)
        g_content, g_cptr = self._content(self.g, g_raw, g_ptr)
        p_body = any(isinstance(m, dict) and "schema" in m for m in p_content.values())
        g_body = any(isinstance(m, dict) and "schema" in m for m in g_content.values())
        if p_body and not g_body:
            self.add(
                RESPONSE_BODY_MISSING,
                label,
                "the response has no body where the pasted document has one",
                p_cptr,
                g_ptr,
            )
        elif g_body and not p_body:
            self.add(
                RESPONSE_BODY_EXTRA,
                label,
                "the response has a body the pasted document does not describe",
                p_ptr,
                g_cptr,
            )
        elif p_body:
            self.compare_media(label, "response", p_content, p_cptr, g_content, g_cptr)

    # --- security ----------------------------------------------------------------------------

    def _security(self, doc: _Document, op: _Operation) -> tuple[list[Any], str]:
        if isinstance(op.node.get("security"), list):
            return op.node["security"], op.ptr + "/security"
        top = doc.root.get("security")
        return (top, "/security") if isinstance(top, list) else ([], op.ptr)

    def compare_security(self, p: _Operation, g: _Operation) -> None:
        p_req, p_ptr = self._security(self.p, p)
        g_req, g_ptr = self._security(self.g, g)
        p_anonymous = not p_req or any(isinstance(r, dict) and not r for r in p_req)
        g_anonymous = not g_req or any(isinstance(r, dict) and not r for r in g_req)
        if g_anonymous and not p_anonymous:
            self.add(
                SECURITY_ANONYMOUS,
                p.label,
                "admits anonymous callers where the pasted document requires authentication",
                p_ptr,
                g_ptr,
            )
        elif p_anonymous and not g_anonymous:
            self.add(
                SECURITY_REQUIRED,
                p.label,
                "requires authentication where the pasted document admits anonymous callers",
                p_ptr,
                g_ptr,
            )

    def compare_schemes(self) -> None:
        """The kinds of scheme the operations use (bearer, basic, API key in a header, ...): once."""
        p_kinds, g_kinds = self._scheme_kinds(self.p), self._scheme_kinds(self.g)
        missing = {kind: ptr for kind, ptr in p_kinds.items() if kind not in g_kinds}
        for kind, ptr in sorted(missing.items()):
            offered = _listed(sorted(g_kinds)) if g_kinds else "none"
            self.add(
                SECURITY_SCHEMES,
                "",
                f"{kind} authentication is not offered (the generated project offers {offered})",
                ptr,
                "/components/securitySchemes" if g_kinds else "",
            )

    def _scheme_kinds(self, doc: _Document) -> dict[str, str]:
        components = doc.root.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
        if not isinstance(schemes, dict):
            return {}
        used: set[str] = set()
        requirements = [doc.root.get("security")] + [op.node.get("security") for op in _operations(doc)]
        for listed in requirements:
            if isinstance(listed, list):
                used |= {str(name) for req in listed if isinstance(req, dict) for name in req}
        kinds: dict[str, str] = {}
        for name in sorted(used):
            scheme, ptr = doc.resolve(schemes.get(name), pointer("components", "securitySchemes", name))
            if isinstance(scheme, dict):
                kinds.setdefault(_scheme_kind(scheme), ptr)
        return kinds

    # --- schemas -----------------------------------------------------------------------------

    def shape(self, doc: _Document, raw: Any, ptr: str, depth: int) -> _Shape:
        node, node_ptr = doc.resolve(raw, ptr)
        shape = _Shape(ptr=node_ptr, properties_ptr=node_ptr)
        if isinstance(raw, dict):
            shape.read_only = raw.get("readOnly") is True
            shape.write_only = raw.get("writeOnly") is True
            shape.nullable = raw.get("nullable") is True
        self._fill(doc, shape, node, node_ptr, depth, set())
        return shape

    def _fill(self, doc: _Document, shape: _Shape, node: Any, ptr: str, depth: int, visiting: set[str]) -> None:
        if not isinstance(node, dict) or ptr in visiting or len(visiting) > self.limits.max_depth:
            return
        visiting = visiting | {ptr}
        shape.read_only |= node.get("readOnly") is True
        shape.write_only |= node.get("writeOnly") is True
        shape.nullable |= node.get("nullable") is True
        kind = node.get("type")
        types = (
            {kind}
            if isinstance(kind, str)
            else {t for t in kind if isinstance(t, str)}
            if isinstance(kind, list)
            else set()
        )
        if "null" in types:
            shape.nullable = True
            types.discard("null")
        if isinstance(node.get("enum"), list):
            values = {_hashable(v) for v in node["enum"]}
            if None in values:
                shape.nullable = True
            values -= {None, ""}
            shape.enum = frozenset(values) if shape.enum is None else shape.enum & values
            if not types:
                types = {_json_type(v) for v in values}
        if not types:
            if isinstance(node.get("properties"), dict) or isinstance(node.get("additionalProperties"), dict):
                types = {"object"}
            elif "items" in node:
                types = {"array"}
        if types:
            shape.types = frozenset(types) if not shape.types else shape.types & frozenset(types) or frozenset(types)
        if isinstance(node.get("format"), str):
            shape.format = _FORMAT_SPELLINGS.get(node["format"].lower(), node["format"].lower())
        if isinstance(node.get("properties"), dict):
            shape.properties_ptr = ptr + "/properties"
            for name, sub in node["properties"].items():
                shape.properties.setdefault(str(name), (sub, ptr + pointer("properties", str(name))))
        if isinstance(node.get("required"), list):
            shape.required |= {str(name) for name in node["required"]}
        if "items" in node:
            shape.items = (node["items"], ptr + "/items")
        if isinstance(node.get("additionalProperties"), dict) and node["additionalProperties"]:
            shape.values = (node["additionalProperties"], ptr + "/additionalProperties")
        if node.get("additionalProperties") is True or node.get("additionalProperties") == {}:
            shape.open_ended = True
        if isinstance(node.get("allOf"), list):
            for index, branch in enumerate(node["allOf"]):
                sub, sub_ptr = doc.resolve(branch, ptr + pointer("allOf", index))
                self._fill(doc, shape, sub, sub_ptr, depth + 1, visiting)
        for union in ("oneOf", "anyOf"):
            if isinstance(node.get(union), list):
                self._union(doc, shape, node[union], ptr + pointer(union), depth, visiting)

    def _union(
        self, doc: _Document, shape: _Shape, branches: list[Any], ptr: str, depth: int, visiting: set[str]
    ) -> None:
        """Enums (drf-spectacular's StatusEnum | BlankEnum | NullEnum) and `X | null` are understood;
        any other union is opaque."""
        resolved = [doc.resolve(branch, ptr + pointer(index)) for index, branch in enumerate(branches)]
        nulls = [
            (node, p)
            for node, p in resolved
            if isinstance(node, dict)
            and (
                node.get("type") == "null"
                or (isinstance(node.get("enum"), list) and all(v in (None, "") for v in node["enum"]))
            )
        ]
        rest = [(node, p) for node, p in resolved if all(p != q for _, q in nulls)]
        if any(node.get("type") == "null" or None in node.get("enum", ()) for node, _ in nulls):
            shape.nullable = True
        if len(rest) == 1:
            self._fill(doc, shape, rest[0][0], rest[0][1], depth + 1, visiting)
        elif rest and all(isinstance(node, dict) and isinstance(node.get("enum"), list) for node, _ in rest):
            for node, _ in rest:
                values = {_hashable(v) for v in node["enum"]} - {None, ""}
                shape.enum = frozenset(values) | (shape.enum or frozenset())
                if isinstance(node.get("type"), str):
                    shape.types = shape.types | {node["type"]}
        elif rest:
            shape.opaque = True

    def compare_schema(
        self, label: str, direction: str, p_raw: Any, p_ptr: str, g_raw: Any, g_ptr: str, where: str, depth: int
    ) -> None:
        """Compare two schemas; `where` names the place in the body: "" (the body), "lines[].sku", "tags{}"."""
        what = _describe(direction, where)
        if depth > self.limits.max_depth:
            self.add(
                TRUNCATED,
                label,
                f"{what} nests deeper than {self.limits.max_depth} levels (max_depth); not compared further",
                p_ptr,
                g_ptr,
            )
            return
        p_shape = self.shape(self.p, p_raw, p_ptr, depth)
        g_shape = self.shape(self.g, g_raw, g_ptr, depth)
        key = (p_shape.ptr, g_shape.ptr, direction)
        if key in self.seen:
            return
        self.seen.add(key)
        self.compared += 1
        if self.compared > self.limits.max_comparisons:
            self.stop(f"more than {self.limits.max_comparisons} schemas compared (max_comparisons)")
        if p_shape.opaque or g_shape.opaque:
            return
        if p_shape.types and g_shape.types and p_shape.types != g_shape.types:
            self.add(
                FIELD_TYPE,
                label,
                f"{what} is {_types(p_shape)} in the pasted document, {_types(g_shape)} when generated",
                p_shape.ptr,
                g_shape.ptr,
            )
            return
        if p_shape.types and p_shape.nullable != g_shape.nullable:
            said = "may be null" if p_shape.nullable else "is never null"
            made = "may be null" if g_shape.nullable else "is never null"
            self.add(
                FIELD_NULLABLE,
                label,
                f"{what} {said} in the pasted document, {made} when generated",
                p_shape.ptr,
                g_shape.ptr,
            )
        if p_shape.format in _STRING_FORMATS and p_shape.format != g_shape.format and "string" in p_shape.types:
            self.add(
                FIELD_FORMAT,
                label,
                f"{what} has format {p_shape.format} in the pasted document, {g_shape.format or 'none'} when generated",
                p_shape.ptr,
                g_shape.ptr,
            )
        if p_shape.enum is not None and p_shape.enum != g_shape.enum:
            if g_shape.enum is None:
                text = f"{what} takes any value when generated; the pasted document allows only {_listed(sorted(map(str, p_shape.enum)))}"
            else:
                lost = sorted(map(str, p_shape.enum - g_shape.enum))
                more = sorted(map(str, g_shape.enum - p_shape.enum))
                text = (
                    f"{what}'s values differ:"
                    + (f" not accepted {_listed(lost)}" if lost else "")
                    + (f"; added {_listed(more)}" if more else "")
                )
            self.add(FIELD_ENUM, label, text, p_shape.ptr, g_shape.ptr)
        if p_shape.properties or g_shape.properties:
            self.compare_properties(label, direction, p_shape, g_shape, where, depth)
        if p_shape.items is not None and g_shape.items is not None:
            self.compare_schema(label, direction, *p_shape.items, *g_shape.items, f"{where}[]", depth + 1)
        if p_shape.values is not None and g_shape.values is not None:
            self.compare_schema(label, direction, *p_shape.values, *g_shape.values, f"{where}{{}}", depth + 1)

    def compare_properties(self, label: str, direction: str, p: _Shape, g: _Shape, where: str, depth: int) -> None:
        p_fields = dict(self._fields(self.p, p, direction, depth))
        g_fields = dict(self._fields(self.g, g, direction, depth))

        def child(name: str) -> str:
            return f"{where}.{name}" if where else name

        for name, (raw, ptr) in p_fields.items():
            field_label = _describe(direction, child(name))
            if name not in g_fields:
                self.add(
                    FIELD_MISSING,
                    label,
                    f"{field_label} is not {'read' if direction == 'request' else 'sent'}",
                    ptr,
                    g.properties_ptr,
                )
                continue
            g_raw, g_ptr = g_fields[name]
            p_required, g_required = name in p.required, name in g.required
            # A response field always sent where the pasted document allows it to be absent keeps the contract.
            if p_required != g_required and (direction == "request" or p_required):
                said = "required" if p_required else "optional"
                made = "required" if g_required else "optional"
                self.add(
                    FIELD_REQUIRED,
                    label,
                    f"{field_label} is {said} in the pasted document, {made} when generated",
                    ptr,
                    g_ptr,
                )
            self.compare_schema(label, direction, raw, ptr, g_raw, g_ptr, child(name), depth + 1)
        for name, (_raw, ptr) in g_fields.items():
            if name not in p_fields and not p.open_ended:
                field_label = _describe(direction, child(name))
                self.add(
                    FIELD_EXTRA,
                    label,
                    f"{field_label} is not in the pasted document",
                    p.properties_ptr,
                    ptr,
                )

    def _fields(
        self, doc: _Document, shape: _Shape, direction: str, depth: int
    ) -> Iterator[tuple[str, tuple[Any, str]]]:
        """Properties as the direction sees them: no read-only ones in requests, no write-only in responses."""
        for name, (raw, ptr) in shape.properties.items():
            sub = self.shape(doc, raw, ptr, depth + 1)
            if (direction == "request" and sub.read_only) or (direction == "response" and sub.write_only):
                continue
            yield name, (raw, ptr)


def _is_schema_view(op: _Operation) -> bool:
    """drf-spectacular's own view of the document (SpectacularAPIView), which a project serves
    beside the API: it answers in the OpenAPI media type."""
    responses = op.node.get("responses")
    if op.method != "get" or not isinstance(responses, dict):
        return False
    return any(
        isinstance(response, dict)
        and isinstance(response.get("content"), dict)
        and "application/vnd.oai.openapi" in response["content"]
        for response in responses.values()
    )


def _covering(code: str, codes: dict[str, Any]) -> str | None:
    """The code among `codes` that stands for `code`: itself, or its range (2XX), or a code in its range."""
    if code in codes:
        return code
    if len(code) == 3 and code[1:] == "XX":
        return next((c for c in codes if c[0] == code[0]), None)
    return next((c for c in codes if len(c) == 3 and c[1:] == "XX" and c[0] == code[0]), None)


def _path_parameter_names(path: str) -> list[str]:
    names = []
    rest = path
    while "{" in rest and "}" in rest.split("{", 1)[1]:
        inside, rest = rest.split("{", 1)[1].split("}", 1)
        names.append(inside)
    return names


def _parameter_label(key: tuple[str, str], param: dict[str, Any]) -> str:
    return f"{key[0]} parameter {param.get('name')}"


def _media(media: str) -> str:
    return media.split(";", 1)[0].strip().lower()


def _json_first(media: str) -> tuple[int, str]:
    base = _media(media)
    return (0 if base == "application/json" or base.endswith("+json") else 1, base)


def _describe(direction: str, where: str) -> str:
    return f"the {direction} body" if not where else f"{direction} field {where}"


def _listed(values: list[str]) -> str:
    shown = ", ".join(values[:_MAX_LISTED])
    return shown + (f" and {len(values) - _MAX_LISTED} more" if len(values) > _MAX_LISTED else "")


def _types(shape: _Shape) -> str:
    return " or ".join(sorted(shape.types))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _scheme_kind(scheme: dict[str, Any]) -> str:
    kind = str(scheme.get("type", ""))
    if kind == "http":
        return f"HTTP {str(scheme.get('scheme', '')).lower()}"
    if kind == "apiKey":
        return f"API key in a {scheme.get('in', '')}"
    return kind


def find_drift(pasted: Any, generated: Any, *, limits: DriftLimits | None = None) -> list[Drift]:
    """The differences between the pasted OpenAPI document and the generated one (both parsed
    JSON), in the order the pasted document's operations come, then the generated ones' extras,
    then the security schemes."""
    return _Comparison(pasted, generated, limits or DriftLimits()).run()
