"""Rules on every object of the document, where it is written: schema bounds (OWASP API4),
objects open to additional properties (API3), credentials in URLs (API2) and response headers
without CORS (API8). The same walk hands back every `responses` object for the operation rules."""

from __future__ import annotations

import re
import re._parser as regex_parser
from collections.abc import Mapping
from typing import Any

from apps.designs.engine.structured import escape_pointer_part, unescape_pointer_part
from apps.security.engine.reporter import Review, walk_having
from apps.security.engine.rules.common import credential_name


def _types(node: Mapping[str, Any]) -> set[str]:
    kind = node.get("type")
    if type(kind) is str:
        return {kind}
    if type(kind) is list:
        return {str(k) for k in kind}
    return set()


def _owner_label(ptr: str) -> str:
    """`GET /pets` for an operation's pointer (`/paths/~1pets/get`), the pointer otherwise."""
    parts = ptr.split("/")
    if len(parts) >= 4 and parts[1] == "paths":
        return f"{parts[3].upper()} {unescape_pointer_part(parts[2])}"
    if len(parts) == 3 and parts[1] == "paths":
        return unescape_pointer_part(parts[2])
    return ptr


def _node_rules(review: Review, ptr: str, node: Mapping[str, Any]) -> None:
    """Rules on every object of the document: credentials passed in URLs (any `parameters` list
    or map that is not itself a `parameters` value) and response headers without CORS."""
    if "parameters" in node and not ptr.endswith("/parameters"):
        params = node.get("parameters")
        entries = params.items() if isinstance(params, dict) else enumerate(params) if isinstance(params, list) else ()
        for key, param in entries:
            if (
                isinstance(param, dict)
                and isinstance(param.get("in"), str)
                and ("query" in param["in"] or "path" in param["in"])
                and isinstance(param.get("name"), str)
                and credential_name(param["name"])
            ):
                # One finding per credential parameter (`apiKey` in the query), each place it is
                # written (every operation repeating it inline) a location.
                at = f"{ptr}/parameters/{escape_pointer_part(str(key))}/name"
                review.add(
                    "sec.api2.credentials-in-url",
                    at,
                    f"`{param['name']}` is passed in the {param['in']}.",
                    key=f"{param['in']}:{param['name']}",
                    gather=(
                        _owner_label(ptr),
                        f"`{param['name']}` is passed in the {param['in']} by {{count}} operations: {{operations}}.",
                        review.locate(at, None),
                    ),
                )
    headers = node.get("headers")
    if type(headers) is dict and "Access-Control-Allow-Origin" not in headers:
        review.add(
            "sec.api8.cors-origin",
            f"{ptr}/headers",
            "These response headers do not include Access-Control-Allow-Origin.",
            node=headers,
        )


# What the per-object schema checks report: (rule, message).
_ARRAY_LIMIT = ("sec.api4.array-limit", "This array schema sets no maxItems.")
_STRING_LIMIT = ("sec.api4.string-limit", "This string schema sets no maxLength, enum or const.")
_STRING_RESTRICTED = ("sec.api4.string-restricted", "This string schema sets no format, pattern, enum or const.")
_INTEGER_LIMIT = ("sec.api4.integer-limit", "This integer schema lacks a minimum or a maximum.")
_INTEGER_FORMAT = ("sec.api4.integer-format", "This integer schema sets no format.")


# Why a string is not asked for a maxLength (the place stays in a suppressed finding, since
# Spectral's string-limit asks it everywhere).
_BOUNDED_FORMATS = frozenset({"date", "date-time", "time", "uuid", "ipv4", "ipv6"})
_EXEMPT_FORMAT = "its format (date, date-time, time, uuid, ipv4 or ipv6) already bounds its length."
_EXEMPT_PATTERN = "its pattern is anchored and already bounds its length."
_EXEMPT_READ_ONLY = "it is readOnly: clients never send it."
_EXEMPT_OUTPUT = "no request body or parameter reaches this schema: only the server writes it."
_LONGEST_BOUNDED_PATTERN = 1_000_000  # a pattern matching longer strings is as good as unbounded


def bounded_pattern(pattern: Any) -> bool:
    """Whether a JSON Schema `pattern` bounds the length of what it matches: anchored at both
    ends (JSON Schema patterns are not anchored by themselves) with no unbounded repetition."""
    if type(pattern) is not str or not pattern.startswith("^") or not pattern.endswith("$") or pattern.endswith("\\$"):
        return False
    try:
        _, longest = regex_parser.parse(pattern).getwidth()
    except (re.error, RecursionError, OverflowError):
        return False
    return longest < _LONGEST_BOUNDED_PATTERN


def _request_schemas(pointers: list[str], objects: list[dict[str, Any]]) -> frozenset[str]:
    """Names of the component schemas a request can carry: reached through `$ref`s from request
    bodies and parameters (under paths, webhooks and callbacks, and among the components), and
    from the schemas those reach. One pass over the document's objects (every one holding a
    `$ref` among them, `pointers` saying where each is written), then the reach."""
    roots: set[str] = set()
    refers: dict[str, set[str]] = {}  # schema name -> schema names its objects refer to
    schemas = "/components/schemas/"
    for where, node in zip(pointers, objects, strict=True):
        ref = node.get("$ref")
        if type(ref) is not str or not ref.startswith("#/components/schemas/"):
            continue
        target = unescape_pointer_part(ref.split("/", 4)[3])
        if where.startswith(schemas):
            refers.setdefault(unescape_pointer_part(where.split("/", 4)[3]), set()).add(target)
        elif _request_side(where, frozenset()):
            roots.add(target)
    reached: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending.extend(refers.get(name, ()))
    return frozenset(reached)


