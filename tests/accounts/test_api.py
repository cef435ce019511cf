from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import Workspace
from apps.accounts.services import token_create, token_revoke
from tests.factories import make_design, make_finished_run


def _bearer(user: object) -> APIClient:
    _, raw = token_create(user=user, name="ci")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def test_a_token_authenticates_and_a_revoked_one_does_not(owner: object, workspace: Workspace) -> None:
    token, raw = token_create(user=owner, name="ci")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.get("/api/v1/workspaces/")
    assert response.status_code == 200
    assert [w["slug"] for w in response.json()["results"]] == [workspace.slug]
    token_revoke(user=owner, token_id=token.pk)
    assert api.get("/api/v1/workspaces/").status_code == 401


def test_a_design_posted_through_the_api_is_analysed_and_reported(
    owner: object, workspace: Workspace, shop_v1: str, django_capture_on_commit_callbacks: object
) -> None:
    api = _bearer(owner)
    created = api.post(
        f"/api/v1/workspaces/{workspace.slug}/designs/", {"name": "Shop", "document": shop_v1}, format="json"
    )
    assert created.status_code == 201
    design_id = created.json()["id"]
    revisions = api.get(f"/api/v1/designs/{design_id}/revisions/").json()["results"]
    assert revisions[0]["summary"]["endpoints"] == 11
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
        started = api.post(f"/api/v1/revisions/{revisions[0]['id']}/runs/", {"only": ["traceability"]}, format="json")
    assert started.status_code == 202
    assert started.json()["status"] == "queued"
    assert started.json()["renames"] == "detect"
    assert len(callbacks) == 1  # the job is sent after commit
    url = f"/api/v1/revisions/{revisions[0]['id']}/runs/"
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        assert api.post(url, {"renames": "drop_add"}, format="json").json()["renames"] == "drop_add"
    refused = api.post(url, {"renames": "guess"}, format="json")
    assert refused.status_code == 400
    assert "renames" in refused.json()


def test_bad_input_is_a_400_naming_the_line_and_nothing_is_saved(owner: object, workspace: Workspace) -> None:
    api = _bearer(owner)
    response = api.post(
        f"/api/v1/workspaces/{workspace.slug}/designs/",
        {"name": "Bad", "data_model": "CREATE TABLE a (\n id int,,\n);"},
        format="json",
    )
    assert response.status_code == 400
    problem = response.json()["problems"][0]
    assert (problem["code"], problem["line"]) == ("ddl.syntax-error", 2)
    assert api.get(f"/api/v1/workspaces/{workspace.slug}/designs/").json()["count"] == 0


def test_runs_findings_and_reports_of_another_workspace_are_404(
    owner: object, outsider: object, workspace: Workspace, shop_v1: str
) -> None:
    design, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    own = _bearer(owner)
    assert own.get(f"/api/v1/runs/{run.pk}/report/").json()["design"]["stories"]["count"] == 6
    findings = own.get(f"/api/v1/runs/{run.pk}/findings/?rule_id=trace.operation-without-story").json()
    assert findings["count"] == 3
    other = _bearer(outsider)
    for path in (
        f"/api/v1/designs/{design.pk}/",
        f"/api/v1/revisions/{revision.pk}/",
        f"/api/v1/runs/{run.pk}/",
        f"/api/v1/runs/{run.pk}/report/",
        f"/api/v1/runs/{run.pk}/findings/",
        f"/api/v1/workspaces/{workspace.slug}/designs/",
    ):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/api/v1/runs/{run.pk}/cancel/").status_code == 404
    assert other.get("/api/v1/runs/").json()["count"] == 0


def test_viewers_read_but_cannot_write(owner: object, viewer: object, workspace: Workspace, shop_v1: str) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    api = _bearer(viewer)
    assert api.get(f"/api/v1/revisions/{revision.pk}/").status_code == 200
    assert api.post(f"/api/v1/revisions/{revision.pk}/runs/", {}, format="json").status_code == 403
    assert (
        api.post(
            f"/api/v1/workspaces/{workspace.slug}/designs/",
            {"name": "x", "document": "### A-1: x\nAs a u, I want x, so that y.\n"},
            format="json",
        ).status_code
        == 403
    )


def test_the_openapi_schema_and_offline_swagger_ui_are_served(client: Client, owner: object) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/runs/{run_id}/cancel/" in paths
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
