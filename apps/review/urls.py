from django.urls import path

from apps.review import views

app_name = "review"
urlpatterns = [
    path(
        "designs/<int:design_id>/r/<int:number>/source/<str:document>/threads/",
        views.thread_create,
        name="thread-create",
    ),
    path("threads/<int:thread_id>/reply/", views.thread_reply, name="thread-reply"),
    path("threads/<int:thread_id>/resolve/", views.thread_resolve, name="thread-resolve"),
    path("threads/<int:thread_id>/reopen/", views.thread_reopen, name="thread-reopen"),
    path("designs/<int:design_id>/r/<int:number>/verdict/", views.verdict_set, name="verdict"),
    path("designs/<int:design_id>/compare/", views.compare_pick, name="compare-pick"),
    path("designs/<int:design_id>/compare/<int:a>...<int:b>/", views.compare, name="compare"),
]
