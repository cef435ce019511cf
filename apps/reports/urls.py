from django.urls import path

from apps.reports import rule_views, views

app_name = "reports"
urlpatterns = [
    path("runs/<int:run_id>/report.<str:fmt>", views.export, name="export"),
    path("reports/report.schema.json", views.report_schema, name="schema"),
    path("findings/<int:finding_id>/triage/", views.triage, name="triage"),
    path("runs/<int:run_id>/shares/", views.shares, name="shares"),
    path("shares/<int:link_id>/revoke/", views.share_revoke, name="share-revoke"),
    path("shares/<int:link_id>/delete/", views.share_delete, name="share-delete"),
    path("s/<str:token>/", views.shared, name="shared"),
    path("rules/<str:rule_id>/", rule_views.rule_doc, name="rule"),
]
