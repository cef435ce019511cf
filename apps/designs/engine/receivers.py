"""What says an operation receives calls from a third party (a webhook, a callback, an event a
provider sends), and whether those calls are signed: read by the security review (API10: such
calls must prove who sent them) and by the endpoint generator (which writes their receivers)."""

from __future__ import annotations

import functools
import re

from apps.designs.engine.model import Endpoint
from apps.designs.engine.text import Prefiltered

SIGNATURE = re.compile(r"signature|x-hub-signature|x-signature|webhook-signature|hmac", re.IGNORECASE)
WEBHOOK_PATH = re.compile(r"webhook|callback|/hooks?(/|$)", re.IGNORECASE)
# What an operation that receives calls from a third party says about itself, besides its path.
RECEIVER_WORDS = Prefiltered(
    re.compile(
        r"web-?hook|call-?back|\bhooks?\b|\bipn\b|\binbound\b|\bincoming\b|\breceive[sd]?|\bconsume[sd]?\b",
        re.IGNORECASE,
    ),
    ("hook", "callback", "call-back", "ipn", "inbound", "incoming", "receive", "consume"),
)
EVENT_HEADER = re.compile(r"^x-[a-z0-9-]*-(?:event|delivery|topic)$|^webhook-|^x-webhook", re.IGNORECASE)


def is_webhook(path: str) -> bool:
    """Whether a path names a webhook, a callback or a hook."""
    # The pattern needs one of these words (any case): looking for them first spares most paths
    # the case-insensitive search.
    lowered = path.lower()
    if "webhook" not in lowered and "callback" not in lowered and "/hook" not in lowered:
        return False
    return WEBHOOK_PATH.search(path) is not None


def receiver_evidence(endpoint: Endpoint) -> str | None:
    """What says an operation receives calls from outside: its path, its operationId, summary or
    tags, or an event or signature header; None when nothing does."""
    # Most operations say nothing of receiving calls: their path, operationId, summary and tags
    # are first looked at together for the words any such mention holds (each word is_webhook
    # looks for holds one), which spares most of them four searches.
    said = "\n".join((endpoint.path, endpoint.operation_id or "", endpoint.summary, *endpoint.tags))
    if not RECEIVER_WORDS.excludes(said):
        if is_webhook(endpoint.path):
            return "path"
        if endpoint.operation_id and RECEIVER_WORDS.search(endpoint.operation_id):
            return f"operationId `{endpoint.operation_id}`"
        if RECEIVER_WORDS.search(endpoint.summary):
            return "summary"
        tag = next((t for t in endpoint.tags if _receiver_word(t)), None)
        if tag:
            return f"tag `{tag}`"
    header = next(
        (
            p.name
            for p in endpoint.parameters
            if p.location == "header" and (SIGNATURE.search(p.name) or EVENT_HEADER.search(p.name))
        ),
        None,
    )
    return f"header `{header}`" if header else None


def signature_parameter(endpoint: Endpoint) -> str | None:
    """The name of the header carrying the caller's signature, if the operation documents one."""
    return next((p.name for p in endpoint.parameters if p.location == "header" and SIGNATURE.search(p.name)), None)


# A large API tags its thousands of operations with a few hundred tags: each is read once.
@functools.lru_cache(maxsize=4096)
def _receiver_word(tag: str) -> bool:
    return RECEIVER_WORDS.search(tag) is not None
