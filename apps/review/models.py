from django.conf import settings
from django.db import models

from apps.designs.models import Revision


class ThreadStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Thread(models.Model):
    """A conversation about one line of one pasted document of a revision.

    The anchor (revision, field, line, line_text) never changes. On a later revision of the same
    design an open thread is shown where its line went when that line is unchanged, else as
    outdated (see selectors.document_threads); a resolved thread stays on its own revision.
    """

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="review_threads")
    # Which of the revision's texts (Revision.document, .stories, .openapi, .data_model,
    # .queries): the document's name may change between revisions (v1-design.md, v2-design.md).
    field = models.CharField(max_length=20)
    document_name = models.CharField(max_length=200)
    line = models.PositiveIntegerField()
    line_text = models.TextField()
    status = models.CharField(max_length=10, choices=ThreadStatus.choices, default=ThreadStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["line", "created_at"]
        indexes = [models.Index(fields=["revision", "field"], name="review_thread_document")]

    def __str__(self) -> str:
        return f"thread on {self.document_name}:{self.line} of {self.revision}"

    @property
    def is_open(self) -> bool:
        return self.status == ThreadStatus.OPEN


class Comment(models.Model):
    """One message of a thread; the first one opens it."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.thread}"


class VerdictChoice(models.TextChoices):
    APPROVE = "approve", "Approved"
    REQUEST_CHANGES = "request_changes", "Changes requested"


class Verdict(models.Model):
    """A reviewer's current verdict on a revision: one per reviewer, changeable."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="review_verdicts")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=20, choices=VerdictChoice.choices)
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["revision", "reviewer"], name="review_verdict_unique_reviewer")]

    def __str__(self) -> str:
        return f"{self.verdict} on {self.revision} by {self.reviewer}"
