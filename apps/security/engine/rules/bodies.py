"""Rules on request and response bodies (privileged or URL-valued fields a caller may set,
secrets returned, errors leaking internals: API3, API7, API8), and what a parameter is worth
reporting for (an integer id, a URL, a page size without a maximum), worked out once per object."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from apps.designs.engine.model import ApiDocument, SourceRef
from apps.designs.engine.privileged import PRIVILEGED_FIELDS, SECRET_FIELDS
from apps.designs.engine.structured import escape_pointer_part, pointer, resolve_pointer
from apps.security.engine.reporter import Review
from apps.security.engine.rules.common import deref, each_operation, name_facts

_PRIVILEGED = PRIVILEGED_FIELDS
_SECRET_FIELDS = SECRET_FIELDS
# Card numbers are secrets only where payments are: the operation, the schema or a sibling says so.
_CARD_FIELDS = frozenset({"card_number", "pan"})
_PAYMENT_WORDS = re.compile(
    r"pay|card|billing|checkout|charge|wallet|invoice|purchase|transaction|order", re.IGNORECASE
)
_OTHER_CARDS = re.compile(
    r"(?:library|loyalty|member(?:ship)?|gift|reward|access|student|identity)[_-]?cards?", re.IGNORECASE
)
_PAYMENT_SIBLINGS = frozenset(
    {"cvv", "cvc", "expiry", "exp_month", "exp_year", "expiration", "cardholder", "amount", "currency"}
)


def _payment_context(where: str, names: frozenset[str]) -> bool:
    """Whether a card number returned at `where` (the operation and pointer) beside fields
    `names` is a payment card's: the words around it or a sibling field speak of payments."""
    if _OTHER_CARDS.search(where):
        return False
    return bool(
        _PAYMENT_WORDS.search(where.replace("card_number", "").replace("cardNumber", ""))
    ) or not names.isdisjoint(_PAYMENT_SIBLINGS)


_LEAKY_ERROR_FIELDS = {
    "stack",
    "stacktrace",
    "stack_trace",
    "trace",
    "traceback",
    "exception",
    "sql",
    "query",
    "debug",
    "file",
    "line",
}

# The names the response rules report (`_Bodies.flagged` on a response body).
_RESPONSE_FIELDS = _SECRET_FIELDS | _LEAKY_ERROR_FIELDS

_COMBINATIONS = ("allOf", "oneOf", "anyOf")

_Properties = tuple[tuple[str, dict[str, Any], str], ...]
# A property as collected: (name, schema, where its parent is written, where it is written when
# reached through a $ref). Its own pointer is built only for those a rule reports on.
_Collected = tuple[tuple[str, dict[str, Any], str, str | None], ...]


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@functools.lru_cache(maxsize=8192)
def field_key(name: str) -> str:
    """A field's name as the rules compare it: `isAdmin`, `is-admin` and `is_admin` alike."""
    return _CAMEL.sub("_", name).lower().replace("-", "_")


def _request_marks(name: str, prop: dict[str, Any]) -> tuple[bool, bool]:
    """(privileged and writable, URL-valued) for a request body's field."""
    lowered = field_key(name)
    return (
        lowered in _PRIVILEGED and not prop.get("readOnly"),
        bool(prop.get("format") in _URL_FORMATS or name_facts(name)[1] or lowered in _URL_FIELD_NAMES),
    )


_URL_FORMATS = {"uri", "url", "iri"}
_URL_FIELD_NAMES = {"url", "callback", "webhook", "webhook_url", "redirect_uri"}


def _property_pointer(parent: str, name: str, ref_at: str | None) -> str:
    return ref_at if ref_at is not None else f"{parent}/properties/{escape_pointer_part(name)}"


