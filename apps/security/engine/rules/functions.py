"""Rules on what an operation is for, read from the DesignModel: admin and internal operations
reachable with weak or no authentication (API5), internal operations in a published description
(API9), and webhooks and callbacks documented without a way to verify them (API10).

An operation is admin or internal when a segment of its path says so (admin, internal, ops, debug,
management, back office, superuser), when its operationId or a tag starts with one of those words
or names admin, or when a story citing it reserves it to a role (`story_intents`). Authentication is weak when every way to
call the operation is an API key or HTTP Basic while other operations of the API ask for OAuth 2,
OpenID Connect, bearer tokens or mutual TLS.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator

from apps.designs.engine.matching import match_endpoint
from apps.designs.engine.model import Endpoint, SecurityScheme
from apps.designs.engine.receivers import SIGNATURE, receiver_evidence
from apps.designs.engine.story_intents import story_intents
from apps.security.engine.reporter import Review

_ADMIN_WORDS = frozenset(
    {"admin", "admins", "administration", "internal", "ops", "debug", "management", "backoffice", "superuser", "sudo"}
)
# What each of _ADMIN_WORDS holds (the lowercase of a word found in a name is in the name's).
_ADMIN_STEMS = ("admin", "internal", "ops", "debug", "management", "backoffice", "superuser", "sudo")
_INTERNAL_SEGMENT = re.compile(
    r"^(?:_*internal|_*debug_*|actuator|_+admin|metrics|_metrics|prometheus|pprof|heapdump|threaddump|jolokia|_ops|_private)$",
    re.IGNORECASE,
)
_PREFIX_SEGMENT = re.compile(r"^(?:api|v\d+(?:\.\d+)*|rest|public)$", re.IGNORECASE)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def _segments(path: str) -> Iterator[str]:
    """A path's segments other than its parameters, read as they are asked for: both rules
    below stop at the first they look for, most paths at their first segment."""
    return (s for s in path.split("/") if s and not s.startswith("{"))


def _receiving_evidence(endpoint: Endpoint) -> str:
    return receiver_evidence(endpoint) or "path"


def _internal_document(review: Review) -> bool:
    """Whether the document says it is for internal use only: every server it lists is marked
    `x-internal: true`."""
    servers = review.doc.data.get("servers") if review.doc is not None else None
    return (
        isinstance(servers, list)
        and bool(servers)
        and all(isinstance(s, dict) and s.get("x-internal") is True for s in servers)
    )


def _internal_root(path: str) -> str | None:
    """The internal segment a path starts with (after an `api` or version segment): `/metrics`,
    `/v1/internal/...`; a resource's own `metrics` deeper in the path is not one."""
    for segment in itertools.islice(_segments(path), 3):
        internal = _internal_segment(segment)
        if internal:
            return segment
        if internal is None:
            return None
    return None


# A large API's thousands of paths start with a few dozen segments: each is read once.
@functools.lru_cache(maxsize=8192)
def _internal_segment(segment: str) -> bool | None:
    """True for an internal segment (`metrics`), False for one an API's paths start with (`api`,
    `v1`), None for any other."""
    if _INTERNAL_SEGMENT.match(segment):
        return True
    return False if _PREFIX_SEGMENT.match(segment) else None


def _admin_by_name(endpoint: Endpoint, by_path: dict[str, str | None]) -> str | None:
    """What names the operation admin or internal: a path segment, its operationId or a tag.
    `by_path` keeps what each path's segments say (a path's operations share them)."""
    path = endpoint.path
    if path in by_path:
        segment = by_path[path]
    else:
        segment = by_path[path] = _admin_path_segment(path)
    if segment is not None:
        return f"its path segment `{segment}`"
    if endpoint.operation_id and _names_admin(endpoint.operation_id):
        return f"its operationId `{endpoint.operation_id}`"
    for tag in endpoint.tags:
        if _tag_names_admin(tag):
            return f"its tag `{tag}`"
    return None


def _holds_admin_stem(lowered: str) -> bool:
    """Whether a lowered path or name holds one of `_ADMIN_STEMS` (a loop rather than any() over a
    generator: asked of every operation)."""
    for stem in _ADMIN_STEMS:  # noqa: SIM110
        if stem in lowered:
            return True
    return False


def _admin_path_segment(path: str) -> str | None:
    """The first segment of a path that names it admin or internal (`_admin_segment`), or None."""
    # An admin segment holds one of these (as `_names_admin`'s names do), or is `back-office`:
    # a path holding none (nine in ten of Microsoft Graph's 7,419) is not split.
    lowered = path.lower()
    if "back-office" not in lowered and not _holds_admin_stem(lowered):
        return None
    return next((s for s in _segments(path) if _admin_segment(s)), None)


