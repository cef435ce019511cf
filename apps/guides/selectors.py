"""Reads of a run's guided review: its steps, each person's state on them, and their progress.
Nothing here writes."""

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q
from django.urls import reverse

from apps.accounts.models import Membership, Role
from apps.analysis.models import AnalysisRun
from apps.analysis.selectors import with_first_places
from apps.endpoints.services import endpoints_section_unpack
from apps.guides.engine.steps import SECTION_TITLES, Step, build_steps, design_facts, team_steps
from apps.guides.models import StepState, StepStatus, TeamStep
from apps.security.models import ChecklistReview, ReviewStatus
from apps.security.services import report_checklist

# The findings the step builder reads: the categories and analyzers its steps are about (a large
# API's run holds tens of thousands of others it does not need).
_STEP_FINDINGS = (
    Q(category__startswith="API1:")
    | Q(category__startswith="API5:")
    | Q(category="DP")
    | Q(rule_id__endswith="unauthenticated-write")
    | Q(rule_id__endswith="secret-in-response")
    | Q(analyzer__in=("migrations", "queryplans", "traceability"))
)
_FINDING_FIELDS = ("pk", "fingerprint", "rule_id", "analyzer", "category", "severity", "title")
_FINDING_LISTS = ("endpoints", "stories", "suppressed", "first_locations")


def guide_steps(*, run: AnalysisRun) -> list[Step]:
    """The run's steps (guided review, security checklist, team steps), each evidence link
    resolved to a URL (`href`). Empty until the run has a report."""
    report = dict(run.report or {})
    if not report:
        return []
    if isinstance(report.get("endpoints"), dict):
        report["endpoints"] = endpoints_section_unpack(report["endpoints"])
    rows = list(with_first_places(run.findings.filter(_STEP_FINDINGS), 1).values(*_FINDING_FIELDS, *_FINDING_LISTS))
    findings = [{**row, "locations": row.pop("first_locations") or []} for row in rows]
    checklist = None
    if "security" in report:
        open_counts: Counter[tuple[str, str]] = Counter()
        groups = (
            run.findings.filter(analyzer="security")
            .order_by()
            .values_list("category", "severity")
            .annotate(open=Count("pk", filter=Q(suppressed__isnull=True)))
        )
        for category, severity, count in groups:
            open_counts[(category, severity)] += count
        checklist = report_checklist(report=report, open_counts=open_counts)
    steps = build_steps(report=report, findings=findings, checklist=checklist, limit=settings.GUIDE_STEP_MAX_ITEMS)
    templates = TeamStep.objects.filter(workspace_id=run.revision.design.workspace_id).values(
        "id", "title", "why", "how", "good", "condition"
    )
    steps += team_steps(templates=list(templates), facts=design_facts(report))
    pks = {row["fingerprint"]: row["pk"] for row in rows}
    run_url = reverse("analysis:run", args=[run.pk])
    tabs = {
        "migrations": reverse("migrations_preview:tab", args=[run.pk]),
        "queryplans": reverse("queryplans:tab", args=[run.pk]),
        "endpoints": reverse("endpoints:tab", args=[run.pk]),
    }
    revision = run.revision
    for step in steps:
        for evidence in step["evidence"]:
            kind = evidence["kind"]
            if kind == "finding":
                pk = pks.get(evidence["fingerprint"])
                # Filtered by its rule, so that the finding is on the first page the link opens.
                query = urlencode({"rule": evidence.get("rule_id", "")})
                evidence["href"] = f"{run_url}?{query}#finding-{pk}" if pk else run_url
            elif kind == "source":
                url = reverse("designs:source", args=[revision.design_id, revision.number, evidence["document"]])
                line = evidence.get("line")
                evidence["href"] = f"{url}?line={line}#L{line}" if line else url
            elif kind == "tab":
                evidence["href"] = tabs[evidence["tab"]]
            elif kind == "findings":
                evidence["href"] = f"{run_url}?category={evidence['category']}#findings"
            else:
                evidence["href"] = evidence["url"]
    return steps


