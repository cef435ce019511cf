from django.conf import settings
from django.db import models

from apps.accounts.models import Workspace
from apps.designs.models import Revision
from apps.guides.engine.steps import CONDITIONS


class StepStatus(models.TextChoices):
    TODO = "todo", "To do"
    DONE = "done", "Done, awaiting sign-off"
    SIGNED_OFF = "signed_off", "Signed off"


class StepState(models.Model):
    """One person's work on one step of a revision's guided review.

    Kept per revision, not per run: a re-run of the same revision builds the same step keys, so
    its guide shows the answers and sign-offs already given. `version` grows with every change;
    a form carries the version it was drawn from, and a change sent from an older one is refused
    (two people never overwrite each other's work unseen).
    """

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="guide_states")
    key = models.CharField(max_length=64)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=StepStatus.choices, default=StepStatus.TODO)
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # The senior's last word: a sign-off, or the comment a sent-back step shows its person.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["revision", "key", "person"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "key", "person"], name="guide_state_unique_person_step")
        ]

    def __str__(self) -> str:
        return f"{self.key} of {self.person} on {self.revision}: {self.status}"


class TeamStep(models.Model):
    """A step a workspace adds to every run's guide (the "Team steps" section)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="guide_steps")
    title = models.CharField(max_length=200)
    why = models.TextField(blank=True)
    how = models.TextField(blank=True)
    good = models.TextField(blank=True)
    condition = models.CharField(max_length=20, choices=[(k, v) for k, v in CONDITIONS.items()], default="always")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.workspace})"
