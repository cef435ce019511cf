from django.urls import path

from apps.reports import views

app_name = "reports"
urlpatterns = [
    path("runs/<int:run_id>/report.<str:fmt>", views.export, name="export"),
]