class _Bodies:
    """The top-level properties of body schemas, and those of them a rule looks at. Operations
    share component schemas, so each schema is worked out once per review, keyed by the schema
    object and where it is written."""

    def __init__(self, doc: ApiDocument) -> None:
        self.doc = doc
        self._properties: dict[tuple[int, str], _Collected] = {}
        self._requests: dict[tuple[int, str], tuple[tuple[str, dict[str, Any], str, bool, bool], ...]] = {}
        self._responses: dict[tuple[int, str], tuple[_Properties, _Properties]] = {}
        self._request_flags: dict[int, bool] = {}
        self._names: dict[int, frozenset[str]] = {}
        self._all_names: dict[int, frozenset[str]] = {}
        # The fields some rule reports, for "request" or "response" bodies: (kind, schema object,
        # where it is written) -> (name, schema, parent's pointer, ref's target), nested ones
        # included. Component schemas are shared by hundreds of bodies and nest one another:
        # each is walked once, and only what a rule reports travels up to the bodies using it.
        # A schema being walked is there already, finding nothing: met again inside itself (a
        # cycle), it adds nothing there.
        self._flagged: dict[tuple[str, int, str], _Collected] = {}
        # What a field's name says, per name: a large API's bodies repeat a few thousand names.
        # field name -> `_request_verdict`, for request bodies
        self._request_verdicts: dict[str, tuple[bool, bool]] = {}
        # field name -> whether the response rules report it (needs no more than `field_key`)
        self._reported: dict[str, bool] = {}
        # local $ref -> where `deref` leads from it (see `_deref`)
        self._targets: dict[str, tuple[Any, str]] = {}

    def _deref(self, schema: Any, where: str) -> tuple[Any, str]:
        """`deref`, remembered per local $ref: where one leads depends on the ref alone, and a
        large API's bodies and schemas repeat each of a few thousand refs many times over."""
        if type(schema) is dict and "$ref" in schema:
            ref = schema["$ref"]
            if type(ref) is str and ref.startswith("#"):
                found = self._targets.get(ref)
                if found is None:
                    found = self._targets[ref] = deref(self.doc, schema, where)
                return found
        return deref(self.doc, schema, where)

    def _key(self, schema: Any, where: str) -> tuple[dict[str, Any] | None, tuple[int, str]]:
        resolved, at = self._deref(schema, where)
        return (resolved if type(resolved) is dict else None), (id(resolved), at)

    def collected(self, schema: Any, where: str) -> _Collected:
        resolved, key = self._key(schema, where)
        if resolved is None:
            return ()
        found = self._properties.get(key)
        if found is None:
            found = self._properties[key] = tuple(_collect_properties(self._deref, resolved, key[1]))
        return found

    def properties(self, schema: Any, where: str) -> _Properties:
        """(name, schema, pointer) of each top-level property, in the order they are written."""
        return tuple(
            (name, prop, _property_pointer(parent, name, ref_at))
            for name, prop, parent, ref_at in self.collected(schema, where)
        )

    def request(self, schema: Any, where: str) -> tuple[tuple[str, dict[str, Any], str, bool, bool], ...]:
        """The fields a rule looks at in a request body: (name, schema, pointer, privileged and
        writable, URL-valued), in the order they are written."""
        resolved, key = self._key(schema, where)
        if resolved is None:
            return ()
        found = self._requests.get(key)
        if found is None:
            marked = []
            for name, prop, parent, ref_at in self.flagged("request", resolved, key[1]):
                privileged, url = _request_marks(name, prop)
                if privileged or url:
                    marked.append((name, prop, _property_pointer(parent, name, ref_at), privileged, url))
            found = self._requests[key] = tuple(marked)
        return found

    # Most bodies hold no field these rules look for. Finding that out needs no pointer, and
    # depends on the schema object alone: worked out once per object, before any pointer is built.
    # Walked from "" rather than from where the body is written: schemas that refer to each other
    # are cut where the walk meets itself again, and which fields the walk `request` then makes
    # from the body's own place finds depends on which schema was entered first.
    def may_report_request(self, schema: Any) -> bool:
        resolved = self._deref(schema, "")[0]
        if type(resolved) is not dict:
            return False
        found = self._request_flags.get(id(resolved))
        if found is None:
            found = self._request_flags[id(resolved)] = bool(self.flagged("request", resolved, ""))
        return found

    def all_names(self, schema: Any) -> frozenset[str]:
        """The names (as `field_key` gives them) of every field of a body schema, nested ones
        included: the company a field keeps (a card number beside an expiry date)."""
        resolved = self._deref(schema, "")[0]
        if type(resolved) is not dict:
            return frozenset()
        found = self._all_names.get(id(resolved))
        if found is None:
            found = self._all_names[id(resolved)] = frozenset(
                field_key(name) for name, _, _, _ in _collect_properties(self._deref, resolved, "")
            )
        return found

    def may_report_response(self, response: dict[str, Any], *, success: bool) -> bool:
        """Whether a response object's bodies hold a field the response rules report: a secret
        (`success`, a 2xx or 3xx) or what leaks internals (an error). What each body schema holds
        is worked out once (`names`); a response object is seldom met twice (a shared one, through
        `$ref`, is looked at once by `body_rules`), so its verdict is not remembered."""
        wanted = _SECRET_FIELDS if success else _LEAKY_ERROR_FIELDS
        for media_obj in (response.get("content") or {}).values():  # a loop: no generator per response
            if isinstance(media_obj, dict) and not wanted.isdisjoint(self.names(media_obj.get("schema"))):
                return True
        return False

    def names(self, schema: Any) -> frozenset[str]:
        """The names (as `field_key` gives them) of the fields of a response body that the
        response rules report, nested ones included."""
        # Asked for every response (Graph's tens of thousands), most a $ref followed before.
        if type(schema) is dict and "$ref" in schema and type(ref := schema["$ref"]) is str and ref in self._targets:
            resolved = self._targets[ref][0]
        else:
            resolved = self._deref(schema, "")[0]
        if type(resolved) is not dict:
            return frozenset()
        found = self._names.get(id(resolved))
        if found is None:
            found = self._names[id(resolved)] = frozenset(
                field_key(name) for name, _, _, _ in self.flagged("response", resolved, "")
            )
        return found

    def response(self, schema: Any, where: str) -> tuple[_Properties, _Properties]:
        """(secret fields returned, fields that leak internals in errors)."""
        resolved, key = self._key(schema, where)
        if resolved is None:
            return (), ()
        found = self._responses.get(key)
        if found is None:
            props = self.flagged("response", resolved, key[1])
            found = self._responses[key] = (
                tuple(
                    (name, prop, _property_pointer(parent, name, ref_at))
                    for name, prop, parent, ref_at in props
                    if field_key(name) in _SECRET_FIELDS and not prop.get("writeOnly")
                ),
                tuple(
                    (name, prop, _property_pointer(parent, name, ref_at))
                    for name, prop, parent, ref_at in props
                    if field_key(name) in _LEAKY_ERROR_FIELDS
                ),
            )
        return found

    def flagged(self, kind: str, schema: Any, where: str) -> _Collected:
        """The fields of a body schema a `kind` ("request" or "response") rule reports, wherever
        they are nested (its own properties, its `allOf`/`oneOf`/`anyOf` parts and array items,
        nested objects), in the order they are written, each once. A schema met again inside
        itself (a cycle) adds nothing there."""
        if type(schema) is dict and "$ref" in schema:
            resolved, at = self._deref(schema, where)
        else:
            resolved, at = schema, where
        if not isinstance(resolved, dict) or not (
            "properties" in resolved
            or "items" in resolved
            or "allOf" in resolved
            or "oneOf" in resolved
            or "anyOf" in resolved
        ):
            return ()  # a plain value (most `anyOf` parts are): no field inside it
        return self._walk(kind, resolved, at)

    def _walk(self, kind: str, resolved: dict[str, Any], at: str) -> _Collected:
        """`flagged` of a schema already followed, known to hold something (`_nests`)."""
        # Called for every schema object under every body (Stripe's inline request bodies nest
        # thousands): what a field's name says is read from `_request_verdicts` or `_reported`, a nested schema
        # known to be followed and to nest is walked without `flagged`'s checks, and the pointer
        # of a local $ref's place is not built (the fields are written where it leads).
        key = (kind, id(resolved), at)
        found = self._flagged.get(key)
        if found is not None:
            return found  # found before, or being walked (a cycle): ()
        self._flagged[key] = ()
        entries: list[tuple[str, Any, str, str | None]] = []
        # How many places (its own properties, each nested schema) found something: an entry can
        # repeat only across two of them, and one nested schema's tuple is taken as it is.
        sources = 0
        nested: _Collected = ()
        if resolved.get("type") == "array" and "items" in resolved:
            items = resolved["items"]
            # a local $ref's fields are written where it leads: its own place is not built
            nested = self.flagged(kind, items, "" if _local_ref(items) else at + "/items")
            if nested:
                entries += nested
                sources = 1
        else:
            targets = self._targets
            props = resolved.get("properties")
            if isinstance(props, dict):
                request = kind == "request"
                verdicts: dict[str, Any] = self._request_verdicts if request else self._reported
                own = False
                for raw_name, prop in props.items():
                    # Most properties are written inline: tested for a $ref without a `get`.
                    if type(prop) is dict:
                        if "$ref" in prop and type(ref := prop["$ref"]) is str and ref.startswith("#"):
                            # followed: written where the ref leads (as `_deref`, without the call once known)
                            target, ref_at = targets[ref] if ref in targets else self._deref(prop, "")
                            if not isinstance(target, dict):
                                continue
                        else:
                            target, ref_at = prop, None
                    elif isinstance(prop, dict):
                        target, ref_at = prop, None
                    else:
                        continue
                    if type(raw_name) is str:
                        name = raw_name
                    else:
                        name = str(raw_name)
                        sources += 1  # two keys may read alike (1 and "1")
                    if request:
                        # As `_request_marks`, its name's part read once per name.
                        verdict = verdicts.get(name)
                        if verdict is None:
                            verdict = verdicts[name] = _request_verdict(name)
                        wanted = (verdict[1] or ("format" in target and target["format"] in _URL_FORMATS)) or (
                            verdict[0] and not target.get("readOnly")
                        )
                    else:
                        wanted = verdicts.get(name)
                        if wanted is None:
                            wanted = verdicts[name] = field_key(name) in _RESPONSE_FIELDS
                    if wanted:
                        entries.append((name, target, at, ref_at))
                        own = True
                    if (  # `_nests`
                        "properties" in target
                        or "items" in target
                        or "allOf" in target
                        or "oneOf" in target
                        or "anyOf" in target
                    ):
                        # as `_property_pointer`, without the call
                        place = (
                            ref_at
                            if ref_at is not None
                            else f"{at}/properties/{escape_pointer_part(name) if '/' in name or '~' in name else name}"
                        )
                        sub = self.flagged(kind, target, place) if "$ref" in target else self._walk(kind, target, place)
                        if sub:
                            entries += sub
                            nested = sub
                            sources += 1
                sources += own
            for combo in _COMBINATIONS:  # most have none
                if combo in resolved and isinstance(parts := resolved[combo], list):
                    for index, part in enumerate(parts):
                        if type(part) is dict and "$ref" not in part:
                            if not _nests(part):
                                continue  # a plain value: nothing to add, no pointer to build
                            sub = self._walk(kind, part, f"{at}/{combo}/{index}")
                        elif type(part) is dict and type(ref := part["$ref"]) is str and ref.startswith("#"):
                            # as `flagged`, without the call: written where the ref leads
                            target, place = targets[ref] if ref in targets else self._deref(part, "")
                            if not isinstance(target, dict) or not _nests(target):
                                continue
                            sub = self._walk(kind, target, place)
                        else:
                            sub = self.flagged(kind, part, f"{at}/{combo}/{index}")
                        if sub:
                            entries += sub
                            nested = sub
                            sources += 1
        if sources > 1:
            unique: dict[tuple[str, str, str | None], tuple[str, Any, str, str | None]] = {}
            for entry in entries:
                unique.setdefault((entry[0], entry[2], entry[3]), entry)
            found = tuple(unique.values())
        elif nested:  # all from one nested schema
            found = nested
        else:
            found = tuple(entries) if entries else ()
        self._flagged[key] = found
        return found


