"""A team's whole review in headless Chromium, as issue 15 walks it: the owner pastes the shop v1
design and runs it, triages a finding, comments on a line; a second member with the viewer role
works through two steps of the guided checklist; the owner signs one off and shares the report;
a visitor opens the link until it is revoked; then v2 is pasted, run against v1 and compared: the
comment has followed its line and the findings are marked new and fixed."""

import os
import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Workspace
from tests.conftest import make_user
from tests.worker import celery_worker

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The line the comment is written on: unchanged from v1 to v2, but further down in v2.
COMMENTED = "## API"


@pytest.fixture
def worker(settings: Settings) -> Iterator[None]:
    settings.ANALYSIS_QUEUE = "test-review-flow"
    settings.SANDBOX_QUEUE = "test-review-flow"
    with celery_worker("test-review-flow"):
        yield


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def _page(browser: Browser, live_server: LiveServer, user: AbstractBaseUser | None, opened: list) -> Page:
    context = browser.new_context()
    opened.append(context)
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context.new_page()


def _run(page: Page) -> str:
    """Start an analysis from the revision page (every analyzer but the query plans, which their
    own browser test covers) and wait for it; the run page's address."""
    page.uncheck("#analyzer-queryplans")
    page.click("#run-analysis")
    expect(page.locator("#run-state")).to_have_text("succeeded", timeout=90_000)
    return page.url