# A large API's thousands of paths repeat a few hundred segments and tags: each is read once.
@functools.lru_cache(maxsize=8192)
def _admin_segment(segment: str) -> bool:
    return segment.strip("_").lower() in _ADMIN_WORDS or segment.lower() in ("back-office", "_admin")


@functools.lru_cache(maxsize=4096)
def _tag_names_admin(tag: str) -> bool:
    return _names_admin(tag)


def _names_admin(name: str) -> bool:
    """An operationId or tag that starts with an admin word (`adminListUsers`, `Internal`,
    `ops.reindex`) or has `admin` among its words (`get-admin-settings`); a compound resource name
    such as `deviceManagement` or `internalDomainFederation` does not."""
    # Every word it looks for holds one of these: most names, holding none, need no split.
    lowered_name = name.lower()
    if not _holds_admin_stem(lowered_name):
        return False
    words = _WORD.findall(name)
    if not words:
        return False
    lowered = [w.lower() for w in words]
    return lowered[0] in _ADMIN_WORDS or bool({"admin", "admins", "administration"} & set(lowered))


def _strong(scheme: SecurityScheme | None) -> bool:
    if scheme is None:
        return False
    if scheme.type in ("oauth2", "openIdConnect", "mutualTLS"):
        return True
    return scheme.type == "http" and str(scheme.details.get("scheme", "")).lower() == "bearer"


def _weak(scheme: SecurityScheme | None) -> bool:
    if scheme is None:
        return False
    return scheme.type == "apiKey" or (
        scheme.type == "http" and str(scheme.details.get("scheme", "")).lower() == "basic"
    )


def function_rules(review: Review, *, receiving: list[Endpoint]) -> None:
    """The rules on what operations are for; `receiving` is `receivers` of the model."""
    model = review.model
    schemes = {s.name: s for s in model.api.security_schemes} if model.api else {}
    restricted: dict[str, str] = {}  # endpoint key -> the story line reserving it to a role
    for story in model.stories:
        roles = [i for i in story_intents(story) if i.kind == "role"]
        if not roles:
            continue
        for ref in story.endpoints:
            endpoint = match_endpoint(ref, model.endpoints)
            if endpoint is not None:
                restricted.setdefault(endpoint.key, f"{story.id} reserves it to {roles[0].detail}")
    admin: list[tuple[Endpoint, str]] = []
    strong_elsewhere = False
    public = not _internal_document(review)
    admin_segments: dict[str, str | None] = {}  # path -> its admin segment (see `_admin_by_name`)
    internal_roots: dict[str, str | None] = {}  # path -> `_internal_root`
    for endpoint in model.endpoints:
        # `endpoint.key` is built per call: asked only when some story reserves an operation.
        why = _admin_by_name(endpoint, admin_segments) or (restricted.get(endpoint.key) if restricted else None)
        if why:
            admin.append((endpoint, why))
        elif any(
            alternative and all(_strong(schemes.get(n)) for n in alternative) for alternative in endpoint.security
        ):
            strong_elsewhere = True
        internal = None
        if public:
            if endpoint.path not in internal_roots:
                internal_roots[endpoint.path] = _internal_root(endpoint.path)
            internal = internal_roots[endpoint.path]
        if internal:
            review.add(
                "sec.api9.internal-path-exposed",
                endpoint.source,
                f"{endpoint.label} is an internal operation (`/{internal}`) in the API description.",
                key=endpoint.path,
            )
    for endpoint, why in admin:
        if not endpoint.security or any(not alternative for alternative in endpoint.security):
            message = f"{endpoint.label} is an admin or internal operation ({why}) that requires no authentication."
        elif strong_elsewhere and all(
            alternative and all(_weak(schemes.get(n)) for n in alternative) for alternative in endpoint.security
        ):
            used = ", ".join(sorted({n for alternative in endpoint.security for n in alternative}))
            message = f"{endpoint.label} is an admin or internal operation ({why}) reachable with only {used} (an API key or HTTP Basic), where the rest of the API asks for OAuth or bearer tokens."
        else:
            continue
        review.add("sec.api5.admin-weak-auth", endpoint.source, message, key=endpoint.key)
    for webhook in receiving:
        signed = any(SIGNATURE.search(p.name) for p in webhook.parameters if p.location in ("header", "query"))
        secured = bool(webhook.security) and all(alternative for alternative in webhook.security)
        if not signed and not secured:
            review.add(
                "sec.api10.unsigned-webhook",
                webhook.source,
                f"The {webhook.kind} {webhook.label} is documented with neither a signature header nor a security scheme: its receiver cannot tell a forged call from a real one."
                if webhook.kind != "operation"
                else f"{webhook.label} receives calls from outside (its {_receiving_evidence(webhook)}) with neither authentication nor a signature header.",
                key=f"{webhook.method} {webhook.path}",
            )
