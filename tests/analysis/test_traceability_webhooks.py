"""Webhooks and callbacks in the traceability matrix: traced to the stories that name them."""

import json

from apps.analysis.engine.traceability import analyze_traceability
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design

EVENT = {"post": {"responses": {"200": {"description": "ok"}}}}
API = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/subscriptions": {
            "post": {
                "operationId": "subscribe",
                "responses": {"201": {"description": "ok"}},
                "callbacks": {"onShipped": {"{$request.body#/url}": EVENT}},
            }
        }
    },
    "webhooks": {"orderPaid": EVENT},
}
STORY = "### SHP-1: Subscribe\nAs a partner, I want to subscribe, so that x.\n\nAcceptance criteria:\n- {}\n\nEndpoints: POST /subscriptions\n"


def trace(criterion: str, api: dict = API) -> tuple[list, dict]:
    document = STORY.format(criterion) + "\n```openapi\n" + json.dumps(api) + "\n```\n"
    result = parse_design(DesignInput(document=document, document_name="d.md"), limits=ParseLimits())
    assert result.ok, result.fatal
    return analyze_traceability(result.model)


def test_a_story_naming_a_webhook_or_callback_traces_it() -> None:
    findings, section = trace("We send orderPaid and the onShipped callback to the partner.")
    assert [(row["kind"], row["name"], row["stories"]) for row in section["webhooks"]] == [
        ("webhook", "orderPaid", ["SHP-1"]),
        ("callback", "/subscriptions callback onShipped", ["SHP-1"]),
    ]
    assert section["stories"][0]["webhooks"] == ["orderPaid", "/subscriptions callback onShipped"]
    assert not [f for f in findings if f.rule_id == "trace.webhook-without-story"]


def test_a_webhook_no_story_names_is_a_gap() -> None:
    findings, section = trace("The partner gets a confirmation.")
    gaps = [f for f in findings if f.rule_id == "trace.webhook-without-story"]
    assert [f.locations[0].pointer for f in gaps] == [
        "/webhooks/orderPaid/post",
        "/paths/~1subscriptions/post/callbacks/onShipped/{$request.body#~1url}/post",
    ]
    assert section["webhooks"][0]["stories"] == []


def test_a_design_without_webhooks_keeps_its_matrix_shape() -> None:
    api = dict(API)
    api.pop("webhooks")
    api["paths"] = {
        "/subscriptions": {"post": {"operationId": "subscribe", "responses": {"201": {"description": "ok"}}}}
    }
    _, section = trace("The partner gets a confirmation.", api)
    assert "webhooks" not in section
    assert "webhooks" not in section["stories"][0]
