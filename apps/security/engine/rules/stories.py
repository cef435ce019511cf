"""Rules that read the stories beside the API, through what each story requires
(`story_intents`): object-level access a story states or leaves unstated (API1), the role an
operation is reserved to (API5), stated limits (API4, API6), signed and idempotent calls received
from outside, checked on every operation that receives them whatever its path is called (API10,
API6), and fields the server derives from the caller that a request body lets the client set
(API3); and lists returned without paging (API4), read from the DesignModel's endpoints."""

from __future__ import annotations

import re
from collections.abc import Iterable

from apps.designs.engine.loader import singular, snake
from apps.designs.engine.matching import match_endpoint
from apps.designs.engine.model import Endpoint, Story
from apps.designs.engine.receivers import SIGNATURE, WEBHOOK_PATH, is_webhook, receiver_evidence
from apps.designs.engine.story_intents import DOMAIN_ROLES, PRIVILEGED_ROLES, Intent, field_matches, story_intents
from apps.designs.engine.structured import resolve_pointer
from apps.designs.engine.text import Prefiltered
from apps.security.engine.reporter import Review
from apps.security.engine.rules.bodies import request_properties
from apps.security.engine.rules.common import deref, name_facts

_SENSITIVE_FLOW = re.compile(
    r"\b(check ?out|place an order|places? (an |the )?order|sign[ -]?up|register|registration|book(ing)?|reserv|pay(s|ment)?\b|password reset|reset (my|the) password|coupon|voucher|redeem|vote|ticket|transfer)",
    re.IGNORECASE,
)
# Who acts in a story that is not the public a business flow is abused by: staff roles and
# the third parties (a bank, a provider) that call the API under a contract.
_INSIDE_ACTOR = re.compile(
    rf"^(?:an?\s+|the\s+)?(?:[a-z]+\s+)?(?:{PRIVILEGED_ROLES}|{DOMAIN_ROLES}|hr users?|approvers?|bank|provider|partner|payment provider|system|service|scheduler|integration)\b",
    re.IGNORECASE,
)
_ANTI_AUTOMATION = re.compile(
    r"rate[- ]?limit|throttl|captcha|bot|automat|velocity|per[- ](account|device|ip)|fraud|abuse", re.IGNORECASE
)
_RECEIVER_STORY = re.compile(r"web-?hook|call-?back|notification|provider|\bipn\b|\bevents?\b", re.IGNORECASE)
_IDEMPOTENCY_KEY = re.compile(r"idempot|dedup|request[-_]?id", re.IGNORECASE)
_EVENT_ID = re.compile(
    r"idempot|dedup|request[-_]?id|event[-_]?id|delivery[-_]?id|webhook[-_]?id|message[-_]?id", re.IGNORECASE
)


def _quote(intent: Intent) -> str:
    return (
        f"\u201c{intent.sentence}\u201d (line {intent.source.line})"
        if intent.source.line
        else f"\u201c{intent.sentence}\u201d"
    )


def story_rules(review: Review, *, receiving: list[Endpoint]) -> None:
    """The rules on what the stories say of the operations; `receiving` is `receivers` of the
    model (worked out once for this and the function rules)."""
    model = review.model
    intents = {story.id: story_intents(story) for story in model.stories}
    stories_by_endpoint: dict[str, list[Story]] = {}
    for story in model.stories:
        for ref in story.endpoints:
            endpoint = match_endpoint(ref, model.endpoints)
            if endpoint is not None and story not in stories_by_endpoint.setdefault(endpoint.key, []):
                stories_by_endpoint[endpoint.key].append(story)
    for endpoint in model.endpoints:
        # A large API's operations are mostly cited by no story (all of them when the design has
        # none): the rules that need a story's evidence are not asked then.
        stories = stories_by_endpoint.get(endpoint.key, []) if stories_by_endpoint else []
        _object_access(review, endpoint, stories, intents)
        if stories:
            _function_access(review, endpoint, stories, intents)
            _stated_limits(review, endpoint, stories, intents)
        _credential_attempts(review, endpoint, stories, intents)
    for story in model.stories:
        said = intents[story.id]
        _sensitive_flow(review, story, said)
        cited = [e for ref in story.endpoints if (e := match_endpoint(ref, model.endpoints))]
        _signed_calls(review, story, said, cited, receiving)
        _idempotent_calls(review, story, said, cited, receiving)
    _derived_fields(review, intents)


