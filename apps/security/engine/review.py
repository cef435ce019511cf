"""The security review of a DesignModel: OWASP API Security Top 10 (2023) and data protection.

Input: the DesignModel, including its raw OpenAPI document (`api_document`). Output: findings
(each with category, CWE, evidence pointers and a fix) and the checklist section of the report.

Schema rules visit every object of the document once, where it is written, the way Spectral's
OWASP ruleset does on the bundled document; `$ref`s are not followed there, so a schema used by
hundreds of operations is reported once. Examples and `x-` extensions are data, not schemas, and
are not visited. An object carrying `x-workbench-ignore: [rule-id, ...]` (optionally with
`x-workbench-ignore-reason`) waives those rules for itself and everything inside it; the finding
stays in the report, marked suppressed.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from apps.designs.engine.bulk import collector_paused
from apps.designs.engine.findings import Finding, fingerprint, fingerprint_from, fingerprint_prefix, severity_rank
from apps.designs.engine.matching import match_endpoint
from apps.designs.engine.model import SEVERITIES, ApiDocument, DesignModel, Endpoint, Severity, SourceRef
from apps.designs.engine.openapi import HTTP_METHODS, PAGE_SIZE_PARAMS
from apps.designs.engine.structured import dict_objects, escape_pointer_part, pointer, resolve_pointer
from apps.security.engine.catalog import CATEGORIES, CATEGORY_BY_KEY, RULES, Rule

ANALYZER = "security"
IGNORE_KEY = "x-workbench-ignore"
_SKIP_KEYS = frozenset({"example", "examples"})
_ENVIRONMENT = re.compile(
    r"(local|sandbox|alpha|beta|test|testing|stag|staging|prod|production|next|preprod|preproduction)", re.IGNORECASE
)
_CREDENTIAL_NAME = re.compile(
    r"^.*(client_?secret|token|access_?token|refresh_?token|id_?token|password|secret|api-?key).*$", re.IGNORECASE
)
_URL_NAME = re.compile(r"(^(callback|redirect)|(_url|Url|-url))$")
_ID_NAME = re.compile(r"(_id|Id|-id)$")
_RATE_LIMIT_SETS = (
    frozenset({"RateLimit"}),
    frozenset({"RateLimit-Limit", "RateLimit-Reset"}),
    frozenset({"X-RateLimit-Limit"}),
    frozenset({"X-Rate-Limit-Limit"}),
)
_NON_PRODUCTION_HOST = re.compile(
    r"(^|[./-])(staging|stage|stg|dev|develop|test|testing|qa|uat|sandbox|internal|local|localhost)([./-]|$)|127\.0\.0\.1|0\.0\.0\.0",
    re.IGNORECASE,
)
_VERSION = re.compile(r"/v\d+(\b|/|$)|/\d{4}-\d{2}-\d{2}", re.IGNORECASE)
_PRIVILEGED = {
    "is_staff",
    "is_admin",
    "is_superuser",
    "admin",
    "role",
    "roles",
    "permissions",
    "scopes",
    "owner",
    "owner_id",
    "status",
    "balance",
    "credit",
    "credits",
    "verified",
    "is_verified",
    "email_verified",
    "approved",
    "is_active",
    "tier",
    "plan",
}
_SECRET_FIELDS = {
    "password",
    "password_hash",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "private_key",
    "card_number",
    "pan",
    "cvv",
    "cvc",
    "card_cvv",
    "ssn",
    "pin",
}
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
_SIGNATURE = re.compile(r"signature|x-hub-signature|x-signature|webhook-signature|hmac", re.IGNORECASE)
_WEBHOOK_PATH = re.compile(r"webhook|callback|/hooks?(/|$)", re.IGNORECASE)
_OWNERSHIP = re.compile(
    r"another (customer|user|patient|member|account|person|tenant|client)'?s|someone else'?s|only (my|their|his|her|its) own|\bmine only\b|\bmine\b|\b404\b|\b403\b|only (users|staff|members|admins?) (with|of)|belongs? to (me|them|the caller)",
    re.IGNORECASE,
)
_SENSITIVE_FLOW = re.compile(
    r"\b(check ?out|place an order|places? (an |the )?order|sign[ -]?up|register|registration|book(ing)?|reserv|pay(s|ment)?\b|password reset|reset (my|the) password|coupon|voucher|redeem|vote|ticket|transfer)",
    re.IGNORECASE,
)
_ANTI_AUTOMATION = re.compile(
    r"rate[- ]?limit|throttl|captcha|bot|automat|velocity|per[- ](account|device|ip)|fraud|abuse", re.IGNORECASE
)
_NEVER_STORED = re.compile(
    r"(?:the\s+)?(?P<what>[a-z][a-z ]{2,40}?)\s+(?:is|are)\s+never\s+(?:stored|kept|saved|persisted)", re.IGNORECASE
)
_SIGNATURE_STORY = re.compile(r"verified by signature|signed|signature", re.IGNORECASE)
_CARD_NUMBER = {"card_number", "pan", "cc_number", "credit_card_number", "card_no", "cardnumber", "credit_card"}
_PERSONAL = {
    "email",
    "phone",
    "phone_number",
    "mobile",
    "full_name",
    "first_name",
    "last_name",
    "surname",
    "date_of_birth",
    "birth_date",
    "dob",
    "birthday",
    "address",
    "street",
    "postcode",
    "zip",
    "shipping_address",
    "delivery_address",
    "billing_address",
    "ip_address",
    "location",
    "gender",
}
_SENSITIVE = {
    "national_id",
    "ssn",
    "social_security_number",
    "passport",
    "passport_number",
    "tax_id",
    "diagnosis",
    "medical_history",
    "health",
    "allergies",
    "blood_type",
    "religion",
    "ethnicity",
    "sexual_orientation",
    "biometric",
    "medication",
}
_PLAINTEXT_SECRET = {"password", "secret", "api_key", "apikey", "client_secret", "private_key", "pin"}


@dataclass
class _Review:
    model: DesignModel
    doc: ApiDocument | None
    findings: list[Finding] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    # pointer of each object carrying x-workbench-ignore -> that object; filled only when the
    # document uses the extension at all.
    waivers: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    # hit(rule_id, pointer, node, message): `add` for the rules that report by the ten thousand,
    # at a dict or list of the document with the rule's own severity and title. The same finding
    # for less per call: a closure over everything it reads. `hit_once` is the same without the
    # duplicate check, for rules reported only from one walk that meets each object once (a
    # rule's findings are then unique by pointer): the schema bounds and the responses checks.
    hit: Callable[[str, str, Any, str], None] = field(init=False, repr=False)
    hit_once: Callable[[str, str, Any, str], None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.doc is not None and IGNORE_KEY in self.doc.extensions:
            for ptr, node in _walk(self.doc.data):
                if IGNORE_KEY in node:
                    self.waivers[ptr] = node
        self.hit = self._hit(deduplicate=True)
        self.hit_once = self._hit(deduplicate=False)

    def add(
        self,
        rule_id: str,
        where: str | SourceRef,
        message: str,
        *,
        node: Any = None,
        key: str | None = None,
        severity: Severity | None = None,
        also: tuple[SourceRef, ...] = (),
        title: str | None = None,
    ) -> None:
        """Report `rule_id` at `where`: a SourceRef, or a pointer into the API document; `node`,
        when given, is the dict or list that pointer names, which locates it without a walk."""
        facts = _FACTS[rule_id]
        if type(where) is str:
            ptr: str | None = where
            ref = None
        else:
            ptr = where.pointer
            ref = where
        stable = key or ptr or ""
        seen = (rule_id, stable)
        if seen in self.seen:
            return
        self.seen.add(seen)
        if ref is None:
            ref = self._locate(ptr or "", node)
        self.findings.append(
            Finding(
                ANALYZER,
                rule_id,
                severity or facts.severity,
                title or facts.title,
                f"{message} {facts.why}",
                facts.fix,
                (ref, *also) if also else (ref,),
                fingerprint(ANALYZER, rule_id, stable),
                facts.references,
                facts.category,
                facts.cwe,
                self._suppression(facts.rule, ptr) if ptr is not None and self.waivers else None,
            )
        )

    def _hit(self, *, deduplicate: bool) -> Callable[[str, str, Any, str], None]:
        seen = self.seen
        remember = seen.add
        append = self.findings.append
        doc = self.doc
        locate_node = doc.locate_node if doc is not None else None
        waivers = self.waivers
        suppression = self._suppression
        facts_of = _FACTS
        digest = fingerprint_from
        make = Finding
        # (rule, message) -> the finding's whole message: these rules repeat a handful of
        # messages, so they are joined once and shared.
        messages: dict[tuple[str, str], str] = {}

        def hit(rule_id: str, where: str, node: Any, message: str) -> None:
            if deduplicate:
                key = (rule_id, where)
                if key in seen:
                    return
                remember(key)
            rule, severity, title, why, fix, references, category, cwe, prefix = facts_of[rule_id]
            whole = messages.get((rule_id, message))
            if whole is None:
                whole = messages[rule_id, message] = f"{message} {why}"
            if locate_node is not None:
                ref = locate_node(node, where)
            elif doc is not None:
                ref = doc.locate(where)
            else:  # only API rules report this way, and they run only with a document
                raise ValueError(f"no OpenAPI document to locate {where}")
            append(
                make(
                    ANALYZER,
                    rule_id,
                    severity,
                    title,
                    whole,
                    fix,
                    (ref,),
                    digest(prefix, where),  # fingerprint(ANALYZER, rule_id, where)
                    references,
                    category,
                    cwe,
                    suppression(rule, where) if waivers else None,
                )
            )

        return hit

    def _locate(self, ptr: str, node: Any) -> SourceRef:
        doc = self.doc
        if doc is None:  # only API rules pass pointers, and they run only with a document
            raise ValueError(f"no OpenAPI document to locate {ptr}")
        if node is not None and doc.locate_node is not None:
            return doc.locate_node(node, ptr)
        return doc.locate(ptr)

    def _suppression(self, rule: Rule, ptr: str) -> dict[str, Any] | None:
        """The nearest object on the pointer's way that waives the rule with x-workbench-ignore."""
        if not self.waivers:
            return None
        found: tuple[str, Mapping[str, Any]] | None = None
        walked = ""
        for raw in ["", *ptr.split("/")[1:]] if ptr else [""]:
            walked = f"{walked}/{raw}" if raw or walked else ""
            node = self.waivers.get(walked)
            if node is not None and _waives(node, rule):
                found = (walked, node)
        if found is None:
            return None
        return {
            "source": "spec",
            "pointer": found[0],
            "reason": str(found[1].get("x-workbench-ignore-reason", "")),
            "by": None,
            "at": None,
        }