def _request_verdict(name: str) -> tuple[bool, bool]:
    """What a field's name alone says for `_Bodies.flagged` on a request body: (a privileged
    name, a URL's name)."""
    key = field_key(name)
    return key in _PRIVILEGED, bool(name_facts(name)[1] or key in _URL_FIELD_NAMES)


class _Place:
    """Where an operation is written, located when first asked (most operations have no body
    field to report, so most never ask)."""

    __slots__ = ("_node", "_ptr", "_ref", "_review")

    def __init__(self, review: Review, ptr: str, node: Any) -> None:
        self._review, self._ptr, self._node = review, ptr, node
        self._ref: SourceRef | None = None

    def __call__(self) -> SourceRef:
        if self._ref is None:
            self._ref = self._review.locate(self._ptr, self._node)
        return self._ref


def _collect_properties(
    follow: Callable[[Any, str], tuple[Any, str]], schema: Any, where: str
) -> list[tuple[str, Any, str, str | None]]:
    """Every property of a body schema: its own, those of its `allOf`/`oneOf`/`anyOf` parts and
    array items, and those of nested objects (`{"user": {"is_admin": ...}}`), each with where its
    parent is written, in the order they are written. A nested schema met again (shared, or a
    cycle) is expanded once, and no deeper than eight levels. `follow` is `deref` (`_Bodies._deref`)."""
    found: list[tuple[str, Any, str, str | None]] = []
    _add_properties(follow, schema, where, 0, set(), found)
    return found


