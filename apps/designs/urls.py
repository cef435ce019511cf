from django.urls import path

from apps.designs import views

app_name = "designs"
urlpatterns = [
    path("w/<slug:slug>/designs/new/", views.design_new, name="new"),
    path("w/<slug:slug>/designs/validate/", views.validate, name="validate"),
    path("designs/<int:design_id>/", views.design_detail, name="detail"),
    path(
        "designs/<int:design_id>/revisions/new/",
        views.revision_new,
        name="revision-new",
    ),
    path(
        "designs/<int:design_id>/r/<int:number>/",
        views.revision_detail,
        name="revision",
    ),
    path(
        "designs/<int:design_id>/r/<int:number>/source/<str:document>",
        views.revision_source,
        name="source",
    ),
]
