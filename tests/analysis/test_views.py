"""The run page only reads; its status poll is where a run whose worker died is failed."""

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Workspace
from apps.analysis import services
from apps.analysis.models import AnalysisRun, RunStatus
from apps.designs.engine.loader import DesignInput
from apps.designs.services import revision_create
from tests.factories import make_design

WRITES = ("INSERT", "UPDATE", "DELETE")


def _stale_run(owner: AbstractBaseUser, workspace: Workspace, document: str) -> AnalysisRun:
    """A run left running by a worker that died five minutes ago."""
    _, revision = make_design(workspace=workspace, user=owner, document=document)
    run = services.run_start(revision=revision, user=owner)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    return run


def _row(run: AnalysisRun) -> dict[str, Any]:
    return AnalysisRun.objects.filter(pk=run.pk).values().get()


def test_a_get_of_the_run_page_of_a_stale_run_does_not_change_it(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _stale_run(owner, workspace, shop_v1)
    before = _row(run)
    client.force_login(owner)
    url = reverse("analysis:run", args=[run.pk])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
        fragment = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-status")
    assert (page.status_code, fragment.status_code) == (200, 200)
    assert _row(run) == before
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith(WRITES)]


def test_the_run_page_polls_its_status_endpoint_with_a_post(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _stale_run(owner, workspace, shop_v1)
    client.force_login(owner)
    page = client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    assert f'hx-post="{reverse("analysis:status", args=[run.pk])}" hx-trigger="every 1000ms"' in page
    assert client.get(reverse("analysis:status", args=[run.pk])).status_code == 405


def test_the_status_poll_fails_a_stale_run_and_answers_the_status_fragment(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _stale_run(owner, workspace, shop_v1)
    client.force_login(owner)
    fragment = client.post(reverse("analysis:status", args=[run.pk]), HTTP_HX_REQUEST="true").content.decode()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "stopped responding" in run.error
    assert fragment.lstrip().startswith('<div id="run-status"')  # the part only, not the page
    assert "stopped responding" in fragment
    assert "hx-trigger" not in fragment.lstrip().split(">", 1)[0]  # finished: the polling stops


def test_the_status_poll_leaves_a_live_run_running(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _stale_run(owner, workspace, shop_v1)
    AnalysisRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
    client.force_login(owner)
    fragment = client.post(reverse("analysis:status", args=[run.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert _row(run)["status"] == RunStatus.RUNNING
    assert 'hx-trigger="every 1000ms"' in fragment


def test_the_status_poll_of_another_workspaces_run_is_404(
    client: Client, owner: AbstractBaseUser, outsider: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _stale_run(owner, workspace, shop_v1)
    before = _row(run)
    client.force_login(outsider)
    assert client.post(reverse("analysis:status", args=[run.pk])).status_code == 404
    assert _row(run) == before


def test_the_run_api_get_of_a_stale_run_does_not_change_it(
    api: APIClient, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _stale_run(owner, workspace, shop_v1)
    before = _row(run)
    assert api.get(f"/api/v1/runs/{run.pk}/").json()["status"] == "running"
    assert _row(run) == before


def _finished_run(owner: AbstractBaseUser, workspace: Workspace, document: str) -> AnalysisRun:
    _, revision = make_design(workspace=workspace, user=owner, document=document)
    run = services.run_start(revision=revision, user=owner)
    services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_the_run_page_goes_through_every_finding_a_page_at_a_time(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, settings: Any
) -> None:
    settings.RUN_PAGE_MAX_FINDINGS = 8
    run = _finished_run(owner, workspace, shop_v1)
    open_ids = list(run.findings.filter(suppressed__isnull=True).values_list("pk", flat=True))
    assert len(open_ids) > 16
    client.force_login(owner)
    url = reverse("analysis:run", kwargs={"run_id": run.pk})
    seen: list[int] = []
    page = 1
    while True:
        response = client.get(url, {"page": page})
        assert response.status_code == 200
        findings = response.context["findings"]
        assert len(findings) <= 8
        seen += [f.pk for f in findings]
        if response.context["next_query"] is None:
            break
        assert f"page={page + 1}" in response.context["next_query"]
        page += 1
    assert sorted(seen) == sorted(open_ids)
    assert len(seen) == len(set(seen))
    assert page == -(-len(open_ids) // 8)
    assert seen == sorted(seen)  # the report's order, which the ids follow


def test_a_page_number_out_of_range_or_not_a_number_shows_a_real_page(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, settings: Any
) -> None:
    settings.RUN_PAGE_MAX_FINDINGS = 40
    run = _finished_run(owner, workspace, shop_v1)
    client.force_login(owner)
    url = reverse("analysis:run", kwargs={"run_id": run.pk})
    last = client.get(url, {"page": "999999"}).context
    assert last["page"] == last["pages"]
    for odd in ("abc", "0", "-2", "1e3", "99999999999999999999"):
        context = client.get(url, {"page": odd}).context
        assert context["page"] in {1, context["pages"]}


def test_filters_count_from_the_grouped_scan_as_the_rows_do(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _finished_run(owner, workspace, shop_v1)
    client.force_login(owner)
    url = reverse("analysis:run", kwargs={"run_id": run.pk})
    for query, rows in (
        ({}, run.findings.filter(suppressed__isnull=True)),
        ({"severity": "high"}, run.findings.filter(severity="high", suppressed__isnull=True)),
        ({"analyzer": "security", "suppressed": "1"}, run.findings.filter(analyzer="security")),
        ({"category": "API4"}, run.findings.filter(category__startswith="API4:", suppressed__isnull=True)),
    ):
        context = client.get(url, query).context
        assert context["shown_count"] == rows.count(), query
        assert rows.exists(), query
    context = client.get(url).context
    assert context["finding_count"] == run.findings.count()
    assert dict(context["severity_counts"])["high"] == run.findings.filter(severity="high").count()
    assert context["rule_ids"] == sorted(set(run.findings.values_list("rule_id", flat=True)))


def test_the_run_page_opens_with_the_top_problems_grouped_by_story(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _finished_run(owner, workspace, shop_v1)
    client.force_login(owner)
    page = client.get(reverse("analysis:run", kwargs={"run_id": run.pk}))
    html = page.content.decode()
    top = page.context["top_problems"]
    assert top and top[0]["by"] == "story"
    listed = [f.fingerprint for group in top for f in group["findings"]]
    assert listed == [fp for group in run.report["summary"]["top"] for fp in group["findings"]]
    assert html.index('id="top-problems"') < html.index("<h2>Analyzers</h2>") < html.index('id="findings"')
    assert f"<h3>Story {top[0]['name']}</h3>" in html


def test_a_run_against_a_base_revision_shows_new_and_fixed_findings(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, shop_v2: str
) -> None:
    design, base = make_design(workspace=workspace, user=owner, document=shop_v1)
    head = revision_create(design=design, user=owner, texts=DesignInput(document=shop_v2, document_name="v2-design.md"))
    run = services.run_start(revision=head, user=owner, base_revision=base, only=["traceability", "security"])
    services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    changes = run.report["changes"]
    assert changes["new"] and changes["unchanged"] and changes["fixed"]
    assert run.findings.filter(change="new").count() == changes["new"]
    client.force_login(owner)
    html = client.get(reverse("analysis:run", kwargs={"run_id": run.pk})).content.decode()
    assert f"{changes['new']} new, {changes['unchanged']} unchanged, {len(changes['fixed'])} fixed." in html
    assert '<span class="badge new">new</span>' in html


def test_a_running_stage_shows_what_it_is_doing(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _stale_run(owner, workspace, shop_v1)
    AnalysisRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now(),
        stages=[
            {"name": "parse", "state": "succeeded", "duration_ms": 3},
            {"name": "endpoints", "state": "running", "message": "proving the generated project in the <sandbox>"},
        ],
    )
    client.force_login(owner)
    fragment = client.post(reverse("analysis:status", args=[run.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert (
        'endpoints: running <span class="muted stage-message">proving the generated project in the &lt;sandbox&gt;'
        in (fragment)
    )