def _add_properties(
    follow: Callable[[Any, str], tuple[Any, str]],
    schema: Any,
    where: str,
    depth: int,
    expanded: set[int],
    found: list[tuple[str, Any, str, str | None]],
) -> None:
    # Appends to one list rather than yielding through a generator per level: an error schema
    # can reach hundreds of others (Stripe's), and each field would pass through every level above.
    # Where a local $ref is written is not needed (its fields are written where it leads): its
    # pointer is not built. A part holding nothing (no $ref, nothing nested) is not entered.
    resolved, at = follow(schema, where) if type(schema) is dict and "$ref" in schema else (schema, where)
    if depth > 8 or not isinstance(resolved, dict):
        return
    if id(resolved) in expanded:
        return
    expanded.add(id(resolved))
    if resolved.get("type") == "array" and "items" in resolved:
        items = resolved["items"]
        _add_properties(follow, items, "" if _local_ref(items) else at + "/items", depth + 1, expanded, found)
        return
    props = resolved.get("properties")
    if isinstance(props, dict):
        for raw_name, prop in props.items():
            if type(prop) is dict and "$ref" in prop and _local_ref(prop):  # followed: written where the ref leads
                target, ref_at = follow(prop, "")
            else:
                target, ref_at = prop, None
            if isinstance(target, dict):
                name = raw_name if type(raw_name) is str else str(raw_name)
                found.append((name, target, at, ref_at))
                if _nests(target):
                    _add_properties(follow, target, _property_pointer(at, name, ref_at), depth + 1, expanded, found)
    for combo in _COMBINATIONS:
        parts = resolved.get(combo)
        if isinstance(parts, list):
            for index, part in enumerate(parts):
                if type(part) is dict and "$ref" not in part and not _nests(part):
                    continue  # a plain value: no field in it
                _add_properties(
                    follow, part, "" if _local_ref(part) else f"{at}/{combo}/{index}", depth + 1, expanded, found
                )


