"""The REST API, /api/v1/: every object is reached through the caller's memberships."""

from django.urls import path

from apps.accounts import api as accounts_api
from apps.analysis import api as analysis_api
from apps.designs import api as designs_api
from apps.reports import api as reports_api

app_name = "api"
urlpatterns = [
    path("workspaces/", accounts_api.WorkspaceListApi.as_view(), name="workspaces"),
    path(
        "workspaces/<slug:slug>/",
        accounts_api.WorkspaceDetailApi.as_view(),
        name="workspace",
    ),
    path(
        "workspaces/<slug:slug>/designs/",
        designs_api.DesignListApi.as_view(),
        name="designs",
    ),
    path("designs/<int:design_id>/", designs_api.DesignDetailApi.as_view(), name="design"),
    path(
        "designs/<int:design_id>/revisions/",
        designs_api.RevisionListApi.as_view(),
        name="revisions",
    ),
    path(
        "revisions/<int:revision_id>/",
        designs_api.RevisionDetailApi.as_view(),
        name="revision",
    ),
    path(
        "revisions/<int:revision_id>/runs/",
        analysis_api.RunStartApi.as_view(),
        name="run-start",
    ),
    path("runs/", analysis_api.RunListApi.as_view(), name="runs"),
    path("runs/<int:run_id>/", analysis_api.RunDetailApi.as_view(), name="run"),
    path(
        "runs/<int:run_id>/cancel/",
        analysis_api.RunCancelApi.as_view(),
        name="run-cancel",
    ),
    path(
        "runs/<int:run_id>/report/",
        analysis_api.RunReportApi.as_view(),
        name="run-report",
    ),
    path(
        "runs/<int:run_id>/export/<str:fmt>/",
        reports_api.RunExportApi.as_view(),
        name="run-export",
    ),
    path(
        "runs/<int:run_id>/findings/",
        analysis_api.FindingListApi.as_view(),
        name="findings",
    ),
]
