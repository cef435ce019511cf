from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.designs.models import Design
from tests.factories import make_design, make_finished_run


def test_validation_renders_only_the_fragment_for_htmx(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    client.force_login(owner)
    url = reverse("designs:validate", args=[workspace.slug])
    fragment = client.post(url, {"document": shop_v1}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert "<strong>7</strong> entities" in fragment
    assert "No problems found" in fragment
    broken = client.post(url, {"data_model": "Table a {\n  id int [pk\n}\n"}, HTTP_HX_REQUEST="true").content.decode()
    assert "line 3" in broken
    assert "blocks saving" in broken
    assert Design.objects.count() == 0


def test_the_new_design_page_renders_whole_and_saves(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    client.force_login(owner)
    url = reverse("designs:new", args=[workspace.slug])
    page = client.get(url).content.decode()
    assert "<html" in page
    assert 'hx-post="' + reverse("designs:validate", args=[workspace.slug]) + '"' in page
    response = client.post(url, {"name": "Shop", "document": shop_v1})
    design = Design.objects.get()
    assert response.headers["Location"] == reverse("designs:revision", args=[design.pk, 1])


def test_bad_input_in_the_form_names_the_line_and_saves_nothing(
    client: Client, owner: object, workspace: Workspace
) -> None:
    client.force_login(owner)
    response = client.post(
        reverse("designs:new", args=[workspace.slug]), {"name": "Bad", "openapi": 'swagger: "2.0"\n'}
    )
    assert response.status_code == 422
    assert "Swagger 2.0" in response.content.decode()
    assert Design.objects.count() == 0


def test_an_empty_paste_and_a_non_utf8_upload_are_refused(client: Client, owner: object, workspace: Workspace) -> None:
    client.force_login(owner)
    url = reverse("designs:new", args=[workspace.slug])
    assert "nothing was pasted" in client.post(url, {"name": "Empty"}).content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("design.md", b"# Title\n\xff\n", content_type="text/markdown")
    response = client.post(url, {"name": "Binary", "design_file": upload})
    assert response.status_code == 422
    assert "not UTF-8" in response.content.decode()
    assert Design.objects.count() == 0


def test_source_links_open_the_exact_line(client: Client, owner: object, workspace: Workspace, shop_v1: str) -> None:
    design, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(owner)
    page = client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    link = reverse("designs:source", args=[design.pk, 1, "v1-design.md"]) + "?line=409#L409"
    assert link in page
    # The traceability matrix links each story to its heading (ORD-1 is on line 11).
    assert reverse("designs:source", args=[design.pk, 1, "v1-design.md"]) + '?line=11#L11">ORD-1</a>' in page
    source = client.get(link.split("#")[0]).content.decode()
    assert '<tr id="L409" class="focus">' in source
    assert "Table audit_log" in source


def test_design_pages_of_another_workspace_are_404(
    client: Client, owner: object, outsider: object, workspace: Workspace, shop_v1: str
) -> None:
    design, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(outsider)
    for url in (
        reverse("designs:detail", args=[design.pk]),
        reverse("designs:revision", args=[design.pk, 1]),
        reverse("designs:source", args=[design.pk, 1, "v1-design.md"]),
        reverse("analysis:run", args=[run.pk]),
        reverse("reports:export", args=[run.pk, "json"]),
        reverse("designs:new", args=[workspace.slug]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("analysis:start", args=[design.pk, 1])).status_code == 404


def test_an_alias_bomb_pasted_in_the_form_is_refused_quickly(
    client: Client, owner: object, workspace: Workspace
) -> None:
    from tests.designs.test_structured import _bomb

    client.force_login(owner)
    openapi = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\nx-bomb:\n" + "".join(
        "  " + line + "\n" for line in _bomb().splitlines()
    )
    response = client.post(reverse("designs:new", args=[workspace.slug]), {"name": "Bomb", "openapi": openapi})
    assert response.status_code == 422
    assert "alias bomb" in response.content.decode()
    assert Design.objects.count() == 0


def test_a_document_over_the_size_limit_is_refused(
    client: Client, owner: object, workspace: Workspace, settings: object
) -> None:
    settings.DESIGN_MAX_DOCUMENT_BYTES = 2000  # type: ignore[attr-defined]
    client.force_login(owner)
    response = client.post(
        reverse("designs:new", args=[workspace.slug]), {"name": "Huge", "document": "### A-1: x\n" + "y" * 3000}
    )
    assert response.status_code == 422
    assert "larger than the limit" in response.content.decode()
    assert Design.objects.count() == 0


def test_live_validation_parses_a_document_it_has_seen_once(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import cache

    from apps.designs import services

    cache.clear()
    parses: list[int] = []
    validate = services.design_validate

    def counting(**kwargs: Any) -> Any:
        parses.append(1)
        return validate(**kwargs)

    monkeypatch.setattr(services, "design_validate", counting)
    client.force_login(owner)
    url = reverse("designs:validate", kwargs={"slug": workspace.slug})
    first = client.post(url, {"document": shop_v1, "document_name": "design.md"})
    again = client.post(url, {"document": shop_v1, "document_name": "design.md"})
    other = client.post(url, {"document": shop_v1 + "\nOne more line.", "document_name": "design.md"})
    assert first.status_code == again.status_code == other.status_code == 200
    assert first.content == again.content
    assert b"<strong>7</strong> entities" in first.content
    assert len(parses) == 2
