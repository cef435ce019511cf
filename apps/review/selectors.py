"""Reads of a review, always through the requester's workspace membership (the design or the
thread is simply not found for someone outside it). Nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import Membership
from apps.analysis.models import AnalysisRun, Finding, RunStatus
from apps.designs.models import Design, Revision
from apps.designs.services import TEXT_FIELDS, revision_documents
from apps.review.engine import Hunk, diff_hunks, map_lines
from apps.review.models import Comment, Thread, ThreadStatus, Verdict, VerdictChoice


def thread_get(*, user: AbstractBaseUser | AnonymousUser, thread_id: int) -> tuple[Thread, Membership]:
    """The thread if the user is a member of its design's workspace; otherwise 404."""
    thread = get_object_or_404(
        Thread.objects.select_related("revision__design__workspace"),
        pk=thread_id,
        revision__design__workspace__memberships__user_id=getattr(user, "pk", None),
    )
    membership = Membership.objects.get(workspace=thread.revision.design.workspace, user=user)
    return thread, membership


@dataclass
class ShownThread:
    """A thread as one revision's document shows it: at `line` of this text, or outdated (its
    line was edited or deleted since the revision it was opened on)."""

    thread: Thread
    comments: list[Comment]
    line: int | None
    carried: bool  # opened on an earlier revision

    @property
    def outdated(self) -> bool:
        return self.line is None


@dataclass
class DocumentThreads:
    by_line: dict[int, list[ShownThread]] = field(default_factory=dict)
    outdated: list[ShownThread] = field(default_factory=list)

    @property
    def all(self) -> list[ShownThread]:
        return [t for line in sorted(self.by_line) for t in self.by_line[line]] + self.outdated

    @property
    def open_count(self) -> int:
        return sum(1 for t in self.all if t.thread.is_open)


def _threads(queryset: QuerySet[Thread]) -> list[Thread]:
    return list(queryset.select_related("created_by", "resolved_by", "revision").prefetch_related("comments__author"))


def document_threads(*, revision: Revision, document: str) -> DocumentThreads:
    """The threads shown on one document of a revision: its own (open or resolved) at their
    lines, and the open threads of earlier revisions of the design on the same text (by field,
    since the document's name may change), each at the line it went to when that line is
    unchanged, otherwise among the outdated."""
    docs = {name: (f, text) for f, name, text in revision_documents(revision)}
    shown = DocumentThreads()
    if document not in docs:
        return shown
    text_field, text = docs[document]
    lines = text.splitlines()

    def place(thread: Thread, line: int | None, *, carried: bool) -> None:
        item = ShownThread(thread=thread, comments=list(thread.comments.all()), line=line, carried=carried)
        if line is None:
            shown.outdated.append(item)
        else:
            shown.by_line.setdefault(line, []).append(item)

    for thread in _threads(Thread.objects.filter(revision=revision, field=text_field)):
        place(thread, thread.line, carried=False)
    earlier = _threads(
        Thread.objects.filter(
            revision__design_id=revision.design_id,
            revision__number__lt=revision.number,
            field=text_field,
            status=ThreadStatus.OPEN,
        ).order_by("revision__number", "line", "created_at")
    )
    by_anchor: dict[int, list[Thread]] = defaultdict(list)
    for thread in earlier:
        by_anchor[thread.revision_id].append(thread)
    anchors = Revision.objects.only(text_field).in_bulk(list(by_anchor))
    for anchor_id, threads in by_anchor.items():
        old = getattr(anchors[anchor_id], text_field).splitlines()
        mapped = map_lines(
            old,
            lines,
            [t.line for t in threads],
            max_lines=settings.REVIEW_DIFF_MAX_LINES,
            max_pairs=settings.REVIEW_DIFF_MAX_PAIRS,
        )
        for thread in threads:
            line = mapped.get(thread.line)
            if line is not None and lines[line - 1] != thread.line_text:
                line = None  # the anchor's text is what was commented on; never show it elsewhere
            place(thread, line, carried=True)
    return shown


@dataclass(frozen=True)
class OpenThreads:
    count: int
    by_document: list[tuple[str, int]]  # (document name in this revision, open threads on it)
    elsewhere: int  # on a text this revision no longer has


def open_threads(*, revision: Revision) -> OpenThreads:
    """The open threads a revision's documents show: its own and those carried from earlier
    revisions (following their line or outdated)."""
    counts = dict(
        Thread.objects.filter(
            revision__design_id=revision.design_id,
            revision__number__lte=revision.number,
            status=ThreadStatus.OPEN,
        )
        .values_list("field")
        .annotate(n=Count("pk"))
        .order_by()
    )
    names = {f: name for f, name, _ in revision_documents(revision)}
    return OpenThreads(
        count=sum(counts.values()),
        by_document=[(names[f], counts[f]) for f in TEXT_FIELDS if f in names and counts.get(f)],
        elsewhere=sum(n for f, n in counts.items() if f not in names),
    )


def verdict_list(*, revision: Revision) -> list[Verdict]:
    return list(revision.review_verdicts.select_related("reviewer").order_by("reviewer__username"))


@dataclass(frozen=True)
class VerdictSummary:
    approved: int = 0
    changes_requested: int = 0


