"""Reviewer input on the security review: checklist verdicts and suppressions."""

from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.analysis.models import AnalysisRun, Finding
from apps.security.engine.catalog import CATEGORY_BY_KEY
from apps.security.engine.review import checklist_from_counts
from apps.security.models import ChecklistReview, ReviewStatus, Suppression
from workbench.validators import require_storable


def apply_suppressions(*, report: dict[str, Any], design_id: int) -> None:
    """Mark the report's findings the design's reviewers waived (matched by fingerprint)."""
    waived = {s.fingerprint: s for s in Suppression.objects.filter(design_id=design_id).select_related("created_by")}
    if not waived:
        return
    for finding in report["findings"]:
        suppression = waived.get(finding["fingerprint"])
        if suppression is not None and not finding.get("suppressed"):
            finding["suppressed"] = suppression.as_marker()
    section = report.get("security")
    if section is not None:
        security = [f for f in report["findings"] if f["analyzer"] == "security"]
        open_counts = Counter((f["category"], f["severity"]) for f in security if not f.get("suppressed"))
        section["checklist"] = report_checklist(report=report, open_counts=open_counts)
        section["suppressed"] = sum(1 for f in security if f.get("suppressed"))


def report_checklist(*, report: dict[str, Any], open_counts: Mapping[tuple[str, str], int]) -> list[dict[str, Any]]:
    """The checklist of a stored report, graded on its current open security findings, counted per
    (category, severity)."""
    api = bool(report["design"]["endpoints"]["count"])
    return checklist_from_counts(open_counts, has_api=api, has_model=api or bool(report["design"]["entities"]["count"]))


def checklist_review_set(
    *, run: AnalysisRun, reviewer: AbstractBaseUser, key: str, status: str, note: str
) -> ChecklistReview:
    if key not in CATEGORY_BY_KEY:
        raise ValidationError({"key": f"Unknown checklist item {key!r}."})
    if status not in ReviewStatus.values:
        raise ValidationError({"status": f"Status must be one of {', '.join(ReviewStatus.values)}."})
    if not run.report or "security" not in run.report:
        raise ValidationError(
            {"key": "This run has no security review to check off; start an analysis with the security analyzer."}
        )
    require_storable(note, field="note", label="note")
    # One verdict per reviewer and item of the revision: a re-run of it keeps the verdicts given.
    review, _ = ChecklistReview.objects.update_or_create(
        revision_id=run.revision_id,
        key=key,
        reviewer=reviewer,
        defaults={"run": run, "status": status, "note": note.strip()[:4000]},
    )
    return review


@transaction.atomic
def suppression_create(*, finding: Finding, user: AbstractBaseUser, reason: str) -> Suppression:
    """Waive a finding for its design; this run's finding and later runs' show it as suppressed."""
    reason = require_storable(reason, field="reason", label="reason").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the finding does not apply; the reason stays visible."})
    design = finding.run.revision.design
    suppression, _ = Suppression.objects.update_or_create(
        design=design,
        fingerprint=finding.fingerprint,
        defaults={
            "rule_id": finding.rule_id,
            "title": finding.title[:500],
            "reason": reason[:2000],
            "created_by": user,
        },
    )
    Finding.objects.filter(
        run__revision__design=design, fingerprint=finding.fingerprint, suppressed__isnull=True
    ).update(suppressed=suppression.as_marker())
    return suppression


@transaction.atomic
def suppression_delete(*, finding: Finding) -> None:
    design = finding.run.revision.design
    Suppression.objects.filter(design=design, fingerprint=finding.fingerprint).delete()
    Finding.objects.filter(
        run__revision__design=design, fingerprint=finding.fingerprint, suppressed__source="review"
    ).update(suppressed=None)
