"""Hostile parameters and designs on the analysis side: 400/404 or a failed run naming the
line, never a 500 or a worker that never finishes."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.analysis import services
from apps.analysis.models import AnalysisRun, RunStatus
from apps.designs.models import Revision
from tests.conftest import ROOT
from tests.deadline import deadline
from tests.factories import make_design, make_finished_run

RECURSIVE = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: &p\n  /a: {get: *p}\n"


def test_the_worker_fails_a_saved_revision_with_a_recursive_alias_at_once(
    owner: object, workspace: Workspace, shop_v1: str
) -> None:
    design, _ = make_design(workspace=workspace, user=owner, document=shop_v1)
    # Saved before pastes were checked for recursion: the worker must still finish.
    revision = Revision.objects.create(design=design, number=2, openapi=RECURSIVE, document_name="design.md")
    run = services.run_start(revision=revision, user=owner)
    with deadline(10):
        assert services.run_execute(run_id=run.pk) == "stored"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "recursive alias" in run.error
    assert "line 3" in run.error


def test_the_analyze_command_refuses_a_recursive_alias_at_once(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(RECURSIVE, encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "analyze", str(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "recursive alias" in result.stderr
    assert "line 3" in result.stderr


@pytest.mark.parametrize("base", ["abc", "1.5", "99999999999999999999999", "\x00"])
def test_a_base_that_is_not_a_revision_number_is_a_400(
    client: Client, owner: object, workspace: Workspace, shop_v1: str, base: str
) -> None:
    design, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    client.force_login(owner)
    response = client.post(reverse("analysis:start", args=[design.pk, revision.number]), {"base": base})
    assert response.status_code == 400
    assert "base" in response.content.decode()
    assert not AnalysisRun.objects.exists()


def test_an_unknown_base_revision_is_a_400(client: Client, owner: object, workspace: Workspace, shop_v1: str) -> None:
    design, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    client.force_login(owner)
    response = client.post(reverse("analysis:start", args=[design.pk, revision.number]), {"base": "7"})
    assert response.status_code == 400
    assert not AnalysisRun.objects.exists()


@pytest.mark.parametrize("field", ["severity", "analyzer", "rule", "category"])
def test_a_run_page_filter_holding_nul_is_a_400(
    client: Client, owner: object, workspace: Workspace, shop_v1: str, field: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(owner)
    response = client.get(reverse("analysis:run", args=[run.pk]), {field: "a\x00"})
    assert response.status_code == 400
    assert field in response.content.decode()


def test_api_filters_holding_nul_are_a_400(client: Client, owner: object, workspace: Workspace, shop_v1: str) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(owner)
    assert client.get(reverse("api:findings", args=[run.pk]), {"rule_id": "\x00"}).status_code == 400
    assert client.get(reverse("api:runs"), {"status": "\x00"}).status_code == 400
