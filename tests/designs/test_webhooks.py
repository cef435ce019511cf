"""OpenAPI 3.1 `webhooks` and operations' `callbacks` in the DesignModel."""

import json

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.model import DesignModel

EVENT = {
    "requestBody": {
        "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "string"}}}}}
    },
    "responses": {"200": {"description": "ok"}},
}


def model(document: dict) -> DesignModel:
    result = parse_design(DesignInput(openapi=json.dumps(document)), limits=ParseLimits())
    assert result.ok, result.fatal
    return result.model


def test_webhooks_and_callbacks_are_counted_apart_from_the_operations() -> None:
    design = model(
        {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/subscriptions": {
                    "post": {
                        "operationId": "subscribe",
                        "responses": {"201": {"description": "ok"}},
                        "callbacks": {"onEvent": {"{$request.body#/callbackUrl}": {"post": EVENT}}},
                    }
                }
            },
            "webhooks": {"orderPaid": {"post": EVENT}},
        }
    )
    assert [e.key for e in design.endpoints] == ["POST /subscriptions"]
    assert [(e.kind, e.key) for e in design.webhooks] == [
        ("webhook", "POST orderPaid"),
        ("callback", "POST {$request.body#/callbackUrl}"),
    ]
    assert design.webhooks[0].source.pointer == "/webhooks/orderPaid/post"
    assert (
        design.webhooks[1].source.pointer
        == "/paths/~1subscriptions/post/callbacks/onEvent/{$request.body#~1callbackUrl}/post"
    )
    assert design.webhooks[0].request_body is not None and design.webhooks[0].request_body.fields == ("id",)
    assert design.counts()["webhooks"] == 2


def test_a_document_without_webhooks_counts_as_before() -> None:
    design = model({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}})
    assert design.webhooks == ()
    assert "webhooks" not in design.counts()
