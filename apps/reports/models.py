"""A design's review of its findings (triage, by fingerprint) and share links to one run's report."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.analysis.models import AnalysisRun
from apps.designs.models import Design


class TriageState(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED_RISK = "accepted_risk", "Accepted risk"
    FALSE_POSITIVE = "false_positive", "False positive"
    FIXED = "fixed", "Fixed"


# The states that waive a finding: they are the design's suppression of it (see services).
WAIVING_STATES = (TriageState.ACCEPTED_RISK, TriageState.FALSE_POSITIVE)


class Triage(models.Model):
    """The current triage of one finding for a design, by fingerprint, so that it carries over to
    later revisions' runs. Accepted risk and false positive are kept in step with the design's
    `apps.security.models.Suppression` (which marks the findings `suppressed`); fixed is a claim
    the next run checks."""

    design = models.ForeignKey(Design, on_delete=models.CASCADE, related_name="triages")
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=TriageState.choices, default=TriageState.OPEN)
    reason = models.TextField(blank=True, max_length=2000)
    rule_id = models.CharField(max_length=100)
    title = models.CharField(max_length=500)
    # The run the finding was triaged on: a finding marked fixed that a later run still reports
    # is shown as "marked fixed, still present".
    run = models.ForeignKey(AnalysisRun, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["design", "fingerprint"], name="triage_unique_fingerprint")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.state} on {self.design}"


class TriageChange(models.Model):
    """One change of a finding's triage: who set which state, why and when (the history)."""

    design = models.ForeignKey(Design, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=TriageState.choices)
    previous_state = models.CharField(max_length=20, choices=TriageState.choices)
    reason = models.TextField(blank=True, max_length=2000)
    run = models.ForeignKey(AnalysisRun, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["design", "fingerprint"], name="triage_change_finding")]

    def __str__(self) -> str:
        return f"{self.previous_state} → {self.state}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ShareLink(models.Model):
    """A read-only link to one run's report for people without an account. Only the token's
    SHA-256 is stored; the token itself is shown once, at creation."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True)
    anonymise = models.BooleanField(default=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"share link #{self.pk} of run #{self.run_id}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ShareView(models.Model):
    """One opening of a share link: when, and from which address."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="views")
    viewed_at = models.DateTimeField(default=timezone.now)
    address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-viewed_at", "-pk"]

    def __str__(self) -> str:
        return f"viewed {self.viewed_at:%Y-%m-%d %H:%M} from {self.address or 'an unknown address'}"