def _local_ref(node: Any) -> bool:
    """Whether `node` is a local $ref (`deref` follows it, and its own place is not needed)."""
    return type(node) is dict and type(ref := node.get("$ref")) is str and ref.startswith("#")


def _nests(schema: dict[str, Any]) -> bool:
    """Whether a property's schema holds properties of its own (an object, an array of them, a
    composition)."""
    return "properties" in schema or "items" in schema or "allOf" in schema or "oneOf" in schema or "anyOf" in schema


def request_properties(doc: ApiDocument) -> list[tuple[str, str, dict[str, Any], str]]:
    """(operation label, name, schema, pointer) of every property of every write's request body
    under `paths`, nested ones and those of `allOf`/`oneOf`/`anyOf` parts included."""
    bodies = _Bodies(doc)
    found = []
    for path, method, operation in _body_operations(doc):
        if method not in {"post", "put", "patch"}:
            continue
        op_ptr = f"/paths/{escape_pointer_part(path)}/{method}"
        request, request_at = deref(doc, operation.get("requestBody"), op_ptr + "/requestBody")
        if not isinstance(request, dict) or not isinstance(request.get("content"), dict):
            continue
        for media, media_obj in request["content"].items():
            if isinstance(media_obj, dict):
                where = f"{request_at}/content/{escape_pointer_part(str(media))}/schema"
                found += [
                    (f"{method.upper()} {path}", name, prop, at)
                    for name, prop, at in bodies.properties(media_obj.get("schema"), where)
                ]
    return found


