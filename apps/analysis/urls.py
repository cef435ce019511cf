from django.urls import path

from apps.analysis import views

app_name = "analysis"
urlpatterns = [
    path("designs/<int:design_id>/r/<int:number>/runs/", views.run_start, name="start"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/status/", views.run_status, name="status"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="cancel"),
]
