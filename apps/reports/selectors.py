"""Reads for the review of a run: triage, suppressions, checklist verdicts, share links. Nothing
here writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from apps.analysis.models import AnalysisRun
from apps.guides.selectors import guide_export
from apps.reports.models import WAIVING_STATES, ShareLink, Triage, TriageChange, TriageState, token_hash
from apps.security.models import ChecklistReview, Suppression


@dataclass(frozen=True, slots=True)
class FindingTriage:
    """A finding's triage as the pages and exports show it."""

    fingerprint: str
    state: str
    reason: str
    by: str | None
    at: str | None  # ISO 8601
    run_id: int | None  # the run it was set on
    changes: int  # entries in its history

    @property
    def label(self) -> str:
        return TriageState(self.state).label

    def as_dict(self, *, run_id: int, present: bool) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "state": self.state,
            "reason": self.reason,
            "by": self.by,
            "at": self.at,
            "present": present,
            "marked_fixed_still_present": self.fixed_but_present(run_id=run_id, present=present),
            "changes": self.changes,
        }

    def fixed_but_present(self, *, run_id: int, present: bool) -> bool:
        """Marked fixed on an earlier run, and this run still reports the finding."""
        return self.state == TriageState.FIXED and present and (self.run_id is None or run_id > self.run_id)


def triage_map(*, design_id: int) -> dict[str, FindingTriage]:
    """The design's triage by fingerprint. Accepted risk and false positive are the design's
    suppressions: a suppression without a triage (made before triage existed, or by the
    suppress action) reads as accepted risk, and a waiving triage whose suppression was lifted
    reads as open. A few rows per design (people make them), read whole."""
    triages = {t.fingerprint: t for t in Triage.objects.filter(design_id=design_id).select_related("changed_by")}
    suppressions = {
        s.fingerprint: s for s in Suppression.objects.filter(design_id=design_id).select_related("created_by")
    }
    changes = dict(
        TriageChange.objects.filter(design_id=design_id)
        .values("fingerprint")
        .annotate(n=Count("pk"))
        .values_list("fingerprint", "n")
    )
    out: dict[str, FindingTriage] = {}
    for fingerprint in triages.keys() | suppressions.keys():
        t, s = triages.get(fingerprint), suppressions.get(fingerprint)
        n = changes.get(fingerprint, 0)
        if s is not None and (t is None or t.state not in WAIVING_STATES):
            out[fingerprint] = FindingTriage(
                fingerprint,
                TriageState.ACCEPTED_RISK,
                s.reason,
                s.created_by.username if s.created_by else None,
                s.created_at.isoformat(),
                None,
                n,
            )
        elif t is not None and s is None and t.state in WAIVING_STATES:
            out[fingerprint] = FindingTriage(fingerprint, TriageState.OPEN, "", None, None, None, n)
        elif t is not None:
            out[fingerprint] = FindingTriage(
                fingerprint,
                t.state,
                t.reason,
                t.changed_by.username if t.changed_by else None,
                t.changed_at.isoformat(),
                t.run_id,
                n,
            )
    return out


def last_triage_changes(*, design_id: int) -> dict[str, TriageChange]:
    """Each triaged finding's latest change, by fingerprint (one query for a whole page)."""
    changes = (
        TriageChange.objects.filter(design_id=design_id)
        .select_related("changed_by")
        .order_by("fingerprint", "-changed_at", "-pk")
        .distinct("fingerprint")
    )
    return {c.fingerprint: c for c in changes}


def triage_history(*, design_id: int, fingerprint: str) -> QuerySet[TriageChange]:
    """Who changed a finding's triage to what, and when, newest first."""
    return TriageChange.objects.filter(design_id=design_id, fingerprint=fingerprint).select_related("changed_by")


def report_review_get(*, run: AnalysisRun, guide: bool = True) -> dict[str, Any]:
    """The review of a run, as every export carries it (the `review` part of the JSON report):

    - `triage`: each finding of the design that has a triage or a suppression, by fingerprint
      (state open / accepted_risk / false_positive / fixed, reason, who, when, whether this run
      still reports it, and whether it was marked fixed on an earlier run yet is still present);
    - `suppressions`: the design's suppressions (what accepted risk and false positive are);
    - `checklist`: the reviewers' verdicts on this run's security checklist items;
    - `guide`: the guided review's steps, each person's answer, state and sign-off, and progress
      (left out with `guide=False`, for a page that does not show it: building it reads the
      report's sections and findings again).

    This is the one place the review is gathered: a later part of the review (guided
    checklists' progress, say) adds its own key here, documents it in
    apps/reports/schema/report.schema.json (`review`), and every export carries it."""
    design_id = run.revision.design_id
    present = set(run.findings.values_list("fingerprint", flat=True))
    triage = triage_map(design_id=design_id)
    suppressions = Suppression.objects.filter(design_id=design_id).select_related("created_by").order_by("pk")
    # Verdicts belong to the revision (a re-run of it keeps them).
    verdicts = (
        ChecklistReview.objects.filter(revision_id=run.revision_id)
        .select_related("reviewer")
        .order_by("key", "reviewer__username")
    )
    return {
        "triage": [
            t.as_dict(run_id=run.pk, present=t.fingerprint in present)
            for t in sorted(triage.values(), key=lambda t: t.fingerprint)
        ],
        "suppressions": [
            {
                "fingerprint": s.fingerprint,
                "rule_id": s.rule_id,
                "title": s.title,
                "reason": s.reason,
                "by": s.created_by.username if s.created_by else None,
                "at": s.created_at.isoformat(),
            }
            for s in suppressions
        ],
        "checklist": [
            {
                "key": v.key,
                "status": v.status,
                "note": v.note,
                "reviewer": v.reviewer.username,
                "at": v.updated_at.isoformat(),
            }
            for v in verdicts
        ],
        **({"guide": guide_export(run=run)} if guide else {}),
    }


def share_links_of(*, run: AnalysisRun) -> QuerySet[ShareLink]:
    return ShareLink.objects.filter(run=run).select_related("created_by").annotate(view_count=Count("views"))


def share_link_open(*, token: str) -> ShareLink:
    """The live link the token opens; otherwise Http404, the same for unknown, revoked and expired."""
    digest = token_hash(token) if 20 <= len(token) <= 100 else ""
    link = ShareLink.objects.select_related("run__revision__design").filter(token_hash=digest).first()
    if (
        link is None
        or not constant_time_compare(link.token_hash, digest)
        or link.revoked_at is not None
        or link.expires_at <= timezone.now()
    ):
        raise Http404
    return link


def share_link_for(*, user: AbstractBaseUser | AnonymousUser, link_id: int) -> ShareLink:
    """A link the user may manage (a member of its run's workspace), otherwise 404."""
    link = ShareLink.objects.select_related("run__revision__design__workspace").filter(
        pk=link_id, run__revision__design__workspace__memberships__user_id=getattr(user, "pk", None)
    )
    found = link.first()
    if found is None:
        raise Http404
    return found
