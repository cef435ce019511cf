from django.conf import settings
from django.db import models

from apps.analysis.models import AnalysisRun
from apps.designs.models import Design, Revision


class ReviewStatus(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    NEEDS_REVIEW = "needs_review", "Needs review"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class ChecklistReview(models.Model):
    """A reviewer's verdict and note on one checklist item of a revision.

    Kept per revision, not per run, so that a re-run of the same revision shows the verdicts
    already given; `run` is the run it was given on (kept for the record)."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="checklist_reviews")
    run = models.ForeignKey(
        AnalysisRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="checklist_reviews"
    )
    key = models.CharField(max_length=10, help_text="API1 ... API10, DP")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=ReviewStatus.choices)
    note = models.TextField(blank=True, max_length=4000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "key", "reviewer"], name="checklist_review_unique_revision")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.status} by {self.reviewer}"


class Suppression(models.Model):
    """A finding waived for a design, by fingerprint, so it stays waived in later revisions."""

    design = models.ForeignKey(Design, on_delete=models.CASCADE, related_name="suppressions")
    fingerprint = models.CharField(max_length=64)
    rule_id = models.CharField(max_length=100)
    title = models.CharField(max_length=500)
    reason = models.TextField(max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["design", "fingerprint"], name="suppression_unique_fingerprint")]

    def __str__(self) -> str:
        return f"{self.rule_id} waived on {self.design}"

    def as_marker(self) -> dict[str, str | None]:
        return {
            "source": "review",
            "reason": self.reason,
            "by": self.created_by.username if self.created_by else None,
            "at": self.created_at.isoformat(),
            "pointer": None,
        }
