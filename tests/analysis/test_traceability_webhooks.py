"""Webhooks and callbacks in the traceability matrix: traced to the stories that name them."""

import json

from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.analysis.engine.pipeline import analyze
from apps.analysis.engine.traceability import analyze_traceability
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.reports.engine.report import build_report, render_markdown
from tests.factories import make_design, make_finished_run

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


def test_the_markdown_export_lists_webhooks_with_their_stories() -> None:
    document = STORY.format("We send orderPaid to the partner.") + "\n```openapi\n" + json.dumps(API) + "\n```\n"
    outcome = analyze(DesignInput(document=document, document_name="d.md"), limits=ParseLimits())
    markdown = render_markdown(build_report(outcome, generated_at="2026-01-01T00:00:00+00:00", tool_version="1"))
    assert "| webhook POST orderPaid | SHP-1 |" in markdown
    assert "| callback POST /subscriptions callback onShipped | none |" in markdown


def test_the_run_page_shows_webhooks_and_the_stories_naming_them(
    client: Client, owner: object, workspace: Workspace
) -> None:
    document = STORY.format("We send orderPaid to the partner.") + "\n```openapi\n" + json.dumps(API) + "\n```\n"
    _, revision = make_design(workspace=workspace, user=owner, document=document)
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(owner)
    page = client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    table = page.split('id="trace-webhooks"')[1].split("</table>")[0]
    assert "POST orderPaid" in table and "SHP-1" in table
    assert "no story" in table  # the callback no story names
