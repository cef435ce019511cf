from django.urls import path

from apps.queryplans import views

app_name = "queryplans"
urlpatterns = [
    path("runs/<int:run_id>/plans/", views.plans_tab, name="tab"),
]