class _Facts(NamedTuple):
    """What every finding of a rule repeats, worked out once."""

    rule: Rule
    severity: Severity
    title: str
    why: str
    fix: str
    references: tuple[str, str]
    category: str
    cwe: str
    fingerprint_prefix: str  # what fingerprint() hashes before the finding's key


_FACTS = {
    rule.id: _Facts(
        rule,
        rule.severity,
        rule.title,
        rule.why,
        rule.fix,
        (
            CATEGORY_BY_KEY[rule.category].reference,
            f"https://cwe.mitre.org/data/definitions/{rule.cwe.removeprefix('CWE-')}.html",
        ),
        f"{rule.category}:2023" if rule.category != "DP" else "DP",
        rule.cwe,
        fingerprint_prefix(ANALYZER, rule.id),
    )
    for rule in RULES
}


def _waives(node: Mapping[str, Any], rule: Rule) -> bool:
    ignored = node.get(IGNORE_KEY)
    if isinstance(ignored, str):
        ignored = [ignored]
    if not isinstance(ignored, list):
        return False
    return any(item in (rule.id, rule.id.removeprefix("sec."), *rule.spectral) for item in ignored)


def _types(node: Mapping[str, Any]) -> set[str]:
    kind = node.get("type")
    if type(kind) is str:
        return {kind}
    if type(kind) is list:
        return {str(k) for k in kind}
    return set()