def verdict_summaries(*, revisions: Iterable[Revision]) -> dict[int, VerdictSummary]:
    """Per revision id, how many reviewers approved it and how many asked for changes."""
    rows = (
        Verdict.objects.filter(revision__in=[r.pk for r in revisions])
        .values("revision_id")
        .annotate(
            approved=Count("pk", filter=Q(verdict=VerdictChoice.APPROVE)),
            changes=Count("pk", filter=Q(verdict=VerdictChoice.REQUEST_CHANGES)),
        )
        .order_by()
    )
    return {row["revision_id"]: VerdictSummary(row["approved"], row["changes"]) for row in rows}


def latest_succeeded_run(
    *, revision: Revision, base: Revision | None = None, with_report: bool = False
) -> AnalysisRun | None:
    """The revision's newest succeeded run (with `base`: of those previewing the change from it)."""
    runs = AnalysisRun.objects.filter(revision=revision, status=RunStatus.SUCCEEDED).select_related("base_revision")
    if not with_report:
        runs = runs.defer("report")
    if base is not None:
        runs = runs.filter(base_revision=base)
    return runs.order_by("-created_at", "-pk").first()


@dataclass(frozen=True)
class DocumentDiff:
    name: str  # the document's name in b (or in a when b no longer has it)
    old_name: str | None
    new_name: str | None
    hunks: list[Hunk]
    added: int
    removed: int


def document_diffs(*, a: Revision, b: Revision) -> list[DocumentDiff]:
    """The diff of each text of the two revisions (matched by field, so a renamed document is
    compared with its earlier self)."""
    old = {f: (name, text) for f, name, text in revision_documents(a)}
    new = {f: (name, text) for f, name, text in revision_documents(b)}
    diffs = []
    for f in TEXT_FIELDS:
        if f not in old and f not in new:
            continue
        old_name, old_text = old.get(f, (None, ""))
        new_name, new_text = new.get(f, (None, ""))
        hunks = diff_hunks(
            old_text.splitlines(),
            new_text.splitlines(),
            max_lines=settings.REVIEW_DIFF_MAX_LINES,
            max_pairs=settings.REVIEW_DIFF_MAX_PAIRS,
        )
        rows = [line for hunk in hunks for line in hunk.lines]
        diffs.append(
            DocumentDiff(
                name=new_name or old_name or f,
                old_name=old_name,
                new_name=new_name,
                hunks=hunks,
                added=sum(1 for line in rows if line.kind == "added"),
                removed=sum(1 for line in rows if line.kind == "removed"),
            )
        )
    return diffs


@dataclass(frozen=True)
class FindingList:
    findings: list[Finding]
    count: int

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.findings))


def finding_changes(*, old_run: AnalysisRun, new_run: AnalysisRun) -> dict[str, FindingList]:
    """The findings new in `new_run`, fixed since `old_run` (in it, not in the new one) and
    unchanged (in both), matched by fingerprint; each list cut at REVIEW_COMPARE_MAX_FINDINGS,
    in the report's order, with its whole count."""
    old_prints = Finding.objects.filter(run=old_run).values("fingerprint")
    new_prints = Finding.objects.filter(run=new_run).values("fingerprint")
    limit = settings.REVIEW_COMPARE_MAX_FINDINGS
    lists = {
        "new": Finding.objects.filter(run=new_run).exclude(fingerprint__in=old_prints),
        "fixed": Finding.objects.filter(run=old_run).exclude(fingerprint__in=new_prints),
        "unchanged": Finding.objects.filter(run=new_run, fingerprint__in=old_prints),
    }
    return {
        key: FindingList(findings=list(rows.defer("locations").order_by("id")[:limit]), count=rows.count())
        for key, rows in lists.items()
    }


def compare_get(*, design: Design, a: Revision, b: Revision) -> dict[str, Any]:
    """What the compare page shows for revisions a (before) and b (after) of a design."""
    old_run = latest_succeeded_run(revision=a)
    new_run = latest_succeeded_run(revision=b)
    migration_run = latest_succeeded_run(revision=b, base=a, with_report=True)
    context: dict[str, Any] = {
        "design": design,
        "workspace": design.workspace,
        "a": a,
        "b": b,
        "diffs": document_diffs(a=a, b=b),
        "old_run": old_run,
        "new_run": new_run,
        "changes": finding_changes(old_run=old_run, new_run=new_run) if old_run and new_run else None,
        "analyzers_differ": bool(old_run and new_run and sorted(old_run.only) != sorted(new_run.only)),
        "migration_run": migration_run,
        "migration": (migration_run.report or {}).get("migrations") if migration_run else None,
        "revisions": design.revisions.order_by("-number").only("pk", "number", "design_id"),
    }
    context["threads"] = [
        (name, shown)
        for _, name, _ in revision_documents(b)
        for shown in document_threads(revision=b, document=name).all
        if shown.carried and shown.thread.revision.number <= a.number
    ]
    migration = context["migration"]
    if migration:
        estimates = [
            s["estimate_seconds"] for s in migration.get("statements", []) if s.get("estimate_seconds") is not None
        ]
        context["migration_seconds"] = sum(estimates) if estimates else None
        context["migration_risky"] = [
            s for s in migration.get("statements", []) if s.get("risk") == "high" or s.get("breaking")
        ]
    return context
