"""Reviewer input that PostgreSQL cannot store, or that names nothing reviewable: a 400 with a
message, never a 500 and never a half-written row."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.analysis import services as analysis_services
from apps.security.models import ChecklistReview, Suppression
from tests.factories import make_design, make_finished_run


@pytest.mark.parametrize("htmx", [False, True])
def test_a_suppression_reason_holding_nul_is_a_400_naming_the_line(
    client: Client, owner: object, workspace: Workspace, shop_v1: str, htmx: bool
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    finding = make_finished_run(revision=revision, user=owner).findings.first()
    client.force_login(owner)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(reverse("security:suppress", args=[finding.pk]), {"reason": "fine\nreally\x00"}, **headers)
    assert response.status_code == 400
    assert "line 2" in response.content.decode()
    assert not Suppression.objects.exists()


def test_a_checklist_note_holding_nul_is_a_400_naming_the_line(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(owner)
    response = client.post(
        reverse("security:review", args=[run.pk, "API1"]),
        {"status": "pass", "note": "\x00"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "line 1" in response.content.decode()
    assert not ChecklistReview.objects.exists()


@pytest.mark.parametrize("finished", [False, True])
def test_a_checklist_review_on_a_run_without_a_security_review_is_a_400(
    client: Client, owner: object, workspace: Workspace, shop_v1: str, finished: bool
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = analysis_services.run_start(revision=revision, user=owner, only=["traceability"])
    if finished:
        analysis_services.run_execute(run_id=run.pk)
    client.force_login(owner)
    response = client.post(
        reverse("security:review", args=[run.pk, "API1"]), {"status": "pass"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "no security review" in response.content.decode()
    assert not ChecklistReview.objects.exists()
