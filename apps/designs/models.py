from django.conf import settings
from django.db import models

from apps.accounts.models import Workspace


class Design(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="designs")
    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def latest_revision(self) -> "Revision | None":
        return self.revisions.order_by("-number").first()


class Revision(models.Model):
    """What was pasted, verbatim. Never edited: a new paste is a new revision."""

    design = models.ForeignKey(Design, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    document_name = models.CharField(max_length=200, default="design.md")
    document = models.TextField(blank=True)
    stories = models.TextField(blank=True)
    openapi = models.TextField(blank=True)
    data_model = models.TextField(blank=True)
    queries = models.TextField(blank=True)
    # Counts of what the parsers found, kept for listings (entities, endpoints, stories, queries).
    summary = models.JSONField(default=dict)
    problem_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["design", "-number"]
        constraints = [models.UniqueConstraint(fields=["design", "number"], name="revision_unique_number")]

    def __str__(self) -> str:
        return f"{self.design} r{self.number}"
