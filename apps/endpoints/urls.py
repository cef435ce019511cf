from django.urls import path

from apps.endpoints import views

app_name = "endpoints"
urlpatterns = [
    path("runs/<int:run_id>/endpoints/", views.endpoints_tab, name="tab"),
    path("runs/<int:run_id>/endpoints/project.zip", views.endpoints_zip, name="zip"),
    path("runs/<int:run_id>/endpoints/files/<path:path>", views.endpoints_tab, name="file"),
    path("runs/<int:run_id>/endpoints/download/<path:path>", views.endpoints_file_download, name="download"),
]
