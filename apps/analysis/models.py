from django.conf import settings
from django.db import models
from django.urls import reverse

from apps.designs.models import Revision


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class RenameMode(models.TextChoices):
    DETECT = "detect", "as renames"
    DROP_ADD = "drop_add", "as a drop and an add"


class AnalysisRun(models.Model):
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="runs")
    base_revision = models.ForeignKey(Revision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    only = models.JSONField(default=list, blank=True, help_text="Analyzer names; empty means all.")
    renames = models.CharField(
        max_length=10,
        choices=RenameMode.choices,
        default=RenameMode.DETECT,
        help_text="How the migration preview treats a column or table whose name changed.",
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    # [{"name": "parse", "state": "succeeded", "started_at": ..., "finished_at": ..., "duration_ms": ...}]
    stages = models.JSONField(default=list)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Celery's retry number of the job that claimed the run: a delivery with a higher number is a
    # retry sent after that job ended (it raised, or its worker process was lost), so it takes over.
    claim_retry = models.PositiveSmallIntegerField(null=True, blank=True)
    # The process running the job (a prefork pool child), for operators and the crash tests.
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The summary and the analyzers' sections; the findings themselves are the Finding rows (a
    # large specification yields tens of thousands, which would make this tens of megabytes).
    report = models.JSONField(null=True, blank=True)
    # Kept beside the report so that lists of runs count findings without reading either.
    finding_count = models.PositiveIntegerField(null=True, blank=True, help_text="Set when the report is stored.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="run_status_heartbeat")]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.revision} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("analysis:run", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def stages_all_ended(self) -> bool:
        """Every stage ran to its end (done, failed or skipped): a cancel that came after them
        stopped only the saving of the report (run_cancel marks the stages it stops cancelled)."""
        return bool(self.stages) and all(
            stage.get("state") not in {"pending", "running", "cancelled"} for stage in self.stages
        )

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Finding(models.Model):
    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="findings")
    analyzer = models.CharField(max_length=40)
    rule_id = models.CharField(max_length=100)
    severity = models.CharField(max_length=10)
    severity_rank = models.PositiveSmallIntegerField(help_text="0 = critical ... 4 = info, for sorting")
    title = models.TextField()  # whole, so that the exports built from the rows repeat it exactly
    message = models.TextField()
    fix = models.TextField(blank=True)
    references = models.JSONField(default=list)
    fingerprint = models.CharField(max_length=64)
    locations = models.JSONField(default=list)
    category = models.CharField(max_length=20, blank=True, help_text="OWASP API Top 10 category (API1:2023 ...) or DP")
    cwe = models.CharField(max_length=20, blank=True)
    # {"source": "spec"|"review"|"rule", "reason": ..., "by": ..., "at": ..., "pointer": ...} when waived
    suppressed = models.JSONField(null=True, blank=True)
    priority = models.PositiveIntegerField(default=0, help_text="From severity, breadth and stories; see ranking")
    stories = models.JSONField(default=list, help_text="Ids of the stories that depend on the finding")
    endpoints = models.JSONField(default=list, help_text="METHOD /path of the operations it touches")
    change = models.CharField(max_length=10, blank=True, help_text="new or unchanged against the base revision")
    # len(locations): a design-level finding may hold thousands, which pages show a few of.
    location_count = models.PositiveIntegerField(default=1)
    # {"source": "generation", "reason": ...} when the generated endpoints answer it (it stays open)
    resolved_by = models.JSONField(null=True, blank=True)

    class Meta:
        # The report's order (priority), which the rows' ids follow: they are written in it.
        ordering = ["id"]
        indexes = [
            models.Index(fields=["run", "id"], name="finding_run_order"),
            # The run page's counts (one grouped scan per request) read this index alone, not
            # the wide rows: 51,000 findings counted in ~14 ms rather than 40-140.
            models.Index(
                fields=["run", "analyzer", "rule_id", "category", "severity"],
                include=["suppressed"],
                name="finding_run_counts",
            ),
            models.Index(fields=["fingerprint"], name="finding_fingerprint"),
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"

    @property
    def places(self) -> list[dict[str, object]]:
        """The first places a page lists: cut by the query where it asked for them
        (`selectors.with_first_places`), else from the whole list."""
        first = getattr(self, "first_locations", None)
        return first if first is not None else self.locations[: settings.RUN_PAGE_MAX_PLACES]

    @property
    def more_places(self) -> int:
        return max(0, self.location_count - len(self.places))