def _object_access(
    review: Review, endpoint: Endpoint, stories: list[Story], intents: dict[str, tuple[Intent, ...]]
) -> None:
    """A story stating that the objects are the caller's makes object-level authorization a
    requirement of the operation; an operation taking an object id that no story speaks about
    needs review."""
    reads = endpoint.method in ("GET", "HEAD")
    evidence = [
        (s, i) for s in stories for i in intents[s.id] if i.kind == "ownership" and _about(i.sentence, reads=reads)
    ]
    # Whether it takes an object id is asked only where a branch needs it: with evidence, or for a
    # secured operation (none of Microsoft Graph's 11,422 operations declares security).
    if evidence and (endpoint.method == "GET" or _has_object_id(endpoint)):
        story, intent = evidence[0]
        # One requirement for the design: object-level checks the stories ask of their operations,
        # each operation and the sentence asking it a place.
        review.add(
            "sec.api1.object-access-required",
            endpoint.source,
            f"{story.id} says {_quote(intent)}: {endpoint.label} must return only the caller's objects.",
            key="stories",
            also=(intent.source,),
            gather=(
                endpoint.label,
                "{count} operations must return only the caller's objects, as the stories citing them say: {operations}.",
                (endpoint.source, intent.source),
            ),
        )
    elif (
        endpoint.security
        and _has_object_id(endpoint)
        and not any(i.kind in ("role", "public") for st in stories for i in intents[st.id])
    ):
        # A story reserving the operation to a role has said who may access its objects: the role
        # (`_function_access` asks that the server check it); one opening it to anyone has too.
        cited = ", ".join(s.id for s in stories) or "no story"
        message = f"{endpoint.label} takes {', '.join('{' + p.name + '}' for p in endpoint.parameters if p.location == 'path')}; {cited} states who may access it."
        if not review.model.stories:
            # A design without stories says nothing of anyone's objects: one gap, every such
            # operation a place (a public API's hundreds of id paths are not each a decision here).
            review.add(
                "sec.api1.object-access-unstated",
                endpoint.source,
                message,
                key="no stories",
                gather=(
                    f"{endpoint.method} {endpoint.path}",
                    "{count} operations take an object id and the design has no stories to say who may access them: {operations}.",
                    endpoint.source,
                ),
            )
            return
        review.add(
            "sec.api1.object-access-unstated",
            endpoint.source,
            message,
            key=endpoint.key,
            also=tuple(s.source for s in stories),
        )


_READ_VERBS = re.compile(
    r"\b(?:see|sees|seen|view|views|read|reads|list|lists|open|opens|download|downloads|browse|show|shows|shown|export|exports|look up|search)\b",
    re.IGNORECASE,
)
_WRITE_VERBS = re.compile(
    r"\b(?:save|saves|create|creates|add|adds|update|updates|edit|edits|change|changes|cancel|cancels|delete|deletes|remove|removes|book|books|write|writes|record|records|submit|submits|upload|uploads|move|moves|renew|renews|approve|approves|pay|pays|mark|marks)\b",
    re.IGNORECASE,
)


def _about(sentence: str, *, reads: bool) -> bool:
    """Whether an ownership sentence speaks of reading (`reads`) or of changing: one that names
    only writes ("given a consultation I hold, when I save notes") says nothing of who may read,
    and the reverse; one naming both or neither speaks of all."""
    read, write = bool(_READ_VERBS.search(sentence)), bool(_WRITE_VERBS.search(sentence))
    if read == write:
        return True
    return read if reads else write


def _function_access(
    review: Review, endpoint: Endpoint, stories: list[Story], intents: dict[str, tuple[Intent, ...]]
) -> None:
    """A story reserving an operation to a role makes function-level authorization a requirement;
    when nothing in the operation's security sets it apart (no scope, the same schemes as the
    rest of the API), the requirement is unmet in the API itself."""
    evidence = [(s, i) for s in stories for i in intents[s.id] if i.kind == "role"]
    if not evidence:
        return
    # A sentence restricting the operation is better evidence than the story's actor ("As an admin").
    evidence.sort(key=lambda found: found[1].sentence.lower().startswith("as "))
    story, intent = evidence[0]
    if any(scopes for scopes in _scopes(review, endpoint)):
        return  # its security asks for a scope of its own: the design sets the role apart
    review.add(
        "sec.api5.role-required",
        endpoint.source,
        f"{story.id} says {_quote(intent)}, but nothing in the security of {endpoint.label} sets {intent.detail} apart from other callers: no scope, no scheme of their own.",
        key=f"{story.id}|{intent.sentence}",
        also=(intent.source,),
        gather=(
            endpoint.label,
            f"{story.id} says {_quote(intent)}, but nothing in the security of {{count}} operations ({{operations}}) sets {intent.detail} apart from other callers: no scope, no scheme of their own.",
            endpoint.source,
        ),
    )


