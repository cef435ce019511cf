from django.urls import path

from apps.security import views

app_name = "security"
urlpatterns = [
    path("runs/<int:run_id>/checklist/<str:key>/", views.checklist_review, name="review"),
    path("findings/<int:finding_id>/suppress/", views.suppress, name="suppress"),
    path("findings/<int:finding_id>/unsuppress/", views.unsuppress, name="unsuppress"),
]
