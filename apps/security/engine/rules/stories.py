"""Rules that read the stories beside the API: object-level access a story states or leaves
unstated (API1), sensitive flows without anti-automation (API6), webhooks a story wants signed
(API10); and lists returned without paging (API4), read from the DesignModel's endpoints."""

from __future__ import annotations

import re
from typing import Any

from apps.designs.engine.matching import match_endpoint
from apps.designs.engine.model import Endpoint
from apps.security.engine.reporter import Review
from apps.security.engine.rules.common import SIGNATURE, WEBHOOK_PATH, name_facts

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
_SIGNATURE_STORY = re.compile(r"verified by signature|signed|signature", re.IGNORECASE)


def story_rules(review: Review) -> None:
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
                    and WEBHOOK_PATH.search(endpoint.path)
                    and not any(SIGNATURE.search(p.name) for p in endpoint.parameters)
                ):
                    review.add(
                        "sec.api10.unsigned-webhook",
                        endpoint.source,
                        f"{story.id} requires the provider's calls to be verified by signature, but {endpoint.label} declares no signature header.",
                        key=f"{endpoint.method} {endpoint.path}",
                        also=(story.source,),
                        title="Webhook signature required by a story but not in the API",
                    )


def endpoint_rules(review: Review) -> None:
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
    return any(p.location == "path" and name_facts(p.name)[0] for p in endpoint.parameters)
