"""Hostile pastes through the real views: an answer naming the line, never a hang, a 500 or a
revision that can never be analysed."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.analysis import services as analysis_services
from apps.analysis.models import AnalysisRun
from apps.designs.models import Design, Revision
from tests.deadline import deadline
from tests.designs.test_hostile_input import MUTATIONS
from tests.factories import make_design

RECURSIVE = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: &p\n  /a: {get: *p}\n"
NUL_DOCUMENT = "# Shop\n\n### S-1: Pay\x00\nAs a buyer, I want to pay, so that I get my order.\n"
ESCAPED_NUL_OPENAPI = '{"openapi": "3.1.0",\n "info": {"title": "t\\u0000", "version": "1"}, "paths": {}}'


def test_live_validation_refuses_a_recursive_alias_at_once(client: Client, owner: object, workspace: Workspace) -> None:
    client.force_login(owner)
    with deadline(5):
        response = client.post(
            reverse("designs:validate", args=[workspace.slug]), {"openapi": RECURSIVE}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    assert "recursive alias" in response.content.decode()
    assert "line 3" in response.content.decode()


def test_a_new_revision_with_a_recursive_alias_is_refused_at_once(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    design, _ = make_design(workspace=workspace, user=owner, document=shop_v1)
    client.force_login(owner)
    with deadline(5):
        response = client.post(reverse("designs:revision-new", args=[design.pk]), {"openapi": RECURSIVE})
    assert response.status_code == 422
    assert "recursive alias" in response.content.decode()
    assert design.revisions.count() == 1


@pytest.mark.parametrize(
    ("fields", "line"),
    [({"document": NUL_DOCUMENT}, 3), ({"openapi": ESCAPED_NUL_OPENAPI}, 2)],
    ids=["nul-in-document", "escaped-nul-in-json"],
)
def test_text_postgresql_cannot_store_is_refused_on_its_line_in_the_form(
    client: Client, owner: object, workspace: Workspace, fields: dict[str, str], line: int
) -> None:
    client.force_login(owner)
    live = client.post(reverse("designs:validate", args=[workspace.slug]), fields, HTTP_HX_REQUEST="true")
    assert live.status_code == 200
    assert f"line {line}" in live.content.decode()
    assert "cannot be stored" in live.content.decode()
    response = client.post(reverse("designs:new", args=[workspace.slug]), {"name": "Shop", **fields})
    assert response.status_code == 422
    assert f"line {line}" in response.content.decode()
    assert Design.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({"document": NUL_DOCUMENT}, 3),
        ({"openapi": ESCAPED_NUL_OPENAPI}, 2),
        ({"openapi": ESCAPED_NUL_OPENAPI.replace("\\u0000", "\\ud800")}, 2),
        ({"stories": "### S-1: a\n\nAs a user, I want \ud800, so that y.\n"}, 3),
    ],
    ids=["nul-in-document", "escaped-nul-in-json", "escaped-surrogate-in-json", "raw-surrogate-in-stories"],
)
def test_text_postgresql_cannot_store_is_a_400_naming_the_line_in_the_api(
    client: Client, owner: object, workspace: Workspace, fields: dict[str, str], line: int
) -> None:
    client.force_login(owner)
    body = json.dumps({"name": "Shop", **fields})  # ensure_ascii: a lone surrogate travels as an escape
    response = client.post(reverse("api:designs", args=[workspace.slug]), body, content_type="application/json")
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert [(p["code"], p["line"]) for p in problems] == [("input.unstorable-text", line)]
    assert Design.objects.count() == 0


@pytest.mark.parametrize("name", ["specs/orders.md", "..", "a\\b.md"])
def test_a_document_name_that_cannot_be_linked_is_refused_at_paste_time(
    client: Client, owner: object, workspace: Workspace, shop_v1: str, name: str
) -> None:
    client.force_login(owner)
    response = client.post(
        reverse("designs:new", args=[workspace.slug]), {"name": "Shop", "document": shop_v1, "document_name": name}
    )
    assert response.status_code == 422
    assert "Name the document without slashes" in response.content.decode()
    api = client.post(
        reverse("api:designs", args=[workspace.slug]),
        {"name": "Shop", "document": shop_v1, "document_name": name},
        content_type="application/json",
    )
    assert api.status_code == 400
    assert api.json()["problems"][0]["code"] == "input.bad-document-name"
    assert Design.objects.count() == 0


def test_every_wrong_typed_openapi_document_is_answered_without_a_500(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    design, _ = make_design(workspace=workspace, user=owner, document=shop_v1)
    client.force_login(owner)
    url = reverse("api:revisions", args=[design.pk])
    statuses = set()
    for label, text in MUTATIONS:
        response = client.post(url, {"openapi": text}, content_type="application/json")
        assert response.status_code in {201, 400}, label
        statuses.add(response.status_code)
    assert statuses == {201, 400}


def test_wrong_typed_openapi_documents_are_analysed_and_shown(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    design, _ = make_design(workspace=workspace, user=owner, document=shop_v1)
    client.force_login(owner)
    chosen = [(label, text) for label, text in MUTATIONS if "=5 " in label or "key" in label]
    for label, text in chosen:
        created = client.post(
            reverse("api:revisions", args=[design.pk]), {"openapi": text}, content_type="application/json"
        )
        if created.status_code != 201:
            continue
        revision = Revision.objects.get(pk=created.json()["id"])
        run = analysis_services.run_start(revision=revision, user=owner)
        analysis_services.run_execute(run_id=run.pk)
        run = AnalysisRun.objects.get(pk=run.pk)
        assert run.status == "succeeded", (label, run.error)
        assert client.get(reverse("analysis:run", args=[run.pk])).status_code == 200, label
        assert client.get(reverse("designs:revision", args=[design.pk, revision.number])).status_code == 200, label
