"""Line threads, verdicts and the compare page through the test client, on the shop design."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Role, Workspace
from apps.accounts.services import membership_set
from apps.analysis import services as analysis_services
from apps.analysis.models import AnalysisRun, Finding
from apps.designs.engine.loader import DesignInput
from apps.designs.models import Design, Revision
from apps.designs.services import revision_create
from apps.review.models import Comment, Thread, ThreadStatus, Verdict
from tests.conftest import make_user
from tests.factories import make_design, make_finished_run

DOC = "v1-design.md"


def _source(design: Design, number: int, document: str = DOC) -> str:
    return reverse("designs:source", args=[design.pk, number, document])


def _thread(client: Client, design: Design, line: int, body: str, number: int = 1, document: str = DOC) -> Any:
    return client.post(
        reverse("review:thread-create", args=[design.pk, number, document]), {"line": str(line), "body": body}
    )


def _v2(design: Design, owner: AbstractBaseUser, shop_v2: str) -> Revision:
    return revision_create(design=design, user=owner, texts=DesignInput(document=shop_v2, document_name="v2-design.md"))


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line == needle)


def _thread_html(page: str, pk: int) -> str:
    start = page.index(f'id="thread-{pk}"')
    return page[start : page.index("</article>", start)]


@pytest.fixture
def shop(owner: AbstractBaseUser, workspace: Workspace, shop_v1: str) -> tuple[Design, Revision]:
    return make_design(workspace=workspace, user=owner, document=shop_v1)


@pytest.fixture
def editor(workspace: Workspace, owner: AbstractBaseUser) -> AbstractBaseUser:
    user = make_user("edith")
    membership_set(workspace=workspace, actor=owner, username="edith", role=Role.EDITOR)
    return user


def test_a_viewer_opens_a_thread_on_a_line_and_sees_it_under_that_line(
    client: Client, viewer: AbstractBaseUser, shop: tuple[Design, Revision]
) -> None:
    design, revision = shop
    client.force_login(viewer)
    response = _thread(client, design, 5, "Why is this here?")
    thread = Thread.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_source(design, 1)}#thread-{thread.pk}"
    assert (thread.line, thread.field, thread.line_text) == (5, "document", revision.document.splitlines()[4])
    assert list(thread.comments.values_list("body", "author__username")) == [("Why is this here?", "victor")]
    page = client.get(_source(design, 1)).content.decode()
    assert page.index('id="L5"') < page.index(f'id="thread-{thread.pk}"') < page.index('id="L6"')
    assert "Why is this here?" in _thread_html(page, thread.pk)
    assert 'class="secondary resolve-thread"' in _thread_html(page, thread.pk)


def test_the_source_page_offers_the_new_thread_form_for_the_chosen_line(
    client: Client, viewer: AbstractBaseUser, shop: tuple[Design, Revision]
) -> None:
    design, _ = shop
    client.force_login(viewer)
    page = client.get(_source(design, 1), {"comment": "7", "line": "7"}).content.decode()
    form = page[page.index('id="new-thread"') : page.index("</form>", page.index('id="new-thread"'))]
    assert 'name="line" min="1"' in form and 'value="7"' in form
    assert 'name="body"' in form and 'id="post-thread"' in form
    assert page.index('id="L7"') < page.index('id="new-thread"') < page.index('id="L8"')
    assert 'href="?line=9&amp;comment=9#new-thread"' in page
    assert "{#" not in page and "Included by designs/source.html" not in page  # no template comment shown


def test_a_thread_is_replied_to_resolved_and_reopened(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, shop: tuple[Design, Revision]
) -> None:
    design, _ = shop
    client.force_login(viewer)
    _thread(client, design, 3, "Who owns this?")
    thread = Thread.objects.get()
    client.force_login(owner)
    reply = client.post(reverse("review:thread-reply", args=[thread.pk]), {"body": "The commerce team.", "at": "1"})
    assert reply.status_code == 302
    assert list(thread.comments.values_list("author__username", flat=True)) == ["victor", "olivia"]
    client.post(reverse("review:thread-resolve", args=[thread.pk]), {"at": "1"})
    thread.refresh_from_db()
    assert (thread.status, thread.resolved_by) == (ThreadStatus.RESOLVED, owner)
    html = _thread_html(client.get(_source(design, 1)).content.decode(), thread.pk)
    assert "resolved" in html and "reopen-thread" in html and "The commerce team." in html
    client.post(reverse("review:thread-reopen", args=[thread.pk]), {"at": "1"})
    thread.refresh_from_db()
    assert (thread.status, thread.resolved_by, thread.resolved_at) == (ThreadStatus.OPEN, None, None)


def test_hostile_text_is_shown_escaped(client: Client, viewer: AbstractBaseUser, shop: tuple[Design, Revision]) -> None:
    design, _ = shop
    client.force_login(viewer)
    _thread(client, design, 2, '<script>alert("x")</script><img src=x onerror=alert(1)>')
    thread = Thread.objects.get()
    client.post(reverse("review:thread-reply", args=[thread.pk]), {"body": "</article><b>bold</b>"})
    page = client.get(_source(design, 1)).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;/article&gt;&lt;b&gt;bold&lt;/b&gt;" in page


def test_an_over_long_comment_is_refused_naming_the_limit(
    client: Client, viewer: AbstractBaseUser, shop: tuple[Design, Revision], settings: Any
) -> None:
    settings.REVIEW_COMMENT_MAX_CHARS = 100
    design, _ = shop
    client.force_login(viewer)
    response = _thread(client, design, 2, "x" * 101)
    assert response.status_code == 400
    assert "101 characters" in response.content.decode() and "limit is 100" in response.content.decode()
    assert "REVIEW_COMMENT_MAX_CHARS" in response.content.decode()
    assert not Thread.objects.exists() and not Comment.objects.exists()


@pytest.mark.parametrize(
    ("line", "body"),
    [("0", "ok"), ("100000", "ok"), ("9" * 5000, "ok"), ("two", "ok"), ("٣", "ok"), ("2", "   "), ("2", "a\x00b")],
)
def test_a_bad_line_or_body_is_a_400_and_saves_nothing(
    client: Client, viewer: AbstractBaseUser, shop: tuple[Design, Revision], line: str, body: str
) -> None:
    design, _ = shop
    client.force_login(viewer)
    response = client.post(reverse("review:thread-create", args=[design.pk, 1, DOC]), {"line": line, "body": body})
    assert response.status_code == 400
    assert response.content.decode()
    assert not Thread.objects.exists()


def test_a_non_member_finds_nothing_and_changes_nothing(
    client: Client, owner: AbstractBaseUser, outsider: AbstractBaseUser, shop: tuple[Design, Revision]
) -> None:
    design, _ = shop
    client.force_login(owner)
    _thread(client, design, 4, "Mine")
    thread = Thread.objects.get()
    client.force_login(outsider)
    assert _thread(client, design, 4, "Intruding").status_code == 404
    for name in ("review:thread-reply", "review:thread-resolve", "review:thread-reopen"):
        assert client.post(reverse(name, args=[thread.pk]), {"body": "x"}).status_code == 404
    verdict = client.post(reverse("review:verdict", args=[design.pk, 1]), {"verdict": "approve"})
    assert verdict.status_code == 404
    assert client.get(reverse("review:compare", args=[design.pk, 1, 1])).status_code == 404
    assert client.get(_source(design, 1)).status_code == 404
    assert Thread.objects.count() == 1 and Comment.objects.count() == 1 and not Verdict.objects.exists()
    assert Thread.objects.get().status == ThreadStatus.OPEN


def test_a_viewer_cannot_give_a_verdict(
    client: Client, viewer: AbstractBaseUser, shop: tuple[Design, Revision]
) -> None:
    design, _ = shop
    client.force_login(viewer)
    response = client.post(reverse("review:verdict", args=[design.pk, 1]), {"verdict": "approve"})
    assert response.status_code == 403
    assert "Viewers cannot give a verdict" in response.content.decode()
    assert not Verdict.objects.exists()
    page = client.get(reverse("designs:revision", args=[design.pk, 1])).content.decode()
    assert 'id="verdict-form"' not in page


def test_verdicts_show_on_the_revision_and_design_pages_one_per_reviewer(
    client: Client, owner: AbstractBaseUser, editor: AbstractBaseUser, shop: tuple[Design, Revision]
) -> None:
    design, revision = shop
    url = reverse("review:verdict", args=[design.pk, 1])
    client.force_login(owner)
    assert client.post(url, {"verdict": "approve"}).status_code == 302
    client.force_login(editor)
    client.post(url, {"verdict": "approve"})
    client.post(url, {"verdict": "request_changes", "comment": "Index <orders.status>, please."})
    assert Verdict.objects.filter(revision=revision).count() == 2
    assert Verdict.objects.get(reviewer=editor).verdict == "request_changes"
    detail = client.get(reverse("designs:detail", args=[design.pk])).content.decode()
    assert re.search(r'id="review-summary-1">1 approved, 1 changes requested<', detail)
    page = client.get(reverse("designs:revision", args=[design.pk, 1])).content.decode()
    assert 'id="verdict-form"' in page and 'name="verdict" value="request_changes"' in page
    assert 'id="give-verdict"' in page and 'name="comment"' in page
    assert "Index &lt;orders.status&gt;, please." in page
    assert "Changes requested" in page and "Approved" in page
    form = page[page.index('id="verdict-form"') : page.index("</form>", page.index('id="verdict-form"'))]
    assert 'value="request_changes" checked' in form and 'value="approve" checked' not in form  # the editor's own
    assert "Index &lt;orders.status&gt;, please.</textarea>" in form


def test_an_unknown_verdict_is_a_400(client: Client, owner: AbstractBaseUser, shop: tuple[Design, Revision]) -> None:
    design, _ = shop
    client.force_login(owner)
    response = client.post(reverse("review:verdict", args=[design.pk, 1]), {"verdict": "lgtm"})
    assert response.status_code == 400
    assert "approve or request_changes" in response.content.decode()
    assert not Verdict.objects.exists()


def test_open_threads_follow_unchanged_lines_to_the_next_revision_and_edited_ones_are_outdated(
    client: Client, owner: AbstractBaseUser, shop: tuple[Design, Revision], shop_v1: str, shop_v2: str
) -> None:
    design, _ = shop
    client.force_login(owner)
    kept = _line_of(shop_v1, "## API")  # 11 story lines are inserted above it in v2
    edited = _line_of(shop_v1, "Owner: Commerce team. Status: in review.")
    _thread(client, design, kept, "Follows")
    _thread(client, design, edited, "Goes outdated")
    _thread(client, design, 2, "Resolved stays behind")
    follows, outdated, resolved = Thread.objects.order_by("pk")
    client.post(reverse("review:thread-resolve", args=[resolved.pk]))
    _v2(design, owner, shop_v2)
    page = client.get(_source(design, 2, "v2-design.md")).content.decode()
    moved = _line_of(shop_v2, "## API")
    assert moved == kept + 11
    assert page.index(f'id="L{moved}"') < page.index(f'id="thread-{follows.pk}"') < page.index(f'id="L{moved + 1}"')
    assert (
        'class="thread"'
        in page[page.index(f'id="thread-{follows.pk}"') - 40 : page.index(f'id="thread-{follows.pk}"') + 40]
    )
    stale = _thread_html(page, outdated.pk)
    assert page.index(f'id="thread-{outdated.pk}"') < page.index('id="L1"')
    assert re.search(rf'id="thread-{outdated.pk}" class="thread outdated"', page)
    assert "Owner: Commerce team. Status: in review." in stale and "Goes outdated" in stale
    assert f'id="thread-{resolved.pk}"' not in page
    revision_page = client.get(reverse("designs:revision", args=[design.pk, 2])).content.decode()
    assert re.search(r'id="open-thread-count">2<', revision_page)
    first_page = client.get(reverse("designs:revision", args=[design.pk, 1])).content.decode()
    assert re.search(r'id="open-thread-count">2<', first_page)
    assert 'id="compare-link" href="{}"'.format(reverse("review:compare", args=[design.pk, 1, 2])) in revision_page


def test_the_compare_page_says_when_a_revision_has_no_succeeded_run(
    client: Client, owner: AbstractBaseUser, viewer: AbstractBaseUser, shop: tuple[Design, Revision], shop_v2: str
) -> None:
    design, _ = shop
    _v2(design, owner, shop_v2)
    client.force_login(owner)
    page = client.get(reverse("review:compare", args=[design.pk, 1, 2])).content.decode()
    assert "r1 has no succeeded analysis run." in page and "r2 has no succeeded analysis run." in page
    assert 'id="start-migration-run"' in page
    assert f'action="{reverse("analysis:start", args=[design.pk, 2])}"' in page
    assert '<input type="hidden" name="base" value="1">' in page
    assert 'id="document-diff"' in page
    client.force_login(viewer)
    assert (
        'id="start-migration-run"' not in client.get(reverse("review:compare", args=[design.pk, 1, 2])).content.decode()
    )


def test_the_compare_pick_form_goes_to_the_compare_page(
    client: Client, owner: AbstractBaseUser, shop: tuple[Design, Revision]
) -> None:
    design, _ = shop
    client.force_login(owner)
    response = client.get(reverse("review:compare-pick", args=[design.pk]), {"a": "1", "b": "1"})
    assert response["Location"] == reverse("review:compare", args=[design.pk, 1, 1])
    assert client.get(reverse("review:compare-pick", args=[design.pk]), {"a": "x"}).status_code == 400
    assert client.get(reverse("review:compare", args=[design.pk, 1, 9])).status_code == 404


def test_the_compare_page_shows_the_document_diff_new_and_fixed_findings_and_the_migration(
    client: Client, owner: AbstractBaseUser, shop: tuple[Design, Revision], shop_v2: str
) -> None:
    design, v1 = shop
    v2 = _v2(design, owner, shop_v2)
    old_run = make_finished_run(revision=v1, user=owner)
    new_run = analysis_services.run_start(revision=v2, user=owner, base_revision=v1)
    analysis_services.run_execute(run_id=new_run.pk)
    new_run.refresh_from_db()
    assert (old_run.status, new_run.status) == ("succeeded", "succeeded")
    old_prints = set(Finding.objects.filter(run=old_run).values_list("fingerprint", flat=True))
    new_prints = set(Finding.objects.filter(run=new_run).values_list("fingerprint", flat=True))
    assert new_prints - old_prints and old_prints - new_prints  # the shop's v2 both adds and fixes
    client.force_login(owner)
    page = client.get(reverse("review:compare", args=[design.pk, 1, 2])).content.decode()

    def items(list_id: str) -> int:
        start = page.index(f'id="{list_id}"')
        return page[start : page.index("</ul>", start)].count('class="finding ')

    new_count = Finding.objects.filter(run=new_run).exclude(fingerprint__in=old_prints).count()
    fixed_count = Finding.objects.filter(run=old_run).exclude(fingerprint__in=new_prints).count()
    assert items("findings-new") == min(new_count, 100) > 0
    assert items("findings-fixed") == min(fixed_count, 100) > 0
    assert items("findings-unchanged") > 0
    diff = page[page.index('id="document-diff"') : page.index('id="findings"')]
    assert "v1-design.md → v2-design.md" in diff
    assert re.search(r'<tr class="added">.*?### SHP-1: Customer tracks a shipment</pre>', diff)
    assert re.search(r'<tr class="removed">.*?card_number: \{type: string\}</pre>', diff)
    assert "p95 &lt; 150 ms" in diff  # escaped like everything else
    migration = page[page.index('id="compare-migration"') :]
    assert 'id="start-migration-run"' not in migration
    # The migrations analyzer needs the sandbox, which test cases do not have (conftest): the page
    # says it did not run; with the section the analyzer writes, it summarises it and links to it.
    assert "migrations" not in (new_run.report or {})
    assert "the migrations analyzer did not run" in migration
    section = {
        "name": "0002_shipments",
        "rollback_proven": {"proven": True, "reason": "forward, rollback, forward"},
        "statements": [
            {
                "sql": "ALTER TABLE orders DROP COLUMN card_number",
                "risk": "high",
                "breaking": "reads of card_number",
                "lock_level": "ACCESS EXCLUSIVE",
                "estimate_seconds": 0.5,
            },
            {
                "sql": "CREATE TABLE shipments (id bigint)",
                "risk": "low",
                "breaking": "",
                "lock_level": "",
                "estimate_seconds": 1.0,
            },
        ],
    }
    AnalysisRun.objects.filter(pk=new_run.pk).update(report={**new_run.report, "migrations": section})
    page = client.get(reverse("review:compare", args=[design.pk, 1, 2])).content.decode()
    migration = page[page.index('id="compare-migration"') :]
    assert f'href="{reverse("migrations_preview:tab", args=[new_run.pk])}"' in migration
    assert "0002_shipments" in migration and "2 statements" in migration and "≈ 1.5 s" in migration
    assert "ALTER TABLE orders DROP COLUMN card_number" in migration
    assert "CREATE TABLE shipments" not in migration  # only the risky statements are listed
    assert "High-risk or breaking statements (1 of 2):" in migration  # and the list says so
    assert 'id="rollback-reason"' not in migration
    lost = "the schema is restored, but the data of orders.card_number is lost"
    section["rollback_proven"] = {"proven": False, "reason": lost}
    AnalysisRun.objects.filter(pk=new_run.pk).update(report={**new_run.report, "migrations": section})
    page = client.get(reverse("review:compare", args=[design.pk, 1, 2])).content.decode()
    assert f'<p id="rollback-reason" class="muted">Rollback not proven: {lost}.</p>' in page
    assert AnalysisRun.objects.count() == 2


def test_the_compare_page_lists_the_open_threads_carried_to_the_later_revision(
    client: Client, owner: AbstractBaseUser, shop: tuple[Design, Revision], shop_v1: str, shop_v2: str
) -> None:
    design, _ = shop
    client.force_login(owner)
    _thread(client, design, _line_of(shop_v1, "## API"), "Follows")
    _thread(client, design, _line_of(shop_v1, "Owner: Commerce team. Status: in review."), "Goes outdated")
    follows, outdated = Thread.objects.order_by("pk")
    _v2(design, owner, shop_v2)
    page = client.get(reverse("review:compare", args=[design.pk, 1, 2])).content.decode()
    threads = page[page.index('id="compare-threads"') : page.index('id="findings"')]
    moved = _line_of(shop_v2, "## API")
    assert re.search(rf'id="compare-thread-{follows.pk}" class="compare-thread followed"', threads)
    assert f"line {moved} of v2-design.md" in threads
    assert re.search(rf'id="compare-thread-{outdated.pk}" class="compare-thread outdated"', threads)