def test_a_design_is_reviewed_checked_by_a_junior_shared_and_compared_with_its_next_revision(
    browser: Browser,
    live_server: LiveServer,
    worker: None,
    contexts: list[BrowserContext],
    owner: AbstractBaseUser,
    workspace: Workspace,
    shop_v1: str,
    shop_v2: str,
) -> None:
    junior_user = make_user("june")
    complaints: list[str] = []

    def watch(page: Page) -> Page:
        page.on("console", lambda m: complaints.append(m.text) if "Content Security Policy" in m.text else None)
        return page

    base = live_server.url
    owner_page = watch(_page(browser, live_server, owner, contexts))

    # The owner adds the junior as a viewer.
    owner_page.goto(f"{base}/w/{workspace.slug}/")
    owner_page.fill("#id_username", "june")
    owner_page.select_option("#id_role", "viewer")
    owner_page.click("text=Add or change")
    expect(owner_page.locator("table")).to_contain_text("june")

    # Paste v1 and run it.
    owner_page.goto(f"{base}/w/{workspace.slug}/designs/new/")
    owner_page.fill("#id_name", "Shop")
    owner_page.fill("#id_document", shop_v1)
    expect(owner_page.locator("#validation")).to_contain_text("No problems found", timeout=15_000)
    owner_page.click("text=Save design")
    expect(owner_page.locator("h1")).to_contain_text("revision 1")
    design_url = owner_page.url.rsplit("/r/", 1)[0]
    run_v1 = _run(owner_page)

    # Triage the first finding in place.
    finding = owner_page.locator("li.finding").first
    fingerprint_title = finding.locator("strong").first.inner_text()
    finding.locator(".triage-form select[name=state]").select_option("accepted_risk")
    finding.locator(".triage-form input[name=reason]").fill("The gateway enforces it until Q3")
    finding.locator(".triage-form button.triage-save").click()
    expect(finding.locator(".badge.triage-accepted_risk")).to_be_visible()

    # Comment on a line of the pasted design.
    line = shop_v1.splitlines().index(COMMENTED) + 1
    owner_page.goto(f"{design_url}/r/1/source/design.md")
    owner_page.locator(f"#L{line} td.add-comment a").click()
    owner_page.fill("#new-thread textarea[name=body]", "Say which version prefix the API keeps.")
    owner_page.click("#post-thread")
    expect(owner_page.locator("article.thread")).to_contain_text("Say which version prefix")

    # The junior, a viewer, works through two steps of the guided checklist.
    junior = watch(_page(browser, live_server, junior_user, contexts))
    junior.goto(run_v1)
    junior.click("#open-guide")
    steps = junior.locator("form.step-answer")
    assert steps.count() >= 2
    done_keys = []
    for index, answer in enumerate(("Orders filter by customer_id; checked all", "Card numbers are tokenised")):
        step = junior.locator("[id^=step-]:has(form.step-answer)").nth(index)
        key = step.get_attribute("id")
        done_keys.append(key)
        step.locator("textarea[name=answer]").fill(answer)
        step.locator("button.step-done").click()
        expect(junior.locator(f"#{key} .state-done")).to_be_visible()
    expect(junior.locator("#progress-june")).to_contain_text("2 of")
    assert junior.locator("button.step-signoff").count() == 0  # a viewer cannot sign off

    # The owner signs the first one off.
    owner_page.goto(run_v1)
    owner_page.click("#open-guide")
    owner_page.locator(f"#{done_keys[0]} button.step-signoff").click()
    expect(owner_page.locator(f"#{done_keys[0]}")).to_contain_text("Signed off by olivia")
    expect(owner_page.locator("#progress-june")).to_contain_text("1 signed off")

    # A share link for a product manager without an account, then revoked.
    owner_page.goto(run_v1)
    owner_page.click("#open-shares")
    owner_page.fill("#share-form input[name=days]", "7")
    owner_page.click("#create-share")
    share_url = owner_page.locator("#share-url").inner_text()
    visitor = watch(_page(browser, live_server, None, contexts))
    opened = visitor.goto(share_url)
    assert opened is not None and opened.status == 200
    assert "noindex" in opened.headers["x-robots-tag"]
    expect(visitor.locator("meta[name=robots]")).to_have_attribute("content", re.compile("noindex"))
    expect(visitor.locator("#top-problems")).to_be_visible()
    expect(visitor.locator("body")).to_contain_text(re.compile("1 accepted risk", re.I))  # the triage, shared
    expect(visitor.locator("form")).to_have_count(0)
    owner_page.reload()
    expect(owner_page.locator("td.share-views").first).to_have_text("1")
    owner_page.locator("button.revoke-share").first.click()
    expect(owner_page.locator("td.share-state").first).to_contain_text("revoked")
    gone = visitor.goto(share_url)
    assert gone is not None and gone.status == 404
    assert "Shop" not in visitor.content()

    # v2, run against v1 (Compare with starts at the previous revision), then compared.
    owner_page.goto(design_url + "/")
    owner_page.fill("#paste-form #id_document", shop_v2)
    expect(owner_page.locator("#validation")).to_contain_text("No problems found", timeout=15_000)
    owner_page.click("text=Save revision")
    expect(owner_page.locator("h1")).to_contain_text("revision 2")
    expect(owner_page.locator("#compare-with")).to_have_value("1")
    expect(owner_page.locator("#open-thread-count")).to_have_text("1")
    _run(owner_page)
    expect(owner_page.locator("#changes")).to_contain_text("new")

    owner_page.goto(f"{design_url}/r/2/")
    owner_page.click("#compare-link")
    expect(owner_page.locator("#document-diff tr.added").first).to_be_visible()
    moved = shop_v2.splitlines().index(COMMENTED) + 1
    assert moved != line
    followed = owner_page.locator("#compare-threads li.followed")
    expect(followed).to_have_count(1)
    expect(followed).to_contain_text(str(moved))
    assert owner_page.locator("#findings-new li.finding").count() >= 1
    assert owner_page.locator("#findings-fixed li.finding").count() >= 1
    assert owner_page.locator("#findings-unchanged li.finding").count() >= 1
    # The migration the change implies, from the run of r2 against r1.
    expect(owner_page.locator("#migration-summary")).to_contain_text("statement")
    expect(owner_page.locator("#rollback-reason")).to_contain_text("card_number")
    expect(owner_page.locator("#migration-link")).to_be_visible()
    compared = " ".join(owner_page.locator(f"#findings-{kind}").inner_text() for kind in ("new", "fixed", "unchanged"))
    assert fingerprint_title in compared

    owner_page.goto(f"{design_url}/r/2/source/design.md")
    expect(owner_page.locator(f"#L{moved} + tr.line-threads article.thread")).to_contain_text("Say which version")

    # The review ends with the owner's verdict, shown on the design's revision list.
    owner_page.goto(f"{design_url}/r/2/")
    owner_page.check("#verdict-form input[name=verdict][value=approve]")
    owner_page.fill("#verdict-form textarea[name=comment]", "Card numbers are gone; ship it.")
    owner_page.click("#give-verdict")
    expect(owner_page.locator("#verdict-list")).to_contain_text("Approved")
    owner_page.goto(design_url + "/")
    expect(owner_page.locator("#review-summary-2")).to_contain_text("1 approved")
    assert complaints == []