def _scopes(review: Review, endpoint: Endpoint) -> Iterable[tuple[str, ...]]:
    """The scopes each security requirement of the operation asks for, read from the document."""
    doc = review.doc
    pointer = endpoint.source.pointer
    if doc is None or not pointer:
        return ()
    operation = resolve_pointer(doc.data, pointer)
    security = (
        operation.get("security")
        if isinstance(operation, dict) and "security" in operation
        else doc.data.get("security")
    )
    if not isinstance(security, list):
        return ()
    return tuple(
        tuple(str(s) for scopes in entry.values() if isinstance(scopes, list) for s in scopes)
        for entry in security
        if isinstance(entry, dict)
    )


def _stated_limits(
    review: Review, endpoint: Endpoint, stories: list[Story], intents: dict[str, tuple[Intent, ...]]
) -> None:
    """A rate the story states is refused with 429: an operation the story cites that documents
    no 429 leaves clients without the refusal the story promises."""
    evidence = [
        (s, i)
        for s in stories
        for i in intents[s.id]
        if i.kind == "limit" and i.detail in ("rate", "lockout", "control")
    ]
    if not evidence or any(r.status == "429" for r in endpoint.responses):
        return
    story, intent = evidence[0]
    review.add(
        "sec.api4.story-limit-undocumented",
        endpoint.source,
        f"{story.id} says {_quote(intent)}, yet {endpoint.label} documents no 429 response.",
        key=endpoint.key,
        also=(intent.source,),
    )


# An operation that checks a credential: signing in, a one-time code, a PIN, a password (reset),
# a token exchange. Registering is a flow worth automating (API6), not a credential check.
_CREDENTIAL_CHECK = Prefiltered(
    re.compile(
        r"log-?in|sign-?(?:in|on)|\botp\b|one-?time|passcode|\bpins?\b|passwor|\btokens?\b|authenticat|2fa|\bmfa\b|"
        r"verif(?:y|ication)[-_ /]?(?:code|otp|pin|email|phone)",
        re.IGNORECASE,
    ),
    (
        "login",
        "log-in",
        "signin",
        "sign-in",
        "signon",
        "sign-on",
        "otp",
        "onetime",
        "one-time",
        "passcode",
        "pin",
        "passwor",
        "token",
        "authenticat",
        "2fa",
        "mfa",
        "verif",
    ),
)
_NOT_A_CREDENTIAL_CHECK = re.compile(r"regist|sign-?up|logout|log-?out|sign-?out", re.IGNORECASE)
_SENDS_CODE = re.compile(
    r"\b(?:request|send|resend|issue|start)|(?:request|send|resend|issue|start)[A-Z]", re.IGNORECASE
)
_CHECKS_CODE = re.compile(r"verif|confirm|check|submit|log-?in|sign-?in|token|redeem|validat", re.IGNORECASE)
_RATE_LIMIT_HEADER = re.compile(r"rate-?limit|retry-after", re.IGNORECASE)


def _credential_attempts(
    review: Review, endpoint: Endpoint, stories: list[Story], intents: dict[str, tuple[Intent, ...]]
) -> None:
    """A credential check (POST to a sign-in, one-time code, PIN or password operation) with no
    limit on attempts anywhere: no 429 documented, no rate-limit headers, no story stating a
    rate, a lockout or a control for it."""
    if endpoint.method != "POST" or is_webhook(endpoint.path):
        return  # a webhook receiver proves itself by its signature (API10), not a credential
    words = f"{endpoint.path} {endpoint.operation_id or ''} {endpoint.summary}"
    if not _CREDENTIAL_CHECK.search(words) or _NOT_A_CREDENTIAL_CHECK.search(words):
        return
    if _SENDS_CODE.search(words) and not _CHECKS_CODE.search(words):
        return  # asking for a one-time code sends one (an abusable flow, API6): it checks nothing
    if any(r.status == "429" for r in endpoint.responses):
        return
    if any(_RATE_LIMIT_HEADER.search(p.name) for p in endpoint.parameters):
        return
    if any(i.kind == "limit" and i.detail != "quantity" for s in stories for i in intents[s.id]):
        return  # a story states the limit (a missing 429 is then `story-limit-undocumented`)
    cited = ", ".join(s.id for s in stories)
    review.add(
        "sec.api2.unlimited-credential-attempts",
        endpoint.source,
        f"{endpoint.label} checks a credential and nothing limits failed attempts"
        + (
            f" ({cited} states no limit, and no 429 is documented)."
            if cited
            else " (no story states a limit, and no 429 is documented)."
        ),
        key=endpoint.key,
        also=tuple(s.source for s in stories),
    )


