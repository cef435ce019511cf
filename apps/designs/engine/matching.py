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
