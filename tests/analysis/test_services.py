from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.analysis import services
from apps.analysis.models import AnalysisRun, Finding, RunStatus
from tests.factories import make_design, make_finished_run


def test_a_run_stores_its_report_findings_stages_and_timings(owner: object, workspace: Workspace, shop_v1: str) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    assert (run.status, run.progress, run.attempts) == (RunStatus.SUCCEEDED, 100, 1)
    assert run.findings.count() == run.finding_count == run.report["summary"]["total"]
    assert "findings" not in run.report
    assert run.findings.filter(analyzer="traceability").count() == 5
    stages = {s["name"]: s for s in run.stages}
    assert stages["parse"]["state"] == "succeeded"
    assert stages["traceability"]["duration_ms"] is not None
    assert stages["security"]["state"] == "succeeded"
    assert stages["migrations"]["state"] == "skipped"  # no sandbox inside Django's test case (see conftest)
    assert run.started_at is not None and run.finished_at is not None


def test_executing_the_same_run_again_does_not_duplicate_findings(
    owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    total = Finding.objects.filter(run=run).count()
    assert services.run_execute(run_id=run.pk) == "skipped"
    assert Finding.objects.filter(run=run).count() == total == run.report["summary"]["total"]


def test_a_redelivered_job_takes_over_a_run_whose_worker_died(
    owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner)
    stale = timezone.now() - timedelta(hours=1)
    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, heartbeat_at=stale, attempts=1)
    Finding.objects.create(
        run=run,
        analyzer="x",
        rule_id="x",
        severity="low",
        severity_rank=3,
        title="left over",
        message="",
        fingerprint="f",
    )
    assert services.run_execute(run_id=run.pk) == "stored"
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.SUCCEEDED, 2)
    assert not run.findings.filter(title="left over").exists()
    assert run.findings.count() == run.report["summary"]["total"]


def test_a_duplicate_delivery_while_the_job_is_alive_is_dropped(
    owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner)
    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, heartbeat_at=timezone.now())
    assert services.run_execute(run_id=run.pk) == "skipped"


def test_a_run_with_a_stale_heartbeat_is_failed_with_an_actionable_error(
    owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    assert services.run_reap_stale() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "stopped responding" in run.error
    assert "Start the analysis again" in run.error


def test_cancelling_a_queued_run_stops_it_before_it_starts(owner: object, workspace: Workspace, shop_v1: str) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner)
    services.run_cancel(run=run)
    assert services.run_execute(run_id=run.pk) == "skipped"
    run.refresh_from_db()
    assert (run.status, run.findings.count()) == (RunStatus.CANCELLED, 0)


def test_cancelling_a_running_job_stops_it_at_its_next_stage(
    owner: object, workspace: Workspace, shop_v1: str, monkeypatch: object
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner)
    from apps.analysis.engine import pipeline

    real = pipeline.parse_design

    def parse_then_cancel(*args: object, **kwargs: object) -> object:
        AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.CANCELLED)  # the user clicks Cancel meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "parse_design", parse_then_cancel)  # type: ignore[attr-defined]
    assert services.run_execute(run_id=run.pk) == "cancelled"
    run.refresh_from_db()
    assert (run.status, run.report, run.findings.count()) == (RunStatus.CANCELLED, None, 0)


def test_the_run_page_polls_until_finished_and_then_shows_results(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    client.force_login(owner)
    run = services.run_start(revision=revision, user=owner)
    url = reverse("analysis:run", args=[run.pk])
    page = client.get(url).content.decode()
    assert "<html" in page
    assert 'hx-trigger="every 1000ms"' in page
    services.run_execute(run_id=run.pk)
    fragment = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-status").content.decode()
    assert "<html" not in fragment
    assert "hx-trigger" not in fragment.split(">", 1)[0]
    assert 'id="trace-matrix"' in fragment
    assert 'class="finding ' in fragment
    traced = client.get(url, {"analyzer": "traceability"}).content.decode()
    assert "No story asks for PATCH /v1/customers/{customerId}" in traced


def test_the_cancel_button_returns_the_fragment(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner)
    client.force_login(owner)
    fragment = client.post(reverse("analysis:cancel", args=[run.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "cancelled" in fragment
    assert "Cancelled by a user." in fragment


def test_exports_download_in_three_formats(client: Client, owner: object, workspace: Workspace, shop_v1: str) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(owner)
    assert client.get(reverse("reports:export", args=[run.pk, "json"])).json()["format"] == "workbench-report/1"
    assert client.get(reverse("reports:export", args=[run.pk, "md"])).content.startswith(b"# Design review")
    assert client.get(reverse("reports:export", args=[run.pk, "sarif"])).json()["version"] == "2.1.0"
    assert client.get(reverse("reports:export", args=[run.pk, "exe"])).status_code == 404


def test_the_unfinished_stages_of_a_cancelled_run_say_cancelled(
    client: Client, owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner)
    stages = [dict(stage) for stage in run.stages]
    stages[0].update(state="succeeded", duration_ms=3.0)
    stages[1]["state"] = "running"
    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, stages=stages, heartbeat_at=timezone.now())
    client.force_login(owner)
    fragment = client.post(reverse("analysis:cancel", args=[run.pk]), HTTP_HX_REQUEST="true").content.decode()
    run.refresh_from_db()
    assert [s["state"] for s in run.stages] == ["succeeded"] + ["cancelled"] * (len(stages) - 1)
    assert f'<li class="stage cancelled">{stages[1]["name"]}: cancelled</li>' in fragment
    assert "running</li>" not in fragment and "pending</li>" not in fragment


def test_a_stage_the_job_reports_after_the_cancel_is_refused(owner: object, workspace: Workspace, shop_v1: str) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner)
    services.run_cancel(run=run)
    assert services.run_execute(run_id=run.pk) == "skipped"
    run.refresh_from_db()
    assert {s["state"] for s in run.stages} == {"cancelled"}


def test_a_retry_takes_over_a_run_whose_previous_attempt_ended_despite_a_fresh_heartbeat(
    owner: object, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now(), claim_retry=0, attempts=1
    )
    assert services.run_execute(run_id=run.pk, retry=0) == "skipped"  # a duplicate of the live attempt
    assert services.run_execute(run_id=run.pk, retry=1) == "stored"  # the retry sent after it ended
    run.refresh_from_db()
    assert (run.status, run.attempts, run.claim_retry) == (RunStatus.SUCCEEDED, 2, 1)
