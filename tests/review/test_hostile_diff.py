"""A hostile member against the review: texts crafted to make the line diff slow, floods of threads."""

import time
from typing import Any

from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.designs.engine.loader import DesignInput
from apps.designs.services import revision_create
from apps.review.engine import diff_hunks, line_opcodes, map_lines
from apps.review.models import Comment, Thread
from apps.review.selectors import document_diffs
from tests.factories import make_design


def _repetitive(n: int, period: int) -> list[str]:
    # Two lines repeated: each is equal to half the other text's lines, the worst case for difflib.
    return ["x" if i % period else "y" for i in range(n)]


def test_a_diff_of_repetitive_texts_gives_up_within_its_budget() -> None:
    old, new = ["start", *_repetitive(2_000, 2)], ["begin", *_repetitive(2_000, 3)]
    started = time.monotonic()
    ops = line_opcodes(old, new, max_lines=20_000, max_pairs=200_000)
    hunks = diff_hunks(old, new, max_lines=20_000, max_pairs=200_000)
    mapped = map_lines(old, new, [2, 3], max_lines=20_000, max_pairs=200_000)
    assert time.monotonic() - started < 3  # was 40 s and more (cubic in the lines)
    # Past the budget the middle counts as replaced as a whole, as past max_lines.
    assert ops[0] == ("replace", 0, ops[0][2], 0, ops[0][4]) and ops[0][2] > 1_990 and ops[1:] in ([], [ops[-1]])
    assert sum(1 for hunk in hunks for line in hunk.lines if line.kind == "added") == ops[0][4]
    assert mapped == {2: None, 3: None}


def test_an_ordinary_edit_is_still_diffed_line_by_line_within_the_budget() -> None:
    old = [f"line {i}" if i % 4 else "" for i in range(400)]
    new = [*old[:100], "edited", *old[101:150], "inserted", *old[150:200], "edited too", *old[201:]]
    ops = line_opcodes(old, new, max_lines=20_000, max_pairs=200_000)
    assert [op for op in ops if op[0] != "equal"] == [
        ("replace", 100, 101, 100, 101),
        ("insert", 150, 150, 150, 151),
        ("replace", 200, 201, 201, 202),
    ]
    assert map_lines(old, new, [120, 170, 201], max_lines=20_000, max_pairs=200_000) == {120: 120, 170: 171, 201: None}


def test_the_compare_page_and_the_threads_take_the_budget_from_the_settings(
    owner: Any, workspace: Workspace, shop_v1: str, shop_v2: str, settings: Any
) -> None:
    design, v1 = make_design(workspace=workspace, user=owner, document=shop_v1)
    v2 = revision_create(design=design, user=owner, texts=DesignInput(document=shop_v2, document_name="v2-design.md"))
    assert len(document_diffs(a=v1, b=v2)[0].hunks) > 1
    settings.REVIEW_DIFF_MAX_PAIRS = 1
    assert len(document_diffs(a=v1, b=v2)[0].hunks) == 1  # the changed middle, replaced as a whole


def test_threads_per_revision_and_replies_per_thread_are_bounded_by_settings(
    client: Client, owner: Any, viewer: Any, workspace: Workspace, shop_v1: str, settings: Any
) -> None:
    design, v1 = make_design(workspace=workspace, user=owner, document=shop_v1)
    settings.REVIEW_THREADS_MAX_PER_REVISION = 2
    settings.REVIEW_COMMENTS_MAX_PER_THREAD = 2
    client.force_login(viewer)
    url = reverse("review:thread-create", args=[design.pk, v1.number, "v1-design.md"])
    assert client.post(url, {"line": "3", "body": "one"}).status_code == 302
    assert client.post(url, {"line": "4", "body": "two"}).status_code == 302
    refused = client.post(url, {"line": "5", "body": "three"})
    assert refused.status_code == 400 and b"REVIEW_THREADS_MAX_PER_REVISION" in refused.content
    assert Thread.objects.filter(revision=v1).count() == 2
    thread = Thread.objects.filter(revision=v1).first()
    assert thread is not None
    reply = reverse("review:thread-reply", args=[thread.pk])
    assert client.post(reply, {"body": "a reply"}).status_code == 302  # the second comment
    refused = client.post(reply, {"body": "another"})
    assert refused.status_code == 400 and b"REVIEW_COMMENTS_MAX_PER_THREAD" in refused.content
    assert Comment.objects.filter(thread=thread).count() == 2
