from django.urls import path

from apps.guides import views

app_name = "guides"
urlpatterns = [
    path("runs/<int:run_id>/guide/", views.guide, name="guide"),
    path("runs/<int:run_id>/guide/steps/<slug:key>/answer/", views.step_answer, name="answer"),
    path(
        "runs/<int:run_id>/guide/steps/<slug:key>/people/<int:person_id>/sign-off/",
        views.step_sign_off,
        name="sign-off",
    ),
    path(
        "runs/<int:run_id>/guide/steps/<slug:key>/people/<int:person_id>/send-back/",
        views.step_send_back,
        name="send-back",
    ),
    path("runs/<int:run_id>/guide/steps/<slug:key>/verdict/", views.checklist_verdict, name="verdict"),
    path("w/<slug:slug>/guide-steps/", views.team_steps, name="team-steps"),
    path("w/<slug:slug>/guide-steps/<int:step_id>/delete/", views.team_step_delete, name="team-step-delete"),
]
