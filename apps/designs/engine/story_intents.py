"""What a story requires of the API, read the way a reviewer reads it: the security intents of
its text, each with the sentence and the line it was read from.

Kinds of intent:

- `ownership`: the objects belong to the caller ("only their own", "for themselves", "members see
  only their loans", "only the assigned doctor", "another customer's order gives 404"):
  object-level authorization.
- `role`: an operation is reserved to a role ("admins may ...", "restricted to staff", "only
  librarians can ...", "requires the manager role", or an admin-like actor in "As an admin, ..."):
  function-level authorization. `detail` is the role as written.
- `limit`: a stated bound on use ("5 attempts per hour", "at most 10 active loans", "no more than
  3 password resets a day", "lock the account after 5 failed attempts", "rate-limited"). `detail`
  is `rate`, `quantity`, `lockout` or `control`; `amount` the number when one is written.
- `signature`: calls received from a third party must be signed ("webhooks are verified by
  their HMAC signature", "callbacks must be signed").
- `idempotency`: a retried call must not act twice ("retries must not charge twice",
  "Idempotency-Key", "exactly once", "no duplicate payments").
- `derived`: a field the server sets from the caller, never the client ("`customer_id` comes from
  the token", "the author is the logged-in user", "clients cannot set the member_id"). `detail`
  is the field as written (a name or a noun such as `author`).

Pure: text in, intents out. Ignores what it does not recognise; a sentence may carry several
intents. Every pasted text is hostile: patterns are bounded and run per sentence of a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from apps.designs.engine.model import SourceRef, Story

# A sentence longer than this is read only up to it: no story sentence a reviewer cites is longer.
MAX_SENTENCE_CHARS = 600

_NUMBER_WORDS = {
    "one": 1,
    "a single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "twenty": 20,
    "fifty": 50,
    "hundred": 100,
}
_NUMBER = r"(?P<n>\d{1,9}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"

# Roles that are privileged wherever they appear ("admins may ...", "As an admin, ...").
PRIVILEGED_ROLES = (
    r"admins?|administrators?|super-?users?|superadmins?|staff(?: members?)?|back[- ]office(?: staff| users?)?|"
    r"operators?|moderators?|supervisors?|managers?|auditors?|support agents?|support staff|compliance officers?|"
    r"hr(?: staff| managers?| team)?|ops(?: team)?|finance(?: team| staff)?|maintainers?|owners? of the workspace"
)
# Roles a domain grants; "only <role> may" reserves an operation to them.
DOMAIN_ROLES = (
    r"doctors?|physicians?|clinicians?|nurses?|pharmacists?|receptionists?|librarians?|tellers?|cashiers?|"
    r"dispatchers?|drivers?|couriers?|warehouse (?:staff|workers?)|teachers?|instructors?|professors?|tutors?|"
    r"registrars?|examiners?|graders?|recruiters?|hiring managers?|payroll(?: staff| team)?|accountants?|"
    r"approvers?|reviewers?|editors?|underwriters?|loan officers?|case workers?|agents?|landlords?|"
    r"organi[sz]ers?|team leads?|leads?|owners?"
)
_ROLE = rf"(?:{PRIVILEGED_ROLES}|{DOMAIN_ROLES})"

_OWNERSHIP = (
    re.compile(r"\b(?:my|their|his|her|your|its|our)\s+own\b", re.I),
    re.compile(r"\bfor (?:themselves|himself|herself|myself|yourself|themself)\b", re.I),
    re.compile(
        r"\bonly\s+(?:see|view|read|access|list|edit|change|cancel|update|delete|download)?\s*(?:the\s+|a\s+)?(?:their|his|her|my|your)\b",
        re.I,
    ),
    re.compile(r"\bonly\b[^.;]{0,40}?\b(?:of|from|in|on|for|to) (?:their|his|her|my|your)\b", re.I),
    re.compile(
        r"\bonly (?:the |their |his |her )?(?:assigned|treating|responsible|owning|designated|attending|named)\b", re.I
    ),
    re.compile(
        r"\b(?:assigned|belong(?:s|ing)?|linked|registered|enrolled)\s+to\s+(?:them|him|her|me|you|the (?:caller|requester|current user|logged[- ]in user|signed[- ]in user))\b",
        re.I,
    ),
    re.compile(r"\banother\s+(?:[a-z]+\s+)?[a-z]+(?:'s|\u2019s|s')", re.I),
    re.compile(r"\bsomeone else(?:'s|\u2019s)?\b|\banybody else(?:'s|\u2019s)\b|\banyone else(?:'s|\u2019s)\b", re.I),
    re.compile(r"\b(?:not|never) (?:theirs|mine|yours|his|hers|their own)\b", re.I),
    re.compile(
        r"\bonly the (?:owner|author|creator|requester|uploader|sender|account holder)\b|\b(?:owner|author|creator|account holder) (?:alone|only)\b",
        re.I,
    ),
    re.compile(
        r"\b(?:scoped|restricted|limited|filtered) (?:to|by) (?:the )?(?:caller|requester|current user|logged[- ]in user|signed[- ]in user|authenticated user|their (?:own )?(?:tenant|account|organi[sz]ation|workspace|branch|clinic|school|company))\b",
        re.I,
    ),
    re.compile(
        r"\b(?:that|which) (?:they|he|she|I|you) (?:created|placed|submitted|booked|uploaded|wrote|opened|filed|own)\b",
        re.I,
    ),
    re.compile(r"\bmine only\b|\bonly mine\b", re.I),
    # "a consultation I hold", "an order they placed": the object is the caller's.
    re.compile(
        r"\b(?:a|an|the|each|every)\s+[a-z]+\s+(?:I|they|he|she|you|we)\s+(?:hold|holds|own|owns|created|booked|placed|opened|submitted|uploaded|wrote|manage|run|am assigned to|is assigned to)\b",
        re.I,
    ),
    # Anyone outside the objects' owners is refused: "anyone else gets 404".
    re.compile(
        r"\b(?:anyone|anybody|everyone|everybody|all others|others) else\b[^.;]{0,30}?\b(?:40[34]|refused|denied|rejected|forbidden)\b",
        re.I,
    ),
    # Scoped to the caller's tenant: "HR users of that company", "of the employee's company".
    re.compile(
        r"\b(?:of|in|within|from)\s+(?:that|the same|their|his|her|its|my|our|the [a-z]+(?:'s|\u2019s))\s+(?:company|tenant|organi[sz]ation|workspace|clinic|practice|branch|school|account|team|store|library|depot|warehouse|hospital|ward|department|firm)\b",
        re.I,
    ),
)
# Access given to anyone on purpose: the story has said who may access it (everybody).
_PUBLIC = re.compile(
    r"\b(?:anyone|anybody|everyone|everybody|visitors?|the public|guests?)\s+(?:can|may|is able to|are able to)\b(?![^.;]*\b(?:40[134]|refused|denied)\b)"
    r"|\bwithout (?:signing|logging) in\b|\bno (?:sign[- ]in|log[- ]?in|account|authentication) (?:is )?(?:needed|required)\b"
    r"|\bpublic(?:ly)? (?:available|visible|readable|accessible)\b|\bopen to (?:everyone|the public|anyone)\b",
    re.I,
)
# "other patients' records" counts only when the sentence denies access to it.
_OTHERS = re.compile(r"\bother\s+(?:[a-z]+\s+)?[a-z]+s(?:'|\u2019)?\s", re.I)
_DENIAL = re.compile(
    r"\b(?:cannot|can ?not|can't|must not|may not|never|no access|not (?:be )?(?:see|seen|read|view|viewed|access|accessed|visible|listed|shown|returned)|hidden from|40[34])\b",
    re.I,
)

_ROLE_PATTERNS = (
    re.compile(
        rf"\b(?:only|solely|exclusively)\s+(?:the\s+|an?\s+)?(?P<role>(?:[a-z]+\s+)?(?:{_ROLE}))(?:\s+and\s+(?:{_ROLE}))?\s+(?:may|can|are allowed|is allowed|are able|is able|should be able|have access|has access|must be able|get to)\b",
        re.I,
    ),
    # The role qualified ("finance approvers of that company", "operators holding the admin
    # scope") or named by its function ("HR users"), before what it alone may do.
    re.compile(
        rf"\b(?:only|solely|exclusively)\s+(?:the\s+)?(?P<role>(?:[a-z]+\s+)?(?:{_ROLE})|(?!(?:signed|logged|authenticated|registered|verified|active|new|existing)\b)[a-z]+[- ]users?)\s+(?:of|in|from|at|holding|with|who hold|who have)\s+[^,;.]{{1,50}}?\s+(?:may|can|are allowed|is allowed|are able|is able|have access|has access)\b",
        re.I,
    ),
    re.compile(
        r"\b(?:only|solely|exclusively)\s+(?:the\s+)?(?P<role>(?!(?:signed|logged|authenticated|registered|verified|active|new|existing)\b)[a-z]+[- ]users?)\s+(?:may|can|are allowed|is allowed|are able|is able|have access|has access)\b",
        re.I,
    ),
    re.compile(
        rf"\b(?:restricted|limited|reserved|available only|only available)\s+(?:to\s+|for\s+)?(?:the\s+|an?\s+)?(?P<role>{_ROLE})\b",
        re.I,
    ),
    re.compile(rf"\b(?P<role>{_ROLE})[- ]only\b", re.I),
    re.compile(rf"\b(?P<role>{PRIVILEGED_ROLES})\s+(?:may|can|are able to|alone can|are allowed to)\b", re.I),
    re.compile(
        rf"\brequires?\s+(?:the\s+|an?\s+)?(?P<role>{_ROLE})\s+(?:role|permission|scope|rights|privileges?|access)\b",
        re.I,
    ),
    re.compile(rf"\b(?P<role>{_ROLE})\s+(?:role|permission|scope|privileges?)\s+(?:is\s+)?(?:required|needed)\b", re.I),
    re.compile(
        r"\b(?:with|having|who (?:have|has|hold|holds)) (?:the |an? )?(?P<role>[a-z]+(?:[ -][a-z]+)?) (?:role|permission|scope|privileges?|rights)\b",
        re.I,
    ),
    re.compile(
        rf"\bno one but (?:the\s+)?(?P<role>{_ROLE})\b|\bnobody (?:except|but) (?:the\s+)?(?P<role2>{_ROLE})\b", re.I
    ),
)
# "Only librarians can give an account the role librarian": about a field the request sets.
_ASSIGNS_ROLE = re.compile(
    r"\b(?:give|gives|grant|grants|assign|assigns|set|sets|promote|promotes|make|makes|elevate)\b[^.;]{0,40}?\b(?:the\s+)?(?:role|permissions?|privileges?|admin rights)\b",
    re.I,
)
_NOT_ROLES = frozenset({"the", "a", "an", "this", "that", "their", "its", "same", "new", "default"})
_ACTOR = re.compile(rf"^\s*as\s+(?:an?|the)\s+(?P<role>{PRIVILEGED_ROLES})\s*,", re.I)

_UNIT = r"(?:second|sec|minute|min|hour|hr|day|week|month|year)s?"
_RATE = re.compile(
    rf"{_NUMBER}\s+(?P<what>(?:[a-z-]+\s+){{0,4}}?)(?:per|a|an|each|every|/)\s*(?:calendar\s+|rolling\s+)?{_UNIT}\b",
    re.I,
)
_QUANTITY = re.compile(
    rf"\b(?:at most|no more than|not more than|up to|a maximum of|maximum of|max(?:imum)?|a limit of|limited to|capped at|fewer than|less than|never more than)\s+{_NUMBER}\s+(?P<what>(?!{_UNIT}\b|ms\b|milliseconds?\b|%|percent\b)[a-z][a-z-]*(?:\s+[a-z-]+){{0,3}})",
    re.I,
)
_LOCKOUT = re.compile(
    rf"\b(?:lock(?:s|ed)?|block(?:s|ed)?|suspend(?:s|ed)?|disable(?:s|d)?|freeze(?:s)?|frozen)\b[^.;]{{0,60}}\bafter\s+{_NUMBER}\s+(?:consecutive\s+)?(?:failed|wrong|unsuccessful|invalid|incorrect|bad)"
    rf"|\bafter\s+{_NUMBER.replace('?P<n>', '?P<n2>')}\s+(?:consecutive\s+)?(?:failed|wrong|unsuccessful|invalid|incorrect|bad)\b[^.;]{{0,60}}\b(?:lock(?:s|ed)?|block(?:s|ed)?|suspend(?:s|ed)?|disable(?:s|d)?|frozen)\b",
    re.I,
)
_CONTROL = re.compile(
    r"\brate[- ]?limit(?:ed|s|ing)?\b|\bthrottl(?:e|ed|es|ing)\b|\bcaptcha\b|\bproof[- ]of[- ]work\b|\bbot (?:detection|protection)\b|\bvelocity (?:check|limit)s?\b|\bcool[- ]?down\b",
    re.I,
)
# A throughput budget ("p95 < 200 ms at 400 requests per second") is a target, not a limit.
_BUDGET_CONTEXT = re.compile(r"\bp\d{2}\b|\blatency\b|\b\d+\s*ms\b|\bthroughput\b|\bsustain", re.I)
_PAGE_SIZE = re.compile(
    r"\s*(?:(?:per|a|each|on a|in a) (?:page|screen|response)|(?:results|rows|items) per)\b|\bpage\b", re.I
)
_AT_BEFORE = re.compile(r"\b(?:at|handle|handles|serve|serves|support|supports|sustain|peak of|peaks? at)\s+$", re.I)

_SIGNATURE = re.compile(
    r"\bhmac\b|\bsignature\b|\bsigned\s+(?:with|by|using|by the|payloads?|requests?|webhooks?|callbacks?|events?|notifications?)\b|\b(?:must|shall|should|are|is|be)\s+(?:cryptographically\s+)?signed\b|\bsigning secret\b|\bx-[a-z-]*signature\b",
    re.I,
)
_SIGNATURE_NOT = re.compile(r"\bsigned[- ](?:in|up|out|on)\b|\bsign[- ]?(?:in|up|out|on)\b", re.I)
_SIGNATURE_CONTEXT = re.compile(
    r"\bweb-?hooks?\b|\bcall-?backs?\b|\bnotifications?\b|\bevents?\b|\bpayloads?\b|\brequests?\b|\bcalls?\b|\bmessages?\b|\bdeliver(?:y|ies)\b|\bheaders?\b|\bhmac\b|\bverif|\bprovider\b|\bipn\b",
    re.I,
)

_IDEMPOTENCY = re.compile(
    r"\bidempoten(?:t|cy|tly)\b|\bidempotency[- ]key\b"
    r"|\b(?:must|should|may|will|does|do|can)\s*(?:not|never|n't)\s+(?:be\s+)?(?:charge|bill|pay|book|create|ship|send|debit|credit|transfer|process|apply|refund|issue|post|enrol|enroll|dispatch)\w*\s+(?:\w+\s+){0,3}?twice\b"
    r"|\b(?:never|not)\s+(?:be\s+)?(?:charged|billed|paid|booked|created|shipped|sent|debited|credited|transferred|processed|applied|refunded|issued|posted|enrolled|dispatched)\s+(?:\w+\s+){0,2}?twice\b"
    r"|\bexactly once\b|\bat most once\b"
    r"|\bduplicate\s+(?:charges?|payments?|orders?|bookings?|transfers?|submissions?|requests?|deliveries|shipments?|invoices?|refunds?|enrol(?:l)?ments?|events?|notifications?)\b"
    r"|\bde-?duplicat\w*|\bdedup\w*|\breplay(?:ed|s)? (?:of the same|requests?|calls?) (?:must|should) (?:not|have no)",
    re.I,
)
_IDEMPOTENCY_NOT = re.compile(r"\b(?:may|can) be (?:retried|repeated|sent) twice\b", re.I)

_SERVER_SIDE = (
    r"(?:the\s+)?(?:server|backend|api|system|service|session|token|access token|bearer token|jwt|auth(?:entication)?(?: context)?|"
    r"identity|login|caller|requester|logged[- ]in (?:user|member|customer|account)|signed[- ]in (?:user|member|customer|account)|"
    r"authenticated (?:user|caller|principal|member|customer|account)|current (?:user|member|customer|account)|calling (?:user|client|account))"
)
_FIELD = r"`?(?P<field>[A-Za-z_][A-Za-z0-9_.-]{0,40})`?"
_DERIVED = (
    re.compile(
        rf"(?:\bthe\s+)?{_FIELD}\s+(?:field\s+)?(?:is|are)\s+(?:always\s+|only\s+)?(?:set|taken|derived|filled(?: in)?|inferred|determined|assigned|populated|read|resolved|computed|stamped)\s+(?:by|from)\s+{_SERVER_SIDE}\b",
        re.I,
    ),
    re.compile(
        rf"(?:\bthe\s+)?{_FIELD}\s+(?:field\s+)?(?:comes|come)\s+from\s+{_SERVER_SIDE}\b",
        re.I,
    ),
    re.compile(
        rf"(?:\bthe\s+)?{_FIELD}\s+(?:is|are)\s+(?:always\s+)?(?:the\s+)?(?:logged[- ]in|signed[- ]in|authenticated|current|calling|requesting)\s+(?:user|caller|member|customer|account|principal|employee|patient|student)\b",
        re.I,
    ),
    re.compile(
        rf"\b(?:clients?|callers?|users?|the request|requests?|the body|request bodies)\s+(?:cannot|can ?not|can't|must not|may not|never|do not|don't)\s+(?:set|choose|pick|supply|send|provide|change|specify|override|carry|contain)\s+(?:the\s+|a\s+|its\s+|their\s+)?{_FIELD}",
        re.I,
    ),
    re.compile(
        rf"(?:\bthe\s+)?{_FIELD}\s+(?:is|are)\s+(?:never|not)\s+(?:taken|read|accepted)\s+from\s+(?:the\s+)?(?:client|request|body|payload|caller's input)\b",
        re.I,
    ),
)
# Words the derived-field patterns may capture that name no field.
_NOT_FIELDS = frozenset(
    {
        "it",
        "this",
        "that",
        "which",
        "what",
        "value",
        "data",
        "everything",
        "anything",
        "nothing",
        "id",
        "they",
        "he",
        "she",
        "we",
        "i",
        "you",
        "request",
        "response",
        "body",
        "field",
        "one",
        "each",
        "all",
        "some",
        "any",
    }
)

_SENTENCE = re.compile(r"(?<=[.;!?])\s+(?=[A-Z`\"(\[*_-])")


@dataclass(frozen=True, slots=True)
class Intent:
    """One requirement read from a story: its kind, the sentence, where it was written, and what
    the kind needs (a role, a field, a limit's type) in `detail` and `amount`."""

    kind: str  # ownership, public, role, limit, signature, idempotency, derived
    sentence: str
    source: SourceRef
    detail: str = ""
    amount: int | None = None


def sentence_intents(sentence: str) -> list[tuple[str, str, int | None]]:
    """(kind, detail, amount) of every intent in one sentence, in the order of the kinds above."""
    text = sentence[:MAX_SENTENCE_CHARS]
    found: list[tuple[str, str, int | None]] = []
    if any(p.search(text) for p in _OWNERSHIP) or (_OTHERS.search(text) and _DENIAL.search(text)):
        found.append(("ownership", "", None))
    if _PUBLIC.search(text):
        found.append(("public", "", None))
    roles: list[str] = []
    for pattern in _ROLE_PATTERNS:
        if _ASSIGNS_ROLE.search(text):
            break  # who may hand out a role: a privileged field (mass assignment), not the operation
        for match in pattern.finditer(text):
            role = next(g for g in match.groups() if g)
            if role.strip().lower() not in _NOT_ROLES:
                roles.append(role.strip().lower())
    actor = _ACTOR.search(text)
    if actor:
        roles.append(actor.group("role").lower())
    for role in dict.fromkeys(roles):
        found.append(("role", role, None))
    found.extend(_limits(text))
    if _SIGNATURE.search(_SIGNATURE_NOT.sub(" ", text)) and _SIGNATURE_CONTEXT.search(text):
        found.append(("signature", "", None))
    if _IDEMPOTENCY.search(text) and not _IDEMPOTENCY_NOT.search(text):
        found.append(("idempotency", "", None))
    for field in _derived_fields(text):
        found.append(("derived", field, None))
    return found


def _amount(raw: str) -> int | None:
    lowered = raw.lower()
    return int(lowered) if lowered.isdigit() else _NUMBER_WORDS.get(lowered)


def _limits(text: str) -> list[tuple[str, str, int | None]]:
    found: list[tuple[str, str, int | None]] = []
    budget = _BUDGET_CONTEXT.search(text) is not None
    for match in _RATE.finditer(text):
        if budget or _AT_BEFORE.search(text[: match.start()]):
            continue
        found.append(("limit", "rate", _amount(match.group("n"))))
        break
    for match in _QUANTITY.finditer(text):
        if budget and re.search(r"\b(?:ms|seconds?|s)\b", match.group("what"), re.I):
            continue
        if _PAGE_SIZE.match(text, match.end()) or _PAGE_SIZE.search(match.group("what")):
            continue  # a page's size bounds a response, not how often the flow may be used
        found.append(("limit", "quantity", _amount(match.group("n"))))
        break
    lockout = _LOCKOUT.search(text)
    if lockout:
        found.append(("limit", "lockout", _amount(lockout.group("n") or lockout.group("n2"))))
    if _CONTROL.search(text):
        found.append(("limit", "control", None))
    return found


def _derived_fields(text: str) -> list[str]:
    fields: list[str] = []
    for pattern in _DERIVED:
        for match in pattern.finditer(text):
            field = match.group("field").strip("`.").strip()
            if field and field.lower() not in _NOT_FIELDS and not field.isdigit():
                fields.append(field)
    return list(dict.fromkeys(fields))


def _sentences(line: str) -> Iterable[str]:
    text = re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", line.strip())
    return (s for s in _SENTENCE.split(text) if s.strip())


def story_intents(story: Story) -> tuple[Intent, ...]:
    """Every intent of a story's lines (its heading, narrative, acceptance criteria and free
    text), each located at its line; a story parsed without its lines is read from its title,
    narrative and criteria, located at its heading."""
    document = story.source.document
    if story.lines:
        lines: Iterable[tuple[int | None, str]] = story.lines
    else:
        narrative = f"As a {story.role}, I want {story.goal}." if story.role and story.goal else ""
        lines = [(story.source.line, text) for text in (story.title, narrative, *story.acceptance_criteria) if text]
    intents: list[Intent] = []
    for line_no, line in lines:
        for sentence in _sentences(line):
            for kind, detail, amount in sentence_intents(sentence):
                intents.append(
                    Intent(
                        kind=kind,
                        sentence=sentence.strip()[:MAX_SENTENCE_CHARS],
                        source=SourceRef(document, line_no, 1),
                        detail=detail,
                        amount=amount,
                    )
                )
    return tuple(intents)


def field_matches(field: str, name: str) -> bool:
    """Whether a body field `name` is the field a story names (`customer_id`, `customerId`, or a
    noun such as `author` for `author`, `author_id`, `authorId`)."""
    wanted = re.sub(r"[^a-z0-9]", "", field.lower().rsplit(".", 1)[-1])
    have = re.sub(r"[^a-z0-9]", "", name.lower())
    if not wanted:
        return False
    return have in (wanted, wanted + "id", wanted + "ids") or (wanted.endswith("id") and have == wanted)
