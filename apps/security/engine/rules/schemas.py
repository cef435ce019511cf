"""Rules on every object of the document, where it is written: schema bounds (OWASP API4),
objects open to additional properties (API3), credentials in URLs (API2) and response headers
without CORS (API8). The same walk hands back every `responses` object for the operation rules."""

from __future__ import annotations

import re
import re._parser as regex_parser
from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

from apps.designs.engine.structured import escape_pointer_part, unescape_pointer_part
from apps.security.engine.reporter import SKIP_KEYS, Review
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
            if not isinstance(param, dict):
                continue
            place, name = param.get("in"), param.get("name")  # each read once (every operation's parameters)
            if (
                isinstance(place, str)
                and ("query" in place or "path" in place)
                and isinstance(name, str)
                and credential_name(name)
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
        review.hit(
            "sec.api8.cors-origin",
            f"{ptr}/headers",
            headers,
            "These response headers do not include Access-Control-Allow-Origin.",
        )


# What the per-object schema checks report: (rule, message).
_ARRAY_LIMIT = ("sec.api4.array-limit", "This array schema sets no maxItems.")
_STRING_LIMIT = ("sec.api4.string-limit", "This string schema sets no maxLength, enum or const.")
_STRING_RESTRICTED = ("sec.api4.string-restricted", "This string schema sets no format, pattern, enum or const.")
_INTEGER_LIMIT = ("sec.api4.integer-limit", "This integer schema lacks a minimum or a maximum.")
_INTEGER_FORMAT = ("sec.api4.integer-format", "This integer schema sets no format.")
# The types of a schema object with one type that a check below asks about.
_STRING = frozenset({"string"})
_INTEGER = frozenset({"integer"})
_ARRAY = frozenset({"array"})


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


class _Walked(NamedTuple):
    """What `_walk` gathers for the rules."""

    pointers: list[str]  # where each of `objects` is written
    objects: list[dict[str, Any]]  # those with a type, parameters or headers, in walk order
    responses: list[tuple[str, dict[str, Any], dict[str, Any]]]  # see `schema_rules`
    request_schemas: frozenset[str]  # see `_request_schemas`


_CONTAINERS = frozenset({dict, list})


def _walk(data: Any) -> _Walked:
    """One walk of the document, as `reporter.walk` makes it (every dict where it is written,
    depth first, examples and extensions not entered), gathering on its way what the rules here
    look at: the objects with a type, parameters or headers, the `responses` objects under
    /paths, and the `$ref`s to component schemas that `_request_schemas` follows."""
    # Made for Microsoft Graph's 211,875 objects: two flat lists rather than (pointer, object)
    # pairs (a hundred thousand pairs made at once set off the cyclic collector many times
    # over), and each object's keys looked at here, once, rather than on a second pass.
    pointers: list[str] = []
    objects: list[dict[str, Any]] = []
    add_pointer = pointers.append
    add_object = objects.append
    responses_objects: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    roots: set[str] = set()  # component schemas a request body or parameter refers to
    refers: dict[str, set[str]] = {}  # component schema -> those its objects refer to
    containers = _CONTAINERS
    # $ref -> the component schema it names (None: not one); a large API repeats a few thousand refs.
    targets: dict[str, str | None] = {}
    # member name -> its part of a pointer (see `_pointer_part`): a document repeats a few
    # thousand names (`properties`, `type`, `items`...) over hundreds of thousands of members,
    # so each is looked at and escaped once.
    parts: dict[str, str | None] = {}
    # The pointers and the nodes still to visit, as two stacks rather than one of pairs: a pair
    # made and unpacked for each of a large API's hundreds of thousands of containers costs more.
    pending: list[str] = [""]
    nodes: list[Any] = [data]
    push_pointer = pending.append
    push = nodes.append
    pop_pointer = pending.pop
    pop = nodes.pop
    while nodes:
        node = pop()
        ptr = pop_pointer()
        if type(node) is dict:
            # What `_walk` looks at in an object: a type (the bounds and additional properties),
            # parameters or headers (`_node_rules`), responses (handed back), or a `$ref`
            # (`_request_schemas`). Each asked by itself: cheaper than one test of every key
            # against a set of these, since most objects have a type, asked first.
            if "type" in node or "parameters" in node or "headers" in node:
                add_pointer(ptr)
                add_object(node)
            if "responses" in node and type(node["responses"]) is dict and ptr.startswith("/paths/"):
                responses_objects.append((f"{ptr}/responses", node["responses"], node))
            if "$ref" in node:
                ref = node["$ref"]
                if type(ref) is str:
                    if ref in targets:
                        target = targets[ref]
                    else:
                        target = targets[ref] = (
                            unescape_pointer_part(ref.split("/", 4)[3])
                            if ref.startswith("#/components/schemas/")
                            else None
                        )
                    if target is not None:
                        if ptr.startswith("/components/schemas/"):
                            # The component's name, as `_request_side` slices it out; its set
                            # made only for its first $ref.
                            end = ptr.find("/", 20)
                            schema = ptr[20:] if end < 0 else ptr[20:end]
                            if "~" in schema:
                                schema = unescape_pointer_part(schema)
                            if schema in refers:
                                refers[schema].add(target)
                            else:
                                refers[schema] = {target}
                        elif (  # as `_request_side(ptr, frozenset())`, without the call
                            "/requestBody" in ptr
                            or "/parameters/" in ptr
                            or ptr.startswith(("/components/requestBodies/", "/components/parameters/"))
                        ):
                            roots.add(target)
            for key, value in node.items():
                inner = type(value)
                # Most lists (enums, required names) hold only scalars: told apart here, without a
                # Python loop, and not visited.
                if inner is dict or (inner is list and not containers.isdisjoint(map(type, value))):
                    if key in parts:
                        name = parts[key]
                    else:
                        name = _pointer_part(key)
                        if type(key) is str:  # a YAML key (1, True) may equal another (True, 1.0)
                            parts[key] = name
                    if name is not None:
                        push_pointer(f"{ptr}/{name}")
                        push(value)
        elif type(node) is list:
            for index, value in enumerate(node):
                inner = type(value)
                if inner is dict or (inner is list and not containers.isdisjoint(map(type, value))):
                    push_pointer(f"{ptr}/{index}")
                    push(value)
    return _Walked(pointers, objects, responses_objects, _request_schemas(roots, refers))


def _pointer_part(key: Any) -> str | None:
    """A member's part of a JSON pointer, escaped; None for a member `_walk` does not enter
    (examples and extensions)."""
    name = key if type(key) is str else str(key)
    if key in SKIP_KEYS or name.startswith("x-"):
        return None
    return name.replace("~", "~0").replace("/", "~1") if "~" in name or "/" in name else name


def _request_schemas(roots: set[str], refers: dict[str, set[str]]) -> frozenset[str]:
    """Names of the component schemas a request can carry: reached through `$ref`s from request
    bodies and parameters (`roots`: under paths, webhooks and callbacks, and among the
    components), and from the schemas those reach (`refers`: what each schema's objects refer to)."""
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
        if not request_schemas:  # no request carries a component schema
            return False
        # The component's name: the part after the prefix (20 characters), sliced out rather
        # than split off (asked for most string, array and integer schemas of a large API).
        end = where.find("/", 20)
        name = where[20:] if end < 0 else where[20:end]
        return (unescape_pointer_part(name) if "~" in name else name) in request_schemas
    return (
        "/requestBody" in where
        or "/parameters/" in where
        or where.startswith(("/components/requestBodies/", "/components/parameters/"))
    )


def _string_limit_exemption(
    where: str, node: Mapping[str, Any], request_schemas: frozenset[str], patterns: dict[str, bool]
) -> str:
    """Why a string without maxLength, enum or const need not have one, or "". `patterns` keeps
    what `bounded_pattern` said of each pattern met (a large API repeats a few: Microsoft Graph
    writes five patterns on 612 strings, and reading one takes the regex parser about 75 us)."""
    if node.get("format") in _BOUNDED_FORMATS:
        return _EXEMPT_FORMAT
    if "pattern" in node:
        pattern = node["pattern"]
        if type(pattern) is str:
            bounded = patterns.get(pattern)
            if bounded is None:
                bounded = patterns[pattern] = bounded_pattern(pattern)
        else:
            bounded = False  # as `bounded_pattern` says of anything but a string
        if bounded:
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


def schema_rules(
    review: Review, *, data: Mapping[str, Any], oas31: bool
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The rules on every object of `data`, in walk order; returns every `responses` object under
    /paths (callbacks included) with its pointer and the operation holding it, met on the same
    walk, for the operation rules."""
    report = review.hit_once  # each object is met once
    walked = _walk(data)
    request_schemas = walked.request_schemas
    patterns: dict[str, bool] = {}  # see `_string_limit_exemption`
    for where, node in zip(walked.pointers, walked.objects, strict=True):
        if "parameters" in node or "headers" in node:
            _node_rules(review, where, node)
        kind = node.get("type")
        if kind is None:
            continue
        if type(kind) is str:
            # One type, the common case: only its own checks are asked (below, in the same order).
            if kind == "string":
                types: Collection[str] = _STRING
            elif kind == "integer":
                types = _INTEGER
            elif kind == "array":
                types = _ARRAY
            else:
                if kind == "object" and node.get("unevaluatedProperties" if oas31 else "additionalProperties"):
                    _object_rules(review, where, node, oas31=oas31)
                continue
        else:
            types = _types(node)
        if "array" in types and "maxItems" not in node:
            report(_ARRAY_LIMIT[0], where, node, _ARRAY_LIMIT[1], _array_limit_exemption(where, node, request_schemas))
        if "string" in types:
            if not ("maxLength" in node or "enum" in node or "const" in node):
                report(
                    _STRING_LIMIT[0],
                    where,
                    node,
                    _STRING_LIMIT[1],
                    _string_limit_exemption(where, node, request_schemas, patterns),
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
    return walked.responses


def _object_rules(review: Review, where: str, node: dict[str, Any], *, oas31: bool) -> None:
    keyword = "unevaluatedProperties" if oas31 else "additionalProperties"
    extra = node.get(keyword)
    if extra:
        # `hit` is `add` for these design-level rules, for less: an API may have hundreds.
        review.hit(
            "sec.api3.additional-properties",
            f"{where}/{keyword}",
            extra if type(extra) in (dict, list) else None,
            f"This object schema allows {keyword}.",
        )
        if isinstance(extra, dict) and "maxProperties" not in node:
            review.hit(
                "sec.api3.unbounded-additional-properties",
                where,
                node,
                f"Its {keyword} are not limited by maxProperties.",
            )