def _sensitive_flow(review: Review, story: Story, said: tuple[Intent, ...]) -> None:
    text = " ".join([story.title, story.goal or "", *story.acceptance_criteria])
    if not _SENSITIVE_FLOW.search(text) or _ANTI_AUTOMATION.search(text):
        return
    if any(i.kind == "limit" for i in said):
        return  # a stated limit is the measure (an idempotency key stops double submission, not abuse)
    if story.role and _INSIDE_ACTOR.search(story.role):
        return  # staff and partners act under their own accounts and contracts: not the abused public
    endpoints = [e for ref in story.endpoints if (e := match_endpoint(ref, review.model.endpoints))]
    if endpoints and all(e.method in ("GET", "HEAD") or is_webhook(e.path) for e in endpoints):
        return  # reading is not the flow (reading one's fines is not paying them), nor is receiving a provider's calls
    review.add(
        "sec.api6.sensitive-flow",
        story.source,
        f"{story.id} ({story.title}) is a flow worth automating for abuse and names no limit on it.",
        key=story.id,
        also=tuple(e.source for e in endpoints),
    )


def receivers(endpoints: tuple[Endpoint, ...], webhooks: tuple[Endpoint, ...]) -> list[Endpoint]:
    """Every operation that receives calls from a third party: the documented webhooks and
    callbacks, and the writes whose path, id, summary, tags or headers say they receive events
    (whatever the path is called)."""
    return [*webhooks, *(e for e in endpoints if e.method in ("POST", "PUT", "PATCH") and receiver_evidence(e))]


def _signed(endpoint: Endpoint) -> bool:
    return any(SIGNATURE.search(p.name) for p in endpoint.parameters if p.location in ("header", "query"))


def _signed_calls(
    review: Review, story: Story, said: tuple[Intent, ...], cited: list[Endpoint], receivers: list[Endpoint]
) -> None:
    """A story requiring signed calls holds for the operations it cites that receive calls, and
    for every webhook, callback and receiving operation of the API."""
    wanted = next((i for i in said if i.kind == "signature"), None)
    if wanted is None:
        return
    receiving = {id(e) for e in receivers}
    targets = [*(e for e in cited if id(e) in receiving or WEBHOOK_PATH.search(e.path)), *receivers]
    seen: set[int] = set()
    for endpoint in targets:
        if id(endpoint) in seen or _signed(endpoint):
            continue
        seen.add(id(endpoint))
        review.add(
            "sec.api10.unsigned-webhook",
            endpoint.source,
            f"{story.id} requires the provider's calls to be verified by signature ({_quote(wanted)}), but {_kind(endpoint)} {endpoint.label} declares no signature header.",
            key=f"{endpoint.method} {endpoint.path}",
            also=(wanted.source,),
            title="Webhook signature required by a story but not in the API",
        )


def _idempotent_calls(
    review: Review, story: Story, said: tuple[Intent, ...], cited: list[Endpoint], receivers: list[Endpoint]
) -> None:
    """A story requiring that a retried call act once: the writes it cites must take an
    idempotency key, and when it speaks of calls received (webhooks, callbacks, a provider's
    retries) every receiving operation must carry something to recognise a repeat by."""
    wanted = next((i for i in said if i.kind == "idempotency"), None)
    if wanted is None:
        return
    receiving = {id(e) for e in receivers}
    targets = [(e, _IDEMPOTENCY_KEY) for e in cited if e.method in ("POST", "PATCH")]
    if _RECEIVER_STORY.search(wanted.sentence) or any(id(e) in receiving for e in cited):
        targets += [(e, _EVENT_ID) for e in receivers]
    seen: set[int] = set()
    for endpoint, pattern in targets:
        if id(endpoint) in seen:
            continue
        seen.add(id(endpoint))
        names = [p.name for p in endpoint.parameters]
        if endpoint.request_body is not None:
            names += list(endpoint.request_body.fields)
        if any(pattern.search(n) for n in names):
            continue
        review.add(
            "sec.api6.idempotency-missing",
            endpoint.source,
            f"{story.id} says {_quote(wanted)}, but {_kind(endpoint)} {endpoint.label} takes no idempotency key or event id to recognise a repeated call by.",
            key=f"{endpoint.method} {endpoint.path}",
            also=(wanted.source,),
        )


