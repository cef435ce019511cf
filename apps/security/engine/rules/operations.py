"""Rules on each operation: what its security allows (API2, API5), its responses (error bodies,
429s and rate-limit headers: API4, API8), its parameters, deprecation (API9) and webhooks
received without authentication or a signature (API10)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from apps.designs.engine.model import ApiDocument
from apps.designs.engine.openapi import HTTP_METHODS
from apps.designs.engine.receivers import SIGNATURE, is_webhook
from apps.designs.engine.structured import escape_pointer_part
from apps.security.engine.reporter import Report, Review
from apps.security.engine.rules.common import deref, name_facts

_RATE_LIMIT_SETS = (
    frozenset({"RateLimit"}),
    frozenset({"RateLimit-Limit", "RateLimit-Reset"}),
    frozenset({"X-RateLimit-Limit"}),
    frozenset({"X-Rate-Limit-Limit"}),
)
_RESPONSES_RULES = (
    ("sec.api4.no-429", "The operation documents no 429 response with a body."),
    ("sec.api8.error-401", "The operation documents no 401 response with a body."),
    ("sec.api8.error-500", "The operation documents no 500 response with a body."),
    ("sec.api8.error-validation", "The operation documents no 400, 422 or 4XX response."),
    ("sec.api4.rate-limit-headers", "The {} response declares no rate-limit headers."),
    ("sec.api4.retry-after", "The 429 response declares no Retry-After header."),
)


_PUBLIC = "the operation is public (`security: []`), so it never answers 401."
_WITHOUT_BODY = "the operation documents its {} response, without a body: clients know the refusal."


def _responses_rules(
    *,
    doc: ApiDocument,
    responses_objects: list[tuple[str, dict[str, Any], dict[str, Any]]],
    root_security: Any,
    hit: Report,
    once: Report,
) -> None:
    """`once` for what each responses object lacks, `hit` for each of its responses without
    rate-limit headers or, a 429, without Retry-After."""
    no_429, no_401, no_500, no_validation, rate_limit, retry_after = _RESPONSES_RULES
    # (local $ref, status) of each response met through a $ref: a shared response (an API's one
    # error response) is written, and reported, once where the $ref leads, so meeting it again
    # under the same status reports nothing new.
    met: set[tuple[str, str]] = set()
    asked = ((no_429, "429"), (no_401, "401"), (no_500, "500"))  # built once, not per responses object
    at: str | None  # where a response is written, built only for a finding when written inline
    for where, responses, operation in responses_objects:
        public = (operation.get("security") if "security" in operation else root_security) == []
        for (rule_id, message), status in asked:
            response = responses.get(status)
            if response is None or not _has_content(doc, response):  # most are absent
                if public and status == "401":
                    exempt = _PUBLIC
                elif status in responses:
                    exempt = _WITHOUT_BODY.format(status)
                else:
                    exempt = ""
                once(rule_id, where, responses, message, exempt)
        if not ("400" in responses or "422" in responses or "4XX" in responses or _validation_status(responses)):
            once(no_validation[0], where, responses, no_validation[1])
        for status, response in responses.items():
            code = status if type(status) is str else str(status)
            ref = response.get("$ref") if type(response) is dict else None
            if type(ref) is str and ref.startswith("#"):
                if (ref, code) in met:
                    continue
                met.add((ref, code))
                resolved, at = deref(doc, response, "")  # located where the $ref leads
            else:
                # Written here (`deref` would hand it back as it is): its pointer is built only
                # for a finding.
                resolved, at = response, None
            if type(resolved) is not dict:
                continue
            headers = resolved.get("headers")
            names = headers.keys() if type(headers) is dict else _NO_HEADERS
            if at is None:
                if code[:1] not in ("2", "4"):
                    continue  # neither rule below asks about it (a 429 starts with 4)
                at = f"{where}/{escape_pointer_part(code)}"
            if code[:1] in ("2", "4") and not (names and any(s <= names for s in _RATE_LIMIT_SETS)):
                message = rate_limit[1].format(code)
                if type(headers) is dict:
                    hit(rate_limit[0], f"{at}/headers", headers, message)
                else:
                    hit(rate_limit[0], at, resolved, message)
            if code == "429" and "Retry-After" not in names:
                hit(retry_after[0], at, resolved, retry_after[1])


_WRITES = frozenset({"post", "put", "patch", "delete"})
_READS = frozenset({"get", "head"})


def operation_rules(
    review: Review, *, doc: ApiDocument, responses_objects: list[tuple[str, dict[str, Any], dict[str, Any]]]
) -> None:
    """The responses rules over `responses_objects` (from the schema walk), then every operation
    under `paths` in document order, then admin operations sharing security with the rest."""
    root_security = doc.data.get("security")
    # each responses object is met once; responses may be shared
    _responses_rules(
        doc=doc,
        responses_objects=responses_objects,
        root_security=root_security,
        hit=review.hit,
        once=review.hit_once,
    )
    admin_hashes: list[tuple[str, str, str]] = []  # (path, where, digest of a security requirement)
    other_hashes: set[str] = set()
    digests: dict[int, str] = {}  # id(security requirement object) -> its digest
    parameter_facts = _ParameterFacts(doc)
    paths = doc.data.get("paths")
    for raw_path, item in paths.items() if isinstance(paths, dict) else ():
        if not isinstance(item, dict):
            continue
        path = str(raw_path)
        item_ptr = f"/paths/{escape_pointer_part(path)}"
        webhook = is_webhook(path)
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            op_ptr = f"{item_ptr}/{method}"
            declared = "security" in operation
            security = operation.get("security") if declared else root_security
            label = f"{method.upper()} {path}"
            shared = item.get("parameters") or []
            parameters = [*shared, *(operation.get("parameters") or [])]
            # Only a webhook receiver is excused by a signature header: other operations are
            # spared the look at each parameter's name.
            signed = webhook and any(
                isinstance(p := deref(doc, raw, "")[0], dict) and SIGNATURE.search(str(p.get("name", "")))
                for raw in parameters
            )
            if not security or method in _WRITES:  # otherwise `_security_rules` finds nothing
                _security_rules(
                    review,
                    label=label,
                    method=method,
                    op_ptr=op_ptr,
                    operation=operation,
                    declared=declared,
                    security=security,
                    signed=signed,
                )
            if isinstance(security, list):
                for index, entry in enumerate(security):
                    if not isinstance(entry, dict):
                        continue
                    # Most operations inherit the document's requirements: each is digested once.
                    digest = digests.get(id(entry))
                    if digest is None:
                        digest = digests[id(entry)] = repr(sorted((k, tuple(v or ())) for k, v in entry.items()))
                    if "/admin" in path or "/internal" in path:
                        admin_hashes.append((path, f"{op_ptr}/security" + (f"/{index}" if declared else ""), digest))
                    else:
                        other_hashes.add(digest)
            _parameter_rules(
                review,
                doc=doc,
                label=label,
                is_get=method == "get",
                parameters=parameters,
                shared=len(shared),
                item_ptr=item_ptr,
                op_ptr=op_ptr,
                cache=parameter_facts,
            )
            if operation.get("deprecated") is True:
                review.add("sec.api9.deprecated-operation", op_ptr + "/deprecated", f"{label} is deprecated.")
            if webhook and not security and not signed:
                review.add(
                    "sec.api10.unsigned-webhook",
                    op_ptr,
                    f"{label} receives calls from outside with neither authentication nor a signature header.",
                    key=label,
                )
    for path, where, digest in admin_hashes:
        if digest in other_hashes:
            review.add(
                "sec.api5.admin-same-security",
                where,
                f"Admin operation {path} accepts the same security as non-admin operations.",
            )


_SIGNED = "a webhook receiver is authenticated by the signature header it requires."
# Operations anonymous by nature: signing in or up, tokens, one-time codes, password resets.
_ENTRY_POINT = re.compile(
    r"log-?in|sign-?(in|on|up)|regist|auth|token|otp|one-time|passwor|verif|session|magic-?link",
    re.IGNORECASE,
)


def _entry_point(path: str, operation: Mapping[str, Any]) -> bool:
    words = " ".join(str(operation.get(key) or "") for key in ("operationId", "summary"))
    return bool(_ENTRY_POINT.search(f"{path} {words}"))


def _security_rules(
    review: Review,
    *,
    label: str,
    method: str,
    op_ptr: str,
    operation: dict[str, Any],
    declared: bool,
    security: Any,
    signed: bool,
) -> None:
    """An operation no security covers, an operation declared public (`security: []`: a low
    "verify", since signing in or a public catalogue is public on purpose), a write open to
    anonymous callers. A webhook receiver requiring a signature header is authenticated by it."""
    public = declared and security == []
    entry = public and _entry_point(op_ptr, operation)
    if not security and (method in _WRITES or (method in _READS and not public)) and not public:
        # Point at the operation's `security` when it has one, else at the operation itself.
        where, node = (op_ptr + "/security", security) if declared else (op_ptr, operation)
        review.hit(
            "sec.api2.unauthenticated-write" if method in _WRITES else "sec.api2.unauthenticated-read",
            where,
            node if type(node) in (dict, list) else None,
            f"{label} requires no authentication.",
            _SIGNED if signed and method in _WRITES else "",
        )
    if public and (method in _READS or method in _WRITES):
        # A read or an entry point declared public is a "verify"; any other write stays a concern.
        review.add(
            "sec.api2.unauthenticated-write" if method in _WRITES else "sec.api2.unauthenticated-read",
            op_ptr + "/security",
            f"{label} requires no authentication (declared public with `security: []`).",
            severity="low" if method in _READS or entry or signed else "medium",
            node=security,
            exempt=_SIGNED if signed and method in _WRITES else "",
        )
    elif security and isinstance(security, list) and method in _WRITES:
        for index, entry in enumerate(security):
            if isinstance(entry, dict) and not entry:
                review.add(
                    "sec.api2.unauthenticated-write",
                    f"{op_ptr}/security/{index}",
                    f"{label} accepts anonymous callers (`{{}}`).",
                )


def _parameter_rules(
    review: Review,
    *,
    doc: ApiDocument,
    label: str,
    is_get: bool,
    parameters: list[Any],
    shared: int,
    item_ptr: str,
    op_ptr: str,
    cache: _ParameterFacts,
) -> None:
    """Integer ids, URLs and (on a GET) page sizes without a maximum among an operation's
    parameters: the first `shared` are the path item's, written under `item_ptr`. What a
    parameter is worth reporting for is worked out once (see `_ParameterFacts`), and where it is
    written only for those reported."""
    facts_of = cache.of
    for index, param in enumerate(parameters):
        name, numeric_id, url, unbounded_page = facts_of(param)
        if not (numeric_id or url or (unbounded_page and is_get)):
            continue
        owner, local = (item_ptr, index) if index < shared else (op_ptr, index - shared)
        resolved, at = deref(doc, parameters[index], f"{owner}/parameters/{local}")
        if numeric_id:
            _, schema_at = deref(doc, resolved.get("schema"), at + "/schema")
            review.add("sec.api1.numeric-id", schema_at, f"Parameter `{name}` is an integer id.")
        if url:
            review.add("sec.api7.url-parameter", at + "/name", f"Parameter `{name}` looks like a URL.")
        if unbounded_page and is_get:
            review.add("sec.api4.unbounded-page-size", at, f"`{name}` on {label} has no maximum.")


def _has_content(doc: ApiDocument, response: Any) -> bool:
    """Whether a response (absent: None) has a body, following its refs."""
    if response is None:
        return False
    resolved, _ = deref(doc, response, "")
    return isinstance(resolved, dict) and bool(resolved.get("content"))


def _validation_status(responses: Mapping[Any, Any]) -> bool:
    """A 400, 422 or 4XX written as a YAML number rather than a string."""
    return any(str(k) in {"400", "422", "4XX"} for k in responses if type(k) is not str)


_NO_HEADERS: frozenset[str] = frozenset()


_Facts = tuple[str, bool, bool, bool]  # see `_parameter_facts`


class _ParameterFacts:
    """What each parameter is worth reporting for (`_parameter_facts`), worked out once per
    analysis. The same parameter object comes back with every operation of its path item, the
    same $ref with every operation sharing it, and a large API writes the same few hundred names
    inline thousands of times, most of them saying neither id nor page size, so that their facts
    do not depend on their schema: each is kept by what it can be found by."""

    def __init__(self, doc: ApiDocument) -> None:
        self.doc = doc
        self._by_object: dict[int, _Facts] = {}  # id(parameter as written) -> facts
        self._by_ref: dict[str, _Facts] = {}
        self._by_name: dict[str, _Facts] = {}

    def of(self, param: Any) -> _Facts:
        """The facts of a parameter as an operation writes it: inline, or a $ref."""
        # A large API writes most parameters inline, each object once, under a name met before,
        # and the others as $refs to a few shared ones: both looked up here as `_first` and
        # `_resolved` would, without the calls on the way. Only what neither answers (an id or a
        # page size, told by its schema) is kept by the object, rather than every object met.
        if type(param) is dict:
            if "$ref" in param:
                ref = param["$ref"]
                found = self._by_ref.get(ref) if type(ref) is str else None
            else:
                name = param.get("name")
                found = self._by_name.get(name) if type(name) is str else None
            if found is not None:
                return found
        found = self._by_object.get(id(param))
        if found is None:
            found = self._by_object[id(param)] = self._first(param)
        return found

    def _first(self, param: Any) -> _Facts:
        if type(param) is dict and "$ref" in param:
            ref = param["$ref"]
            if type(ref) is not str:
                return self._resolved(param)  # not followed (see `deref`)
            found = self._by_ref.get(ref)
            if found is None:
                found = self._by_ref[ref] = self._resolved(deref(self.doc, param, "")[0])
            return found
        return self._resolved(param)

    def _resolved(self, resolved: Any) -> _Facts:
        name = resolved.get("name") if isinstance(resolved, dict) else None
        if not isinstance(name, str):
            return _parameter_facts(self.doc, resolved)
        found = self._by_name.get(name)
        if found is None:
            found = _parameter_facts(self.doc, resolved)
            id_like, _, page_size = name_facts(name)
            if not (id_like or page_size):
                self._by_name[name] = found
        return found


def _parameter_facts(doc: ApiDocument, resolved: Any) -> _Facts:
    """(name, an integer id, a URL, a page size without a maximum) for a parameter object;
    nothing to report for anything that is not one."""
    if not isinstance(resolved, dict) or not isinstance(resolved.get("name"), str):
        return "", False, False, False
    name = resolved["name"]
    id_like, url, page_size = name_facts(name)
    schema = resolved.get("schema") if id_like or page_size else None
    if type(schema) is dict and "$ref" in schema:  # most are written inline: `deref` is not called
        schema = deref(doc, schema, "")[0]
    return (
        name,
        id_like and isinstance(schema, dict) and schema.get("type") == "integer",
        url,
        page_size and isinstance(schema, dict) and "maximum" not in schema and "enum" not in schema,
    )
