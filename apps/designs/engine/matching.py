"""Endpoint matching: which operation of the API a story, a query or a rule means by `GET /path`.

Part of the vocabulary every analyzer speaks (with `findings`), beside the DesignModel so that
no analyzer needs the job app or another analyzer for it.
"""

from __future__ import annotations

import re

from apps.designs.engine.model import Endpoint
from apps.designs.engine.model_elements import EndpointRef

_PARAM = re.compile(r"\{[^}]*\}")


def path_key(path: str) -> str:
    """`/v1/orders/{orderId}/` and `/v1/orders/{id}` compare equal."""
    return _PARAM.sub("{}", path.rstrip("/") or "/")


def match_endpoint(ref: EndpointRef, endpoints: tuple[Endpoint, ...]) -> Endpoint | None:
    key = path_key(ref.path)
    for endpoint in endpoints:
        if endpoint.method == ref.method and key in (
            path_key(endpoint.full_path),
            path_key(endpoint.path),
        ):
            return endpoint
    return None


def story_webhooks(story_lines: tuple[tuple[int, str], ...], webhooks: tuple[Endpoint, ...]) -> list[Endpoint]:
    """The webhooks and callbacks a story's lines name: a webhook by its name, a callback by
    its name in the full path, either by its operationId (as a whole word, any case)."""
    if not webhooks or not story_lines:
        return []
    text = " ".join(line for _, line in story_lines).lower()
    words = set(re.findall(r"[a-z0-9_.$-]+", text))
    found = []
    for webhook in webhooks:
        names = {webhook.operation_id or ""}
        if webhook.kind == "webhook":
            names.add(webhook.path)
        else:
            names.add(webhook.full_path.rsplit(" callback ", 1)[-1])
        if any(name and name.lower() in words for name in names):
            found.append(webhook)
    return found
