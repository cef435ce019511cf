from django.urls import path

from apps.migrations_preview import views

app_name = "migrations_preview"
urlpatterns = [
    path("runs/<int:run_id>/migrations/", views.migrations_tab, name="tab"),
    path("runs/<int:run_id>/migrations/<str:kind>/", views.migration_download, name="download"),
]
