"""Writes of a review: threads on a line, replies, resolving, verdicts. Each checks its input
and writes in one transaction, so bad input leaves nothing half saved."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.designs.models import Revision
from apps.designs.services import revision_documents
from apps.review.models import Comment, Thread, ThreadStatus, Verdict, VerdictChoice
from workbench.validators import require_storable


def _clean_body(body: str, *, field: str = "body", label: str = "comment", required: bool = True) -> str:
    body = require_storable(body, field=field, label=label).strip()
    if required and not body:
        raise ValidationError({field: f"Write the {label} first: it is empty."})
    limit = settings.REVIEW_COMMENT_MAX_CHARS
    if len(body) > limit:
        raise ValidationError(
            {
                field: f"The {label} is {len(body):,} characters long; the limit is {limit:,} "
                "(REVIEW_COMMENT_MAX_CHARS). Shorten it and send it again."
            }
        )
    return body


@transaction.atomic
def thread_create(*, revision: Revision, user: AbstractBaseUser, document: str, line: str | int, body: str) -> Thread:
    """Open a thread on `line` (1-based) of the revision's document named `document`."""
    body = _clean_body(body)
    found = next(((f, text) for f, name, text in revision_documents(revision) if name == document), None)
    if found is None:
        raise ValidationError({"document": f"Revision {revision.number} has no document named {document[:200]!r}."})
    field, text = found
    # The revision's row is the lock: threads opened at once are counted one after the other.
    Revision.objects.select_for_update().filter(pk=revision.pk).values_list("pk", flat=True).first()
    if Thread.objects.filter(revision=revision).count() >= settings.REVIEW_THREADS_MAX_PER_REVISION:
        raise ValidationError(
            {
                "line": f"Revision {revision.number} has {settings.REVIEW_THREADS_MAX_PER_REVISION:,} threads "
                "already (REVIEW_THREADS_MAX_PER_REVISION); reply in one of them instead."
            }
        )
    lines = text.splitlines()
    raw = str(line).strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10 and 1 <= int(raw) <= len(lines)):
        raise ValidationError({"line": f"Give a line number from 1 to {len(lines)} of {document}."})
    number = int(raw)
    thread = Thread.objects.create(
        revision=revision,
        field=field,
        document_name=document,
        line=number,
        line_text=lines[number - 1],
        created_by=user,
    )
    Comment.objects.create(thread=thread, author=user, body=body)
    return thread


@transaction.atomic
def comment_add(*, thread: Thread, user: AbstractBaseUser, body: str) -> Comment:
    """A reply. Replying to a resolved thread is allowed; it stays resolved until reopened."""
    body = _clean_body(body, label="reply")
    # The thread's row is the lock: replies sent at once are counted one after the other.
    Thread.objects.select_for_update().filter(pk=thread.pk).values_list("pk", flat=True).first()
    if Comment.objects.filter(thread=thread).count() >= settings.REVIEW_COMMENTS_MAX_PER_THREAD:
        raise ValidationError(
            {
                "body": f"This thread has {settings.REVIEW_COMMENTS_MAX_PER_THREAD:,} comments already "
                "(REVIEW_COMMENTS_MAX_PER_THREAD); open a new thread on the line to go on."
            }
        )
    return Comment.objects.create(thread=thread, author=user, body=body)


@transaction.atomic
def thread_resolve(*, thread: Thread, user: AbstractBaseUser) -> Thread:
    Thread.objects.filter(pk=thread.pk).update(
        status=ThreadStatus.RESOLVED, resolved_by=user, resolved_at=timezone.now()
    )
    thread.refresh_from_db()
    return thread


@transaction.atomic
def thread_reopen(*, thread: Thread) -> Thread:
    Thread.objects.filter(pk=thread.pk).update(status=ThreadStatus.OPEN, resolved_by=None, resolved_at=None)
    thread.refresh_from_db()
    return thread


@transaction.atomic
def verdict_set(*, revision: Revision, reviewer: AbstractBaseUser, verdict: str, comment: str = "") -> Verdict:
    """The reviewer's verdict on the revision, replacing their earlier one. Who may give one
    (editors and owners) is the view's check."""
    if verdict not in VerdictChoice.values:
        raise ValidationError({"verdict": f"Choose a verdict: {' or '.join(VerdictChoice.values)}."})
    comment = _clean_body(comment, field="comment", label="verdict's comment", required=False)
    row, _ = Verdict.objects.update_or_create(
        revision=revision, reviewer=reviewer, defaults={"verdict": verdict, "comment": comment}
    )
    return row