def _request_side(where: str, request_schemas: frozenset[str]) -> bool:
    """Whether the schema object at `where` can be part of a request (see `_request_schemas`)."""
    if where.startswith("/components/schemas/"):
        return unescape_pointer_part(where.split("/", 4)[3]) in request_schemas
    return (
        "/requestBody" in where
        or "/parameters/" in where
        or where.startswith(("/components/requestBodies/", "/components/parameters/"))
    )


def _string_limit_exemption(where: str, node: Mapping[str, Any], request_schemas: frozenset[str]) -> str:
    """Why a string without maxLength, enum or const need not have one, or ""."""
    if node.get("format") in _BOUNDED_FORMATS:
        return _EXEMPT_FORMAT
    if "pattern" in node and bounded_pattern(node["pattern"]):
        return _EXEMPT_PATTERN
    if node.get("readOnly") is True:
        return _EXEMPT_READ_ONLY
    if not _request_side(where, request_schemas):
        return _EXEMPT_OUTPUT
    return ""


_EXEMPT_OUTPUT_ARRAY = (
    "no request body or parameter reaches this array: its size is the server's choice "
    "(a list returned without paging is `unpaginated-list`'s concern)."
)


def _array_limit_exemption(where: str, node: Mapping[str, Any], request_schemas: frozenset[str]) -> str:
    """Why an array without maxItems need not have one (only the server writes it), or ""."""
    if node.get("readOnly") is True:
        return _EXEMPT_READ_ONLY
    if not _request_side(where, request_schemas):
        return _EXEMPT_OUTPUT_ARRAY
    return ""


def _output_exemption(where: str, node: Mapping[str, Any], request_schemas: frozenset[str]) -> str:
    """Why a bound is not asked of a value only the server writes (readOnly, or in no request), or ""."""
    if node.get("readOnly") is True:
        return _EXEMPT_READ_ONLY
    if not _request_side(where, request_schemas):
        return _EXEMPT_OUTPUT
    return ""


# What an object needs for a rule of `schema_rules` to look at it: a type (the bounds and
# additional properties), parameters or headers (`_node_rules`), responses (handed back), or a
# `$ref` (`_request_schemas`).
_LOOKED_AT = frozenset({"type", "parameters", "headers", "responses", "$ref"})


def schema_rules(
    review: Review, *, data: Mapping[str, Any], oas31: bool
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The rules on every object of `data`, in walk order; returns every `responses` object under
    /paths (callbacks included) with its pointer and the operation holding it, met on the same
    walk, for the operation rules."""
    report = review.hit_once  # each object is met once
    responses_objects = []
    # Only the objects some rule here looks at: the others have none of these keys.
    pointers, objects = walk_having(data, _LOOKED_AT)
    request_schemas = _request_schemas(pointers, objects)
    for where, node in zip(pointers, objects, strict=True):
        if "parameters" in node or "headers" in node:
            _node_rules(review, where, node)
        if "responses" in node and type(node["responses"]) is dict and where.startswith("/paths/"):
            responses_objects.append((f"{where}/responses", node["responses"], node))
        kind = node.get("type")
        if kind is None:
            continue
        types = (kind,) if type(kind) is str else _types(node)  # a tuple: no set per node
        if "array" in types and "maxItems" not in node:
            report(_ARRAY_LIMIT[0], where, node, _ARRAY_LIMIT[1], _array_limit_exemption(where, node, request_schemas))
        if "string" in types:
            if not ("maxLength" in node or "enum" in node or "const" in node):
                report(
                    _STRING_LIMIT[0],
                    where,
                    node,
                    _STRING_LIMIT[1],
                    _string_limit_exemption(where, node, request_schemas),
                )
            if not ("format" in node or "pattern" in node or "enum" in node or "const" in node):
                report(_STRING_RESTRICTED[0], where, node, _STRING_RESTRICTED[1])
        if "integer" in types:
            if oas31:
                bounded = (("minimum" in node) != ("exclusiveMinimum" in node)) and (
                    ("maximum" in node) != ("exclusiveMaximum" in node)
                )
            else:
                bounded = "minimum" in node and "maximum" in node
            if not bounded:
                report(
                    _INTEGER_LIMIT[0], where, node, _INTEGER_LIMIT[1], _output_exemption(where, node, request_schemas)
                )
            if "format" not in node:
                report(_INTEGER_FORMAT[0], where, node, _INTEGER_FORMAT[1])
        if kind == "object" and node.get("unevaluatedProperties" if oas31 else "additionalProperties"):
            _object_rules(review, where, node, oas31=oas31)
    return responses_objects


def _object_rules(review: Review, where: str, node: dict[str, Any], *, oas31: bool) -> None:
    keyword = "unevaluatedProperties" if oas31 else "additionalProperties"
    extra = node.get(keyword)
    if extra:
        review.add(
            "sec.api3.additional-properties",
            f"{where}/{keyword}",
            f"This object schema allows {keyword}.",
            node=extra if type(extra) in (dict, list) else None,
        )
        if isinstance(extra, dict) and "maxProperties" not in node:
            review.add(
                "sec.api3.unbounded-additional-properties",
                where,
                f"Its {keyword} are not limited by maxProperties.",
                node=node,
            )
