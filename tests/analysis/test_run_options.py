"""The revision page's run form (the analyzers that will run, the revision compared with) and the
run page's account of a cancelled or failed run, with the same analysis offered again."""

import re

from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.analysis import services
from apps.analysis.models import AnalysisRun, RunStatus
from apps.analysis.selectors import analyzer_choices
from apps.designs.engine.loader import DesignInput
from apps.designs.models import Design, Revision
from apps.designs.services import revision_create
from tests.factories import make_design


def _three_revisions(owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, shop_v2: str) -> Design:
    design, _ = make_design(workspace=workspace, user=owner, document=shop_v1)
    for text in (shop_v2, shop_v1):
        revision_create(design=design, user=owner, texts=DesignInput(document=text, document_name="design.md"))
    return design


def _select(page: str) -> str:
    start = page.index('<select name="base"')
    return page[start : page.index("</select>", start)]


def _checkboxes(page: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="only"[^>]*>', page)


def test_every_analyzer_is_offered_ticked_and_enabled_with_what_it_does(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    design, _ = make_design(workspace=workspace, user=owner, document=shop_v1)
    client.force_login(owner)
    page = client.get(reverse("designs:revision", args=[design.pk, 1])).content.decode()
    boxes = _checkboxes(page)
    names = [a["name"] for a in analyzer_choices()]
    assert [re.search(r'value="([^"]+)"', box).group(1) for box in boxes] == names  # type: ignore[union-attr]
    assert all(" checked" in box and "disabled" not in box for box in boxes)
    assert "Analyzers that will run" in page
    assert "Needs the sandbox PostgreSQL" in page
    # In this test the sandbox is off: the page says which analyzers will be skipped for it.
    assert page.count("it will be skipped") == 2
    assert "the code is generated, not proved" in page
    assert 'name="base"' not in page  # no other revision to compare with


def test_compare_with_defaults_to_the_previous_revision_and_nothing_stays_a_choice(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, shop_v2: str
) -> None:
    design = _three_revisions(owner, workspace, shop_v1, shop_v2)
    client.force_login(owner)
    page = client.get(reverse("designs:revision", args=[design.pk, 3])).content.decode()
    select = _select(page)
    assert '<option value="">(nothing)</option>' in select
    assert re.findall(r"<option [^>]*selected[^>]*>", select) == ['<option value="2" selected>']
    # The first revision has nothing before it: nothing is preselected.
    first = client.get(reverse("designs:revision", args=[design.pk, 1])).content.decode()
    assert " selected" not in _select(first)


def test_a_run_of_the_ticked_analyzers_only_and_none_ticked_is_refused(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, shop_v2: str
) -> None:
    design = _three_revisions(owner, workspace, shop_v1, shop_v2)
    client.force_login(owner)
    url = reverse("analysis:start", args=[design.pk, 3])
    response = client.post(url, {"analyzers_shown": "1", "only": ["security", "traceability"], "base": "2"})
    assert response.status_code == 302
    run = AnalysisRun.objects.get()
    assert (run.only, run.base_revision.number) == (["security", "traceability"], 2)  # type: ignore[union-attr]
    response = client.post(url, {"analyzers_shown": "1", "base": "2"})
    assert response.status_code == 400
    assert "tick at least one analyzer" in response.content.decode()
    assert AnalysisRun.objects.count() == 1


def _rerun_fields(page: str) -> list[tuple[str, str]]:
    form = page[page.index('id="rerun-form"') : page.index("</form>", page.index('id="rerun-form"'))]
    return re.findall(r'<input type="hidden" name="(only|base|renames)" value="([^"]*)">', form)


def test_a_run_cancelled_after_its_stages_finished_says_so_and_offers_the_same_run_again(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, shop_v2: str
) -> None:
    design = _three_revisions(owner, workspace, shop_v1, shop_v2)
    revision = Revision.objects.get(design=design, number=3)
    base = Revision.objects.get(design=design, number=2)
    run = services.run_start(
        revision=revision, user=owner, only=["traceability", "security"], base_revision=base, renames="drop_add"
    )
    # Every stage ended, the report is being saved: the cancel lands in that window.
    stages = [{**stage, "state": "succeeded", "duration_ms": 1.0} for stage in run.stages]
    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, stages=stages)
    run.refresh_from_db()
    services.run_cancel(run=run)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.report is None
    client.force_login(owner)
    page = client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    assert "Cancelled after every stage had finished, while the report was being saved" in page
    assert "there is no report to show" in page
    assert 'id="rerun"' in page
    fields = _rerun_fields(page)
    assert fields == [("only", "traceability"), ("only", "security"), ("base", "2"), ("renames", "drop_add")]
    # The button posts those options to the start view: the new run has them.
    response = client.post(reverse("analysis:start", args=[design.pk, 3]), dict_of(fields))
    assert response.status_code == 302
    again = AnalysisRun.objects.exclude(pk=run.pk).get()
    assert (again.only, again.base_revision_id, again.renames) == (["traceability", "security"], base.pk, "drop_add")
    # The fragment the cancel button swaps in says the same.
    fragment = client.get(
        reverse("analysis:run", args=[run.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-status"
    ).content.decode()
    assert 'id="rerun"' in fragment and "Cancelled after every stage had finished" in fragment


def dict_of(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in fields:
        out.setdefault(key, []).append(value)
    return out


def test_a_run_cancelled_while_queued_says_its_stages_did_not_run(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_cancel(run=services.run_start(revision=revision, user=owner))
    client.force_login(owner)
    page = client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    assert "Cancelled before every stage had finished" in page
    assert "every stage had finished, while" not in page
    assert _rerun_fields(page) == [("renames", "detect")]  # all analyzers, no base: as it was


def test_a_failed_run_offers_a_rerun_to_editors_only(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner, only=["security"])
    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="The worker died.")
    client.force_login(owner)
    page = client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    assert 'id="rerun"' in page
    assert _rerun_fields(page) == [("only", "security"), ("renames", "detect")]
    assert 'id="cancel-note"' not in page
    client.force_login(viewer)
    assert 'id="rerun"' not in client.get(reverse("analysis:run", args=[run.pk])).content.decode()