def _derived_fields(review: Review, intents: dict[str, tuple[Intent, ...]]) -> None:
    """A field a story says the server derives from the caller is privileged wherever a request
    body lets the client set it."""
    derived = [(story_id, i) for story_id, said in intents.items() for i in said if i.kind == "derived"]
    if not derived or review.doc is None:
        return
    for label, name, prop, at in request_properties(review.doc):
        if prop.get("readOnly"):
            continue
        for story_id, intent in derived:
            if field_matches(intent.detail, name):
                review.add(
                    "sec.api3.server-derived-field-writable",
                    at,
                    f"{story_id} says {_quote(intent)}, yet {label} lets the caller set `{name}`.",
                    key=f"{at}|{label}",
                    node=prop,
                    also=(intent.source,),
                )
                break


def _kind(endpoint: Endpoint) -> str:
    return {"webhook": "webhook", "callback": "callback"}.get(endpoint.kind, "operation")


# A story that fixes how many items a list returns: "20 per page", "page size is 50", "the 10
# most recent orders", "at most 100 results".
_PAGE_SIZE_STORY = re.compile(
    r"\bpage size\b|\bper page\b|\bpages? of \d{1,6}\b|"
    r"\b(?:at most|up to|no more than|maximum of|max(?:imum)?) \d{1,6} (?:\w+ ){0,2}(?:items?|results?|rows?|entries|records)\b|"
    r"\b(?:the )?(?:\d{1,6}|ten|twenty|fifty|hundred) (?:most recent|latest|newest|oldest|first|last)\b|"
    r"\b(?:first|latest|newest|last) \d{1,6}\b",
    re.IGNORECASE,
)


def endpoint_rules(review: Review) -> None:
    """Lists returned without paging, unless the response array is bounded by `maxItems` or a
    story that uses the operation fixes how many items it returns."""
    model = review.model
    fixed: set[str] = set()
    for story in model.stories:
        cited = [e for ref in story.endpoints if (e := match_endpoint(ref, model.endpoints))]
        for sentence in (story.title, story.goal or "", *story.acceptance_criteria):
            if _PAGE_SIZE_STORY.search(sentence):
                fixed.update(e.key for e in cited if _lists_what_it_counts(sentence, e))
    for endpoint in model.endpoints:
        # `endpoint.key` is built per call: asked only when some story fixes a page size.
        if endpoint.method != "GET" or endpoint.pagination is not None or (fixed and endpoint.key in fixed):
            continue
        arrays = [
            r.body for r in endpoint.responses if r.status.startswith("2") and r.body is not None and r.body.is_array
        ]
        if arrays and not all(_bounded(review, body.schema_pointer) for body in arrays):
            review.add(
                "sec.api4.unpaginated-list",
                endpoint.source,
                f"{endpoint.label} returns an array and takes no paging parameter.",
                key=endpoint.key,
            )


_COUNTED = re.compile(
    r"\b(?:\d{1,6}|ten|twenty|fifty|hundred)\s+(?:most recent |latest |newest |oldest )?(?P<noun>[a-z]+)", re.I
)
_ANY_ITEMS = frozenset(
    {"per", "a", "items", "item", "results", "result", "rows", "row", "entries", "entry", "records", "record"}
)


def _lists_what_it_counts(sentence: str, endpoint: Endpoint) -> bool:
    """Whether a sentence fixing a page size speaks of what the endpoint lists: "20 titles per
    page" of `GET /titles`, not of `GET /titles/{id}/copies`; "20 per page" of any list."""
    nouns = {m.group("noun").lower() for m in _COUNTED.finditer(sentence)}
    if not nouns or nouns & _ANY_ITEMS:
        return True
    segments = [s for s in endpoint.path.split("/") if s and not s.startswith("{")]
    listed = singular(snake(segments[-1])) if segments else ""
    return any(singular(noun) == listed or singular(noun) == listed.rsplit("_", 1)[-1] for noun in nouns)


def _bounded(review: Review, pointer: str | None) -> bool:
    """Whether the array schema at `pointer` (followed through `$ref`s) sets maxItems."""
    if review.doc is None or pointer is None:
        return False
    schema, _ = deref(review.doc, resolve_pointer(review.doc.data, pointer), pointer)
    return isinstance(schema, dict) and "maxItems" in schema


def _has_object_id(endpoint: Endpoint) -> bool:
    return any(p.location == "path" and name_facts(p.name)[0] for p in endpoint.parameters)