def _numbered(keys: list[str], sections: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The sections in order, each with the number its first step takes: the steps are numbered
    through the whole guide ("work through the steps in order"), not again from 1 in each section."""
    numbered, start = [], 1
    for key in keys:
        numbered.append({"key": key, "title": SECTION_TITLES[key], "steps": sections[key], "start": start})
        start += len(sections[key])
    return numbered


def _step_states(*, run: AnalysisRun, steps: list[Step]) -> tuple[list[StepState], dict[str, list[StepState]]]:
    """Everyone's state on the steps of the run's revision, and the same by step key, each
    step's in the order of their people's names."""
    states = list(
        StepState.objects.filter(revision_id=run.revision_id, key__in=[s["key"] for s in steps])
        .select_related("person", "reviewed_by", "changed_by")
        .order_by("key", "person__username")
    )
    by_step: dict[str, list[StepState]] = {}
    for state in states:
        by_step.setdefault(state.key, []).append(state)
    return states, by_step


def guide_get(
    *,
    run: AnalysisRun,
    user: AbstractBaseUser | AnonymousUser,
    membership: Membership,
    steps: list[Step] | None = None,
) -> dict[str, Any]:
    """What the guide page shows: the steps by section, on each the user's own state and the
    others' answers, the verdicts the run page's checklist holds, and everyone's progress.
    `steps`: the run's `guide_steps`, when the caller has them already."""
    steps = guide_steps(run=run) if steps is None else steps
    states, by_step = _step_states(run=run, steps=steps)
    verdicts: dict[str, list[ChecklistReview]] = {}
    for review in ChecklistReview.objects.filter(revision_id=run.revision_id).select_related("reviewer"):
        verdicts.setdefault(f"owasp-{review.key.lower()}", []).append(review)
    labels = dict(ReviewStatus.choices)
    sections: dict[str, list[dict[str, Any]]] = {}
    for step in steps:
        mine = next((s for s in by_step.get(step["key"], []) if s.person_id == user.pk), None)
        others = [s for s in by_step.get(step["key"], []) if s.person_id != user.pk and (s.answer or s.comment)]
        sections.setdefault(step["section"], []).append(
            {
                **step,
                "mine": mine,
                "version": mine.version if mine else 0,
                "others": others,
                "verdicts": verdicts.get(step["key"], []),
                # The user's own verdict on a checklist item: what their verdict form shows selected.
                "my_verdict": next(
                    (v.status for v in verdicts.get(step["key"], []) if v.reviewer_id == user.pk), step["status"]
                ),
                "status_label": labels.get(step["status"], ""),
            }
        )
    members = Membership.objects.filter(workspace_id=run.revision.design.workspace_id).select_related("user")
    return {
        "run": run,
        "revision": run.revision,
        "design": run.revision.design,
        "workspace": run.revision.design.workspace,
        "sections": _numbered([key for key in SECTION_TITLES if key in sections], sections),
        "step_count": len(steps),
        "people": guide_progress(steps=steps, states=states, members=list(members)),
        "can_review": membership.can(Role.EDITOR),
        "review_statuses": ReviewStatus.choices,
        "answer_max": settings.GUIDE_ANSWER_MAX_CHARS,
        "comment_max": settings.GUIDE_COMMENT_MAX_CHARS,
    }


def guide_progress(*, steps: list[Step], states: list[StepState], members: list[Membership]) -> list[dict[str, Any]]:
    """Each member's progress on the steps that exist now: done (awaiting sign-off or signed off)
    and signed off, out of all steps."""
    keys = {s["key"] for s in steps}
    done: Counter[int] = Counter()
    signed: Counter[int] = Counter()
    for state in states:
        if state.key not in keys:
            continue
        if state.status in (StepStatus.DONE, StepStatus.SIGNED_OFF):
            done[state.person_id] += 1
        if state.status == StepStatus.SIGNED_OFF:
            signed[state.person_id] += 1
    return sorted(
        (
            {
                "username": m.user.username,
                "role": m.role,
                "done": done[m.user_id],
                "signed_off": signed[m.user_id],
                "total": len(keys),
            }
            for m in members
        ),
        key=lambda p: (-p["done"], p["username"]),
    )


def guide_export(*, run: AnalysisRun) -> dict[str, Any]:
    """The guide as plain data for the exports: each step (key, section, title) with every
    person's state, answer and sign-off, and each person's progress."""
    steps = guide_steps(run=run)
    states, by_step = _step_states(run=run, steps=steps)
    members = list(Membership.objects.filter(workspace_id=run.revision.design.workspace_id).select_related("user"))
    return {
        "steps": [
            {
                "key": step["key"],
                "section": SECTION_TITLES[step["section"]],
                "title": step["title"],
                "states": [
                    {
                        "person": s.person.username,
                        "status": s.status,
                        "answer": s.answer,
                        "answered_at": s.answered_at.isoformat() if s.answered_at else None,
                        "reviewed_by": s.reviewed_by.username if s.reviewed_by else None,
                        "reviewed_at": s.reviewed_at.isoformat() if s.reviewed_at else None,
                        "comment": s.comment,
                    }
                    for s in by_step.get(step["key"], [])
                ],
            }
            for step in steps
        ],
        "progress": guide_progress(steps=steps, states=states, members=members),
    }