_WRITES_WITH_BODY = frozenset({"post", "put", "patch"})


def body_rules(review: Review, *, doc: ApiDocument) -> None:
    bodies = _Bodies(doc)
    # local $ref of a response -> may report, for errors ([0]) and successes ([1])
    shared_verdicts: tuple[dict[str, bool], dict[str, bool]] = ({}, {})
    for path, method, _, operation in each_operation(doc):  # as `_body_operations`, one generator fewer
        # Where the operation is written, and its label, are made only for a request body or a
        # response holding a field to report: most of a large API's operations have neither.
        request = operation.get("requestBody") if method in _WRITES_WITH_BODY else None
        body = deref(doc, request, "")[0] if request is not None else None
        if isinstance(body, dict):
            op_ref = None
            for media, media_obj in (body.get("content") or {}).items():
                if not isinstance(media_obj, dict) or not bodies.may_report_request(media_obj.get("schema")):
                    continue
                if op_ref is None:
                    op_ptr = f"/paths/{escape_pointer_part(path)}/{method}"
                    label = f"{method.upper()} {path}"
                    op_ref = _Place(review, op_ptr, operation)
                    request_at = deref(doc, request, op_ptr + "/requestBody")[1]
                for name, prop, at, privileged, url in bodies.request(
                    media_obj.get("schema"), f"{request_at}/content/{escape_pointer_part(str(media))}/schema"
                ):
                    # One finding per field: the operations whose bodies carry it are its places.
                    if privileged:
                        review.add(
                            "sec.api3.privileged-field-writable",
                            at,
                            f"{label} lets the caller set `{name}`.",
                            key=at,
                            node=prop,
                            gather=(
                                label,
                                f"{{count}} operations let the caller set `{name}`: {{operations}}.",
                                op_ref(),
                            ),
                        )
                    if url:
                        review.add(
                            "sec.api7.url-input",
                            at,
                            f"{label} accepts `{name}`, a URL.",
                            key=at,
                            node=prop,
                            gather=(label, f"{{count}} operations accept `{name}`, a URL: {{operations}}.", op_ref()),
                        )
        responses = operation.get("responses")
        if not isinstance(responses, dict):
            continue
        for status, response in responses.items():
            kind = (status if type(status) is str else str(status))[:1]  # most are strings: no call
            if kind not in ("2", "3", "4", "5"):
                continue
            success = kind in ("2", "3")
            ref = response.get("$ref") if type(response) is dict else None
            if type(ref) is str and ref.startswith("#"):
                # A shared response (Graph's one error response, under every operation): what it
                # holds depends on the $ref alone, so it is looked at once per ref and kind.
                known = shared_verdicts[success]
                verdict = known.get(ref)
                if verdict is None:
                    resolved = deref(doc, response, "")[0]
                    verdict = known[ref] = isinstance(resolved, dict) and bodies.may_report_response(
                        resolved, success=success
                    )
            else:  # `deref` would hand it back as it is: only a local $ref is followed
                verdict = isinstance(response, dict) and bodies.may_report_response(response, success=success)
            if not verdict:
                continue  # nothing in its bodies that the rules below report
            op_ptr = f"/paths/{escape_pointer_part(path)}/{method}"
            label = f"{method.upper()} {path}"
            resolved, at = deref(doc, response, f"{op_ptr}/responses/{escape_pointer_part(str(status))}")
            if not isinstance(resolved, dict):
                continue
            for media, media_obj in (resolved.get("content") or {}).items():
                if not isinstance(media_obj, dict):
                    continue
                base = f"{at}/content/{escape_pointer_part(str(media))}/schema"
                secrets, leaks = bodies.response(media_obj.get("schema"), base)
                for name, prop, prop_at in secrets if kind in ("2", "3") else ():
                    if field_key(name) in _CARD_FIELDS and not _payment_context(
                        f"{label} {prop_at}", bodies.all_names(media_obj.get("schema"))
                    ):
                        continue  # a library or loyalty card's number: the data-protection review asks
                    review.add(
                        "sec.api3.secret-in-response",
                        prop_at,
                        f"{label} returns `{name}` in its {status} response.",
                        key=prop_at,
                        node=prop,
                    )
                for name, prop, prop_at in leaks if kind in ("4", "5") else ():
                    review.add(
                        "sec.api8.error-leaks-internals",
                        prop_at,
                        f"The {status} error of {label} carries `{name}`.",
                        key=prop_at,
                        node=prop,
                    )
    _payload_rules(review, doc=doc, bodies=bodies)
    components = doc.data.get("components")
    schemas = components.get("schemas") if isinstance(components, dict) else None
    if isinstance(schemas, dict):
        for name in schemas:
            if "error" in str(name).lower() or "problem" in str(name).lower():
                # Where a property is written is worked out only for those reported.
                for prop_name, _prop, parent, ref_at in bodies.collected(
                    schemas[name], pointer("components", "schemas", str(name))
                ):
                    if field_key(prop_name) in _LEAKY_ERROR_FIELDS:
                        prop_at = _property_pointer(parent, prop_name, ref_at)
                        review.add(
                            "sec.api8.error-leaks-internals",
                            prop_at,
                            f"Error schema `{name}` carries `{prop_name}`.",
                            key=prop_at,
                        )


