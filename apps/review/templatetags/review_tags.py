"""What the design pages show of a review, computed where they include it, so that the review
stays in its own app (the design pages only include its partials)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings

from apps.designs.models import Revision
from apps.review import selectors
from apps.review.models import VerdictChoice

register = template.Library()


@dataclass(frozen=True)
class SourceReview:
    threads: selectors.DocumentThreads
    by_line: dict[int, list[selectors.ShownThread]]  # threads on the lines shown
    off_window: list[selectors.ShownThread]  # on lines of the document the page does not show
    comment_line: int | None  # ?comment=N: the line the new-thread form is for
    comment_text: str
    comment_inline: bool  # the form sits under that line (it is shown) rather than at the top
    max_chars: int


@register.simple_tag(takes_context=True)
def review_source(
    context: dict[str, Any], revision: Revision, document: str, lines: list[tuple[int, str]]
) -> SourceReview:
    """The threads of one source page (`lines`: the (number, text) pairs it shows)."""
    threads = selectors.document_threads(revision=revision, document=document)
    shown = {number for number, _ in lines}
    request = context.get("request")
    raw = request.GET.get("comment", "") if request is not None else ""
    comment_line = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    texts = dict(lines)
    return SourceReview(
        threads=threads,
        by_line={n: ts for n, ts in threads.by_line.items() if n in shown},
        off_window=[t for n, ts in sorted(threads.by_line.items()) if n not in shown for t in ts],
        comment_line=comment_line,
        comment_text=texts.get(comment_line, "") if comment_line else "",
        comment_inline=comment_line in shown,
        max_chars=settings.REVIEW_COMMENT_MAX_CHARS,
    )


@register.filter
def threads_on(review: SourceReview, line: int) -> list[selectors.ShownThread]:
    return review.by_line.get(line, [])


@register.simple_tag(takes_context=True)
def review_revision(context: dict[str, Any], revision: Revision) -> dict[str, Any]:
    """The revision page's review part: open threads, verdicts (the viewer's own first in the
    form, to change it), what to compare with."""
    verdicts = selectors.verdict_list(revision=revision)
    user_id = getattr(context.get("user"), "pk", None)
    others = list(
        revision.design.revisions.exclude(pk=revision.pk).order_by("-number").values_list("number", flat=True)
    )
    earlier = [n for n in others if n < revision.number]
    return {
        "open": selectors.open_threads(revision=revision),
        "verdicts": verdicts,
        "mine": next((v for v in verdicts if v.reviewer_id == user_id), None),
        "choices": VerdictChoice.choices,
        "previous": earlier[0] if earlier else None,
        "others": others,
        "max_chars": settings.REVIEW_COMMENT_MAX_CHARS,
    }


@register.simple_tag
def review_verdict_summaries(revisions: Iterable[Revision]) -> dict[int, selectors.VerdictSummary]:
    return selectors.verdict_summaries(revisions=revisions)


@register.filter
def verdict_text(summaries: dict[int, selectors.VerdictSummary], revision_id: int) -> str:
    """ "2 approved, 1 changes requested", or "no verdict yet"."""
    summary = summaries.get(revision_id)
    if summary is None:
        return "no verdict yet"
    parts = []
    if summary.approved:
        parts.append(f"{summary.approved} approved")
    if summary.changes_requested:
        parts.append(f"{summary.changes_requested} changes requested")
    return ", ".join(parts)