def _walk(data: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every mapping of the document with its JSON pointer; examples and extensions are skipped."""
    return dict_objects(data, "", _SKIP_KEYS)


def _node_rules(review: _Review, ptr: str, node: Mapping[str, Any]) -> None:
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
                and _credential_name(param["name"])
            ):
                review.add(
                    "sec.api2.credentials-in-url",
                    f"{ptr}/parameters/{escape_pointer_part(str(key))}/name",
                    f"`{param['name']}` is passed in the {param['in']}.",
                )
    headers = node.get("headers")
    if type(headers) is dict and "Access-Control-Allow-Origin" not in headers:
        review.add(
            "sec.api8.cors-origin",
            f"{ptr}/headers",
            "These response headers do not include Access-Control-Allow-Origin.",
            node=headers,
        )


# What the per-object schema checks report, in the order `schema_scan` numbers them.
_SCHEMA_HITS = (
    ("sec.api4.array-limit", "This array schema sets no maxItems."),
    ("sec.api4.string-limit", "This string schema sets no maxLength, enum or const."),
    ("sec.api4.string-restricted", "This string schema sets no format, pattern, enum or const."),
    ("sec.api4.integer-limit", "This integer schema lacks a minimum or a maximum."),
    ("sec.api4.integer-format", "This integer schema sets no format."),
)


def _schema_rules(review: _Review, data: Mapping[str, Any], *, oas31: bool) -> list[tuple[str, dict[str, Any]]]:
    """The rules on every object; returns every `responses` object under /paths (callbacks
    included) with its pointer, met on the same walk, for the operation rules."""
    return _schema_scan(
        data,
        set(_SKIP_KEYS),
        oas31,
        review.hit_once,  # each object is met once
        _SCHEMA_HITS,
        lambda where, node: _node_rules(review, where, node),
        lambda where, node: _object_rules(review, where, node, oas31=oas31),
        _credential_name,
    )


Report = Callable[[str, str, Any, str], None]
Visit = Callable[[str, dict[str, Any]], None]


def _node_rules_apply(where: str, node: Mapping[str, Any], credential: Callable[[str], bool]) -> bool:
    """Whether `_node_rules` reports anything on `node`: response headers without
    Access-Control-Allow-Origin, or a credential passed in a URL."""
    headers = node.get("headers")
    if type(headers) is dict and "Access-Control-Allow-Origin" not in headers:
        return True
    if "parameters" not in node or where.endswith("/parameters"):
        return False
    params = node["parameters"]
    entries = params.values() if isinstance(params, dict) else params if isinstance(params, list) else ()
    return any(
        isinstance(param, dict)
        and isinstance(param.get("in"), str)
        and ("query" in param["in"] or "path" in param["in"])
        and isinstance(param.get("name"), str)
        and credential(param["name"])
        for param in entries
    )


def _schema_scan(
    data: Any,
    skip: set[str],
    oas31: bool,
    report: Report,
    hits: tuple[tuple[str, str], ...],
    node_rules: Visit,
    object_rules: Visit,
    credential: Callable[[str], bool],
) -> list[tuple[str, dict[str, Any]]]:
    """The per-object checks over every object of the walk, calling back for those a rule
    reports on, in walk order; returns every `responses` object under /paths with its pointer."""
    responses_objects = []
    for where, node in dict_objects(data, "", frozenset(skip)):
        if ("parameters" in node or "headers" in node) and _node_rules_apply(where, node, credential):
            node_rules(where, node)
        if "responses" in node and type(node["responses"]) is dict and where.startswith("/paths/"):
            responses_objects.append((f"{where}/responses", node["responses"]))
        kind = node.get("type")
        if kind is None:
            continue
        types = {kind} if type(kind) is str else _types(node)
        if "array" in types and "maxItems" not in node:
            report(hits[0][0], where, node, hits[0][1])
        if "string" in types:
            if not ("maxLength" in node or "enum" in node or "const" in node):
                report(hits[1][0], where, node, hits[1][1])
            if not ("format" in node or "pattern" in node or "enum" in node or "const" in node):
                report(hits[2][0], where, node, hits[2][1])
        if "integer" in types:
            if oas31:
                bounded = (("minimum" in node) != ("exclusiveMinimum" in node)) and (
                    ("maximum" in node) != ("exclusiveMaximum" in node)
                )
            else:
                bounded = "minimum" in node and "maximum" in node
            if not bounded:
                report(hits[3][0], where, node, hits[3][1])
            if "format" not in node:
                report(hits[4][0], where, node, hits[4][1])
        if kind == "object" and node.get("unevaluatedProperties" if oas31 else "additionalProperties"):
            object_rules(where, node)
    return responses_objects


def _object_rules(review: _Review, where: str, node: dict[str, Any], *, oas31: bool) -> None:
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


def _deref(doc: ApiDocument, node: Any, where: str) -> tuple[Any, str]:
    """Follow local refs; returns the target and the pointer of where it is written."""
    hops = 0
    while type(node) is dict and "$ref" in node and hops < 32:
        ref = node["$ref"]
        if type(ref) is not str or not ref.startswith("#"):
            break
        where = ref[1:]
        node = doc.resolve(ref) if doc.resolve is not None else resolve_pointer(doc.data, where)
        hops += 1
    return node, where


def _operations(doc: ApiDocument) -> Iterator[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    paths = doc.data.get("paths")
    if not isinstance(paths, dict):
        return
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield str(path), method, item, operation


# What the checks of every `responses` object report, in the order responses_rules takes them.
_RESPONSES_RULES = (
    ("sec.api4.no-429", "The operation documents no 429 response with a body."),
    ("sec.api8.error-401", "The operation documents no 401 response with a body."),
    ("sec.api8.error-500", "The operation documents no 500 response with a body."),
    ("sec.api8.error-validation", "The operation documents no 400, 422 or 4XX response."),
    ("sec.api4.rate-limit-headers", "The {} response declares no rate-limit headers."),
    ("sec.api4.retry-after", "The 429 response declares no Retry-After header."),
)


def _responses_rules(
    doc: ApiDocument, responses_objects: list[tuple[str, dict[str, Any]]], hit: Report, once: Report
) -> None:
    """`once` for what each responses object lacks, `hit` for each of its responses without rate-limit headers or, a
    429, without Retry-After."""
    no_429, no_401, no_500, no_validation, rate_limit, retry_after = _RESPONSES_RULES
    for where, responses in responses_objects:
        for (rule_id, message), status in ((no_429, "429"), (no_401, "401"), (no_500, "500")):
            if not _has_content(doc, responses.get(status)):
                once(rule_id, where, responses, message)
        if not ("400" in responses or "422" in responses or "4XX" in responses or _validation_status(responses)):
            once(no_validation[0], where, responses, no_validation[1])
        for status, response in responses.items():
            code = status if type(status) is str else str(status)
            resolved, at = _deref(doc, response, f"{where}/{escape_pointer_part(code)}")
            if type(resolved) is not dict:
                continue
            headers = resolved.get("headers")
            names = headers.keys() if type(headers) is dict else _NO_HEADERS
            if code[:1] in ("2", "4") and not (names and any(s <= names for s in _RATE_LIMIT_SETS)):
                message = rate_limit[1].format(code)
                if type(headers) is dict:
                    hit(rate_limit[0], f"{at}/headers", headers, message)
                else:
                    hit(rate_limit[0], at, resolved, message)
            if code == "429" and "Retry-After" not in names:
                hit(retry_after[0], at, resolved, retry_after[1])


def _operation_rules(review: _Review, doc: ApiDocument, responses_objects: list[tuple[str, dict[str, Any]]]) -> None:
    data = doc.data
    root_security = data.get("security")
    hit, once = review.hit, review.hit_once  # each responses object is met once; responses may be shared
    _responses_rules(doc, responses_objects, hit, once)

    admin_hashes: list[tuple[str, str, str]] = []
    other_hashes: set[str] = set()
    parameter_facts: dict[int, tuple[str, bool, bool, bool]] = {}  # id(parameter object) -> facts

    def rest(
        path: str,
        method: str,
        item: dict[str, Any],
        item_ptr: str,
        op_ptr: str,
        operation: dict[str, Any],
        webhook: bool,
    ) -> None:
        """Everything about an operation but the `hit` for no security at all."""
        declared = "security" in operation
        security = operation.get("security") if declared else root_security
        if not security and method in {"get", "head"} and declared and security == []:
            review.add(
                "sec.api2.unauthenticated-read",
                op_ptr + "/security",
                f"{method.upper()} {path} requires no authentication (declared public with `security: []`).",
                severity="low",
                node=security,
            )
        elif security and isinstance(security, list) and method in {"post", "put", "patch", "delete"}:
            for index, entry in enumerate(security):
                if isinstance(entry, dict) and not entry:
                    review.add(
                        "sec.api2.unauthenticated-write",
                        f"{op_ptr}/security/{index}",
                        f"{method.upper()} {path} accepts anonymous callers (`{{}}`).",
                    )
        if isinstance(security, list):
            for index, entry in enumerate(security):
                if not isinstance(entry, dict):
                    continue
                digest = repr(sorted((k, tuple(v or ())) for k, v in entry.items()))
                if "/admin" in path or "/internal" in path:
                    admin_hashes.append((path, f"{op_ptr}/security" + (f"/{index}" if declared else ""), digest))
                else:
                    other_hashes.add(digest)
        shared = item.get("parameters") or []
        parameters = [*shared, *(operation.get("parameters") or [])]
        for index, (name, numeric_id, url, unbounded_page) in _parameter_flags(
            doc, parameters, parameter_facts, method == "get"
        ):
            owner = item_ptr if index < len(shared) else op_ptr
            local = index if owner != op_ptr else index - len(shared)
            resolved, at = _deref(doc, parameters[index], f"{owner}/parameters/{local}")
            if numeric_id:
                _, schema_at = _deref(doc, resolved.get("schema"), at + "/schema")
                review.add("sec.api1.numeric-id", schema_at, f"Parameter `{name}` is an integer id.")
            if url:
                review.add("sec.api7.url-parameter", at + "/name", f"Parameter `{name}` looks like a URL.")
            if unbounded_page and method == "get":
                review.add("sec.api4.unbounded-page-size", at, f"`{name}` on {method.upper()} {path} has no maximum.")
        if operation.get("deprecated") is True:
            review.add(
                "sec.api9.deprecated-operation", op_ptr + "/deprecated", f"{method.upper()} {path} is deprecated."
            )
        if (
            webhook
            and not security
            and not any(
                isinstance(p := _deref(doc, raw, "")[0], dict) and _SIGNATURE.search(str(p.get("name", "")))
                for raw in parameters
            )
        ):
            review.add(
                "sec.api10.unsigned-webhook",
                op_ptr,
                f"{method.upper()} {path} receives calls from outside with neither authentication nor a signature header.",
                key=f"{method.upper()} {path}",
            )

    _operation_checks(data.get("paths"), root_security, hit, rest)
    for path, where, digest in admin_hashes:
        if digest in other_hashes:
            review.add(
                "sec.api5.admin-same-security",
                where,
                f"Admin operation {path} accepts the same security as non-admin operations.",
            )


_UNAUTHENTICATED_RULES = ("sec.api2.unauthenticated-write", "sec.api2.unauthenticated-read")
_UNAUTHENTICATED = " requires no authentication."


def _is_webhook(path: str) -> bool:
    # The pattern needs one of these words (any case): looking for them first spares most paths
    # the case-insensitive search.
    lowered = path.lower()
    if "webhook" not in lowered and "callback" not in lowered and "/hook" not in lowered:
        return False
    return _WEBHOOK_PATH.search(path) is not None


def _operation_checks(paths: Any, root_security: Any, hit: Report, rest: Callable[..., None]) -> None:
    """Every operation under `paths`: `hit` for one that no security covers, then `rest` for the
    other checks."""
    for raw_path, item in paths.items() if isinstance(paths, dict) else ():
        if not isinstance(item, dict):
            continue
        path = str(raw_path)
        item_ptr = f"/paths/{escape_pointer_part(path)}"
        webhook = _is_webhook(path)
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            op_ptr = f"{item_ptr}/{method}"
            declared = "security" in operation
            security = operation.get("security") if declared else root_security
            if not security and (
                method in {"post", "put", "patch", "delete"}
                or (method in {"get", "head"} and not (declared and security == []))
            ):
                # Point at the operation's `security` when it has one, else at the operation itself.
                where, node = (op_ptr + "/security", security) if declared else (op_ptr, operation)
                write = method in {"post", "put", "patch", "delete"}
                message = f"{method.upper()} {path}{_UNAUTHENTICATED}"
                hit(
                    _UNAUTHENTICATED_RULES[0 if write else 1],
                    where,
                    node if type(node) in (dict, list) else None,
                    message,
                )
            rest(path, method, item, item_ptr, op_ptr, operation, webhook)


def _parameter_flags(
    doc: ApiDocument, parameters: list[Any], cache: dict[int, tuple[str, bool, bool, bool]], is_get: bool
) -> list[tuple[int, tuple[str, bool, bool, bool]]]:
    """(index, facts) of each parameter worth reporting (an integer id, a URL, a page size without
    a maximum on a GET). Operations share parameters through $ref: what a parameter object is
    worth reporting for is worked out once (kept in `cache` by its identity), and where it is
    written only for those reported."""
    flagged = []
    for index, param in enumerate(parameters):
        resolved = _deref(doc, param, "")[0] if type(param) is dict and "$ref" in param else param
        facts = cache.get(id(resolved))
        if facts is None:
            facts = cache[id(resolved)] = _parameter_facts(doc, resolved)
        if facts[1] or facts[2] or (facts[3] and is_get):
            flagged.append((index, facts))
    return flagged


def _parameter_facts(doc: ApiDocument, resolved: Any) -> tuple[str, bool, bool, bool]:
    """(name, an integer id, a URL, a page size without a maximum) for a parameter object;
    nothing to report for anything that is not one."""
    if not isinstance(resolved, dict) or not isinstance(resolved.get("name"), str):
        return "", False, False, False
    name = resolved["name"]
    id_like, url, page_size = _name_facts(name)
    schema = _deref(doc, resolved.get("schema"), "")[0] if id_like or page_size else None
    return (
        name,
        id_like and isinstance(schema, dict) and schema.get("type") == "integer",
        url,
        page_size and isinstance(schema, dict) and "maximum" not in schema and "enum" not in schema,
    )


# Parameter names repeat across a large API (its paging, filters and ids): what a name alone says
# is worked out once per name.
@functools.lru_cache(maxsize=8192)
def _name_facts(name: str) -> tuple[bool, bool, bool]:
    """(an id by its name, a URL by its name, a page size by its name)."""
    return bool(name == "id" or _ID_NAME.search(name)), bool(_URL_NAME.search(name)), name.lower() in PAGE_SIZE_PARAMS


@functools.lru_cache(maxsize=8192)
def _credential_name(name: str) -> bool:
    return _CREDENTIAL_NAME.match(name) is not None


def _has_content(doc: ApiDocument, response: Any) -> bool:
    """Whether a response (absent: None) has a body, following its refs."""
    if response is None:
        return False
    resolved, _ = _deref(doc, response, "")
    return isinstance(resolved, dict) and bool(resolved.get("content"))


def _validation_status(responses: Mapping[Any, Any]) -> bool:
    """A 400, 422 or 4XX written as a YAML number rather than a string."""
    return any(str(k) in {"400", "422", "4XX"} for k in responses if type(k) is not str)


_NO_HEADERS: frozenset[str] = frozenset()


def _scheme_rules(review: _Review, doc: ApiDocument) -> None:
    components = doc.data.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    if not isinstance(schemes, dict) or not schemes:
        if review.model.endpoints:
            review.add(
                "sec.api2.no-security-scheme",
                "/components" if isinstance(components, dict) else "",
                "No securitySchemes are declared.",
            )
        return
    for name, raw in schemes.items():
        scheme, at = _deref(doc, raw, pointer("components", "securitySchemes", name))
        if not isinstance(scheme, dict):
            continue
        kind = scheme.get("type")
        value = scheme.get("scheme")
        if isinstance(value, str) and "basic" in value:
            review.add("sec.api2.http-basic", at + "/scheme", f"Scheme `{name}` is HTTP Basic.")
        if kind == "http" and isinstance(value, str) and re.fullmatch("negotiate|oauth", value):
            review.add("sec.api2.insecure-scheme", at + "/scheme", f"Scheme `{name}` uses `{value}`.")
        if kind == "apiKey" and scheme.get("in") in {"path", "query"}:
            review.add("sec.api2.api-key-in-url", at + "/in", f"Scheme `{name}` takes the key in the {scheme['in']}.")
        if kind == "oauth2" or str(scheme.get("bearerFormat", "")) in {"jwt", "JWT"}:
            description = scheme.get("description")
            if not description:
                review.add("sec.api2.jwt-best-practices", at, f"Scheme `{name}` has no description stating RFC 8725.")
            elif "RFC8725" not in str(description):
                review.add(
                    "sec.api2.jwt-best-practices",
                    at + "/description",
                    f"The description of `{name}` does not mention RFC8725.",
                )
        flows = scheme.get("flows") if kind == "oauth2" else None
        if isinstance(flows, dict):
            for flow_name, flow in flows.items():
                flow_at = f"{at}/flows/{flow_name}"
                if isinstance(flow, dict) and not flow.get("refreshUrl"):
                    review.add(
                        "sec.api2.long-lived-tokens", flow_at, f"Flow `{flow_name}` of `{name}` has no refreshUrl."
                    )
                if flow_name in {"implicit", "password"}:
                    review.add("sec.api2.weak-oauth-flow", flow_at, f"Scheme `{name}` offers the {flow_name} flow.")


def _server_rules(review: _Review, doc: ApiDocument) -> None:
    servers = doc.data.get("servers")
    if not isinstance(servers, list):
        servers = []
    urls = []
    for index, server in enumerate(servers):
        if not isinstance(server, dict):
            continue
        at = f"/servers/{index}"
        url = str(server.get("url", ""))
        urls.append(url)
        if url.startswith("http:"):
            review.add("sec.api8.http-server", at + "/url", f"Server `{url}` is plain HTTP.")
        if "x-internal" not in server:
            review.add("sec.api9.inventory-access", at, f"Server `{url}` does not say whether it is internal.")
        description = server.get("description")
        if description is not None and not _ENVIRONMENT.search(str(description)):
            review.add(
                "sec.api9.inventory-environment",
                at + "/description",
                f"The description of `{url}` names no environment.",
            )
        if _NON_PRODUCTION_HOST.search(url.split("://", 1)[-1].split("/", 1)[0]):
            review.add(
                "sec.api9.non-production-server", at + "/url", f"Server `{url}` looks like a non-production host."
            )
    paths = doc.data.get("paths") if isinstance(doc.data.get("paths"), dict) else {}
    if (
        review.model.endpoints
        and not any(_VERSION.search(u) for u in urls)
        and not all(_VERSION.search(str(p)) for p in paths)
    ):
        review.add(
            "sec.api9.unversioned",
            "/servers" if servers else "/paths",
            "Neither the server URLs nor the paths carry a version.",
        )


_Properties = tuple[tuple[str, dict[str, Any], str], ...]
# A property as collected: (name, schema, where its parent is written, where it is written when
# reached through a $ref). Its own pointer is built only for those a rule reports on.
_Collected = tuple[tuple[str, dict[str, Any], str, str | None], ...]


def _request_marks(name: str, prop: dict[str, Any]) -> tuple[bool, bool]:
    """(privileged and writable, URL-valued) for a request body's field."""
    lowered = name.lower()
    return (
        lowered in _PRIVILEGED and not prop.get("readOnly"),
        bool(prop.get("format") in _URL_FORMATS or _name_facts(name)[1] or lowered in _URL_FIELD_NAMES),
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

    def _key(self, schema: Any, where: str) -> tuple[dict[str, Any] | None, tuple[int, str]]:
        resolved, at = _deref(self.doc, schema, where)
        return (resolved if type(resolved) is dict else None), (id(resolved), at)

    def collected(self, schema: Any, where: str) -> _Collected:
        resolved, key = self._key(schema, where)
        if resolved is None:
            return ()
        found = self._properties.get(key)
        if found is None:
            found = self._properties[key] = tuple(_collect_properties(self.doc, resolved, key[1], 0))
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
            for name, prop, parent, ref_at in self.collected(resolved, key[1]):
                privileged, url = _request_marks(name, prop)
                if privileged or url:
                    marked.append((name, prop, _property_pointer(parent, name, ref_at), privileged, url))
            found = self._requests[key] = tuple(marked)
        return found

    # Most bodies hold no field these rules look for. Finding that out needs no pointer, and
    # depends on the schema object alone: worked out once per object, before any pointer is built.
    def may_report_request(self, schema: Any) -> bool:
        resolved = _deref(self.doc, schema, "")[0]
        if type(resolved) is not dict:
            return False
        found = self._request_flags.get(id(resolved))
        if found is None:
            found = self._request_flags[id(resolved)] = any(
                any(_request_marks(name, prop)) for name, prop, _, _ in _collect_properties(self.doc, resolved, "", 0)
            )
        return found

    def names(self, schema: Any) -> frozenset[str]:
        """The lower-cased names of a body schema's top-level properties."""
        resolved = _deref(self.doc, schema, "")[0]
        if type(resolved) is not dict:
            return frozenset()
        found = self._names.get(id(resolved))
        if found is None:
            found = self._names[id(resolved)] = frozenset(
                name.lower() for name, _, _, _ in _collect_properties(self.doc, resolved, "", 0)
            )
        return found

    def response(self, schema: Any, where: str) -> tuple[_Properties, _Properties]:
        """(secret fields returned, fields that leak internals in errors)."""
        resolved, key = self._key(schema, where)
        if resolved is None:
            return (), ()
        found = self._responses.get(key)
        if found is None:
            props = self.collected(resolved, key[1])
            found = self._responses[key] = (
                tuple(
                    (name, prop, _property_pointer(parent, name, ref_at))
                    for name, prop, parent, ref_at in props
                    if name.lower() in _SECRET_FIELDS and not prop.get("writeOnly")
                ),
                tuple(
                    (name, prop, _property_pointer(parent, name, ref_at))
                    for name, prop, parent, ref_at in props
                    if name.lower() in _LEAKY_ERROR_FIELDS
                ),
            )
        return found


def _collect_properties(
    doc: ApiDocument, schema: Any, where: str, depth: int
) -> Iterator[tuple[str, Any, str, str | None]]:
    resolved, at = _deref(doc, schema, where)
    if depth > 8 or not isinstance(resolved, dict):
        return
    if resolved.get("type") == "array" and "items" in resolved:
        yield from _collect_properties(doc, resolved["items"], at + "/items", depth + 1)
        return
    props = resolved.get("properties")
    if isinstance(props, dict):
        for name, prop in props.items():
            ref = prop.get("$ref") if type(prop) is dict else None
            if type(ref) is str and ref.startswith("#"):  # followed: written where the ref leads
                target, ref_at = _deref(doc, prop, "")
            else:
                target, ref_at = prop, None
            if isinstance(target, dict):
                yield str(name), target, at, ref_at
    for combo in ("allOf", "oneOf", "anyOf"):
        parts = resolved.get(combo)
        if isinstance(parts, list):
            for index, part in enumerate(parts):
                yield from _collect_properties(doc, part, f"{at}/{combo}/{index}", depth + 1)


def _body_rules(review: _Review, doc: ApiDocument) -> None:
    bodies = _Bodies(doc)
    for path, method, operation in _body_operations(doc):
        op_ptr = f"/paths/{escape_pointer_part(path)}/{method}"
        label = f"{method.upper()} {path}"
        request, request_at = _deref(doc, operation.get("requestBody"), op_ptr + "/requestBody")
        if isinstance(request, dict) and method in {"post", "put", "patch"}:
            for media, media_obj in (request.get("content") or {}).items():
                if not isinstance(media_obj, dict) or not bodies.may_report_request(media_obj.get("schema")):
                    continue
                for name, prop, at, privileged, url in bodies.request(
                    media_obj.get("schema"), f"{request_at}/content/{escape_pointer_part(str(media))}/schema"
                ):
                    if privileged:
                        review.add(
                            "sec.api3.privileged-field-writable",
                            at,
                            f"{label} lets the caller set `{name}`.",
                            key=f"{at}|{label}",
                            node=prop,
                        )
                    if url:
                        review.add(
                            "sec.api7.url-input",
                            at,
                            f"{label} accepts `{name}`, a URL.",
                            key=f"{at}|{label}",
                            node=prop,
                        )
        responses = operation.get("responses")
        if not isinstance(responses, dict):
            continue
        for status, response in responses.items():
            kind = str(status)[:1]
            if kind not in ("2", "3", "4", "5"):
                continue
            wanted = _SECRET_FIELDS if kind in ("2", "3") else _LEAKY_ERROR_FIELDS
            resolved = _deref(doc, response, "")[0]
            if not isinstance(resolved, dict) or not any(
                isinstance(media_obj, dict) and not wanted.isdisjoint(bodies.names(media_obj.get("schema")))
                for media_obj in (resolved.get("content") or {}).values()
            ):
                continue  # nothing in its bodies that the rules below report
            resolved, at = _deref(doc, response, f"{op_ptr}/responses/{escape_pointer_part(str(status))}")
            if not isinstance(resolved, dict):
                continue
            for media, media_obj in (resolved.get("content") or {}).items():
                if not isinstance(media_obj, dict):
                    continue
                base = f"{at}/content/{escape_pointer_part(str(media))}/schema"
                secrets, leaks = bodies.response(media_obj.get("schema"), base)
                for name, prop, prop_at in secrets if kind in ("2", "3") else ():
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
    components = doc.data.get("components")
    schemas = components.get("schemas") if isinstance(components, dict) else None
    if isinstance(schemas, dict):
        for name in schemas:
            if "error" in str(name).lower() or "problem" in str(name).lower():
                for prop_name, _prop, prop_at in bodies.properties(
                    schemas[name], pointer("components", "schemas", str(name))
                ):
                    if prop_name.lower() in _LEAKY_ERROR_FIELDS:
                        review.add(
                            "sec.api8.error-leaks-internals",
                            prop_at,
                            f"Error schema `{name}` carries `{prop_name}`.",
                            key=prop_at,
                        )


def _body_operations(doc: ApiDocument) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    """The operations the body rules look at, in document order."""
    return ((path, method, operation) for path, method, _, operation in _operations(doc))


def _story_rules(review: _Review) -> None:
    model = review.model
    stories_by_endpoint: dict[str, list[Any]] = {}
    for story in model.stories:
        for ref in story.endpoints:
            endpoint = match_endpoint(ref, model.endpoints)
            if endpoint is not None:
                stories_by_endpoint.setdefault(endpoint.key, []).append(story)
    for endpoint in model.endpoints:
        if not endpoint.security or not _has_object_id(endpoint):
            continue
        stories = stories_by_endpoint.get(endpoint.key, [])
        evidence = [(s, c) for s in stories for c in s.acceptance_criteria if _OWNERSHIP.search(c)]
        if evidence:
            story, criterion = evidence[0]
            review.add(
                "sec.api1.object-access-required",
                endpoint.source,
                f"{story.id} says \u201c{criterion}\u201d: {endpoint.label} must return only the caller's objects.",
                key=endpoint.key,
                also=(story.source,),
            )
        else:
            cited = ", ".join(s.id for s in stories) or "no story"
            review.add(
                "sec.api1.object-access-unstated",
                endpoint.source,
                f"{endpoint.label} takes {', '.join('{' + p.name + '}' for p in endpoint.parameters if p.location == 'path')}; {cited} states who may access it.",
                key=endpoint.key,
                also=tuple(s.source for s in stories),
            )
    for story in model.stories:
        text = " ".join([story.title, story.goal or "", *story.acceptance_criteria])
        if _SENSITIVE_FLOW.search(text) and not _ANTI_AUTOMATION.search(text):
            endpoints = [e for ref in story.endpoints if (e := match_endpoint(ref, model.endpoints))]
            review.add(
                "sec.api6.sensitive-flow",
                story.source,
                f"{story.id} ({story.title}) is a flow worth automating for abuse and names no limit on it.",
                key=story.id,
                also=tuple(e.source for e in endpoints),
            )
        webhook_story = any(_SIGNATURE_STORY.search(c) for c in story.acceptance_criteria)
        if webhook_story:
            for ref in story.endpoints:
                endpoint = match_endpoint(ref, model.endpoints)
                if (
                    endpoint
                    and _WEBHOOK_PATH.search(endpoint.path)
                    and not any(_SIGNATURE.search(p.name) for p in endpoint.parameters)
                ):
                    review.add(
                        "sec.api10.unsigned-webhook",
                        endpoint.source,
                        f"{story.id} requires the provider's calls to be verified by signature, but {endpoint.label} declares no signature header.",
                        key=f"{endpoint.method} {endpoint.path}",
                        also=(story.source,),
                        title="Webhook signature required by a story but not in the API",
                    )


def _endpoint_rules(review: _Review) -> None:
    for endpoint in review.model.endpoints:
        if endpoint.method != "GET" or endpoint.pagination is not None:
            continue
        lists = any(r.status.startswith("2") and r.body is not None and r.body.is_array for r in endpoint.responses)
        if lists:
            review.add(
                "sec.api4.unpaginated-list",
                endpoint.source,
                f"{endpoint.label} returns an array and takes no paging parameter.",
                key=endpoint.key,
            )


def _has_object_id(endpoint: Endpoint) -> bool:
    return any(p.location == "path" and _name_facts(p.name)[0] for p in endpoint.parameters)


def _data_rules(review: _Review) -> None:
    model = review.model
    for entity in model.entities:
        personal = []
        for column in entity.columns:
            name = column.name.lower()
            if name in _CARD_NUMBER:
                review.add(
                    "sec.dp.card-number-stored",
                    column.source,
                    f"{entity.name}.{column.name} holds card numbers.",
                    key=f"{entity.name}.{column.name}",
                )
            if name in _SENSITIVE:
                review.add(
                    "sec.dp.sensitive-data",
                    column.source,
                    f"{entity.name}.{column.name} is special category or identity data.",
                    key=f"{entity.name}.{column.name}",
                )
            if name in _PLAINTEXT_SECRET:
                review.add(
                    "sec.dp.plaintext-secret",
                    column.source,
                    f"{entity.name}.{column.name} looks like a plain-text secret.",
                    key=f"{entity.name}.{column.name}",
                )
            if name in _PERSONAL:
                personal.append(column)
        if personal:
            review.add(
                "sec.dp.personal-data",
                personal[0].source,
                f"{entity.name} holds personal data: {', '.join(c.name for c in personal)}.",
                key=entity.name,
                also=tuple(c.source for c in personal[1:]),
            )
    for story in model.stories:
        for criterion in story.acceptance_criteria:
            for match in _NEVER_STORED.finditer(criterion):
                subject = re.sub(r"^(the|a|an|any|full)\s+", "", match.group("what").strip().lower())
                wanted = re.sub(r"[^a-z0-9]+", "_", subject).strip("_")
                if not wanted:
                    continue
                hits: list[tuple[str, SourceRef]] = []
                for entity in model.entities:
                    hits += [(f"{entity.name}.{c.name}", c.source) for c in entity.columns if c.name.lower() == wanted]
                if review.doc is not None:
                    for ptr, node in _walk(review.doc.data):
                        props = node.get("properties")
                        if isinstance(props, dict) and wanted in props:
                            hits.append((f"{ptr}/properties/{wanted}", review.doc.locate(f"{ptr}/properties/{wanted}")))
                if hits:
                    review.add(
                        "sec.dp.story-contradiction",
                        hits[0][1],
                        f"{story.id} says \u201c{criterion}\u201d, yet the design has {', '.join(h[0] for h in hits)}.",
                        key=f"{story.id}|{wanted}",
                        also=(story.source, *(h[1] for h in hits[1:])),
                    )


class _Graded(Protocol):
    category: str
    severity: str
    suppressed: Mapping[str, Any] | None


def checklist(findings: Iterable[_Graded], *, has_api: bool, has_model: bool) -> list[dict[str, Any]]:
    """One item per OWASP category and data protection, with a status derived from the findings.

    Takes anything with category, severity and suppressed: engine findings or stored ones."""
    counts: dict[str, int] = {}
    worst: dict[str, int] = {}  # category -> rank of its most severe open finding
    for (category_id, severity), count in Counter(
        (f.category, f.severity) for f in findings if not f.suppressed
    ).items():
        key = category_id.partition(":")[0]
        counts[key] = counts.get(key, 0) + count
        worst[key] = min(worst.get(key, len(SEVERITIES)), severity_rank(severity))
    items = []
    for category in CATEGORIES:
        applicable = has_model if category.key == "DP" else has_api
        if not applicable:
            status = "not_applicable"
        elif worst.get(category.key, len(SEVERITIES)) <= severity_rank("medium"):
            status = "fail"
        elif counts.get(category.key):
            status = "needs_review"
        else:
            status = "pass"
        items.append(
            {
                "key": category.key,
                "title": category.title,
                "status": status,
                "findings": counts.get(category.key, 0),
                "explanation": category.explanation,
                "reference": category.reference,
            }
        )
    return items


def analyze_security(model: DesignModel) -> tuple[list[Finding], dict[str, Any]]:
    """All security rules over the design. See the module docstring."""
    with collector_paused():
        return _analyze_security(model)


def _analyze_security(model: DesignModel) -> tuple[list[Finding], dict[str, Any]]:
    review = _Review(model=model, doc=model.api_document)
    doc = model.api_document
    if doc is not None:
        oas31 = doc.version.startswith("3.1")
        _story_rules(review)  # first: where a story speaks about an operation, its finding wins
        responses_objects = _schema_rules(review, doc.data, oas31=oas31)
        _scheme_rules(review, doc)
        _server_rules(review, doc)
        _operation_rules(review, doc, responses_objects)
        _body_rules(review, doc)
        _endpoint_rules(review)
    else:
        _story_rules(review)
    _data_rules(review)
    section = {
        "checklist": checklist(
            review.findings, has_api=doc is not None, has_model=bool(model.entities) or doc is not None
        ),
        "rules": len(RULES),
        "suppressed": sum(1 for f in review.findings if f.suppressed),
    }
    return review.findings, section