def _payload_rules(review: Review, *, doc: ApiDocument, bodies: _Bodies) -> None:
    """What the API sends in its webhooks' and callbacks' payloads: a secret sent to a
    subscriber's URL is as exposed as one returned in a response (API3)."""
    for webhook in review.model.webhooks:
        op_ptr = webhook.source.pointer
        operation = resolve_pointer(doc.data, op_ptr) if op_ptr else None
        if not isinstance(operation, dict):
            continue
        request, request_at = deref(doc, operation.get("requestBody"), op_ptr + "/requestBody")
        content = request.get("content") if isinstance(request, dict) else None
        for media, media_obj in content.items() if isinstance(content, dict) else ():
            if not isinstance(media_obj, dict) or _SECRET_FIELDS.isdisjoint(bodies.names(media_obj.get("schema"))):
                continue
            where = f"{request_at}/content/{escape_pointer_part(str(media))}/schema"
            for name, prop, at in bodies.properties(media_obj.get("schema"), where):
                if field_key(name) in _SECRET_FIELDS and not prop.get("writeOnly"):
                    review.add(
                        "sec.api3.secret-in-response",
                        at,
                        f"The {webhook.kind} {webhook.label} sends `{name}` in its payload.",
                        key=f"{at}|{webhook.kind}",
                        node=prop,
                        title="Webhook or callback payload carries a secret or card data",
                    )


def _body_operations(doc: ApiDocument) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    """The operations the body rules look at, in document order."""
    return ((path, method, operation) for path, method, _, operation in each_operation(doc))
