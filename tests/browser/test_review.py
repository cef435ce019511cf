"""The review in headless Chromium, without JavaScript of its own: a comment on a line through
the line's +, a reply, the thread following its line to the next revision, resolving it there,
a verdict, and the comparison reached from the revision page; no CSP complaint on the way."""

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Workspace
from apps.designs.engine.loader import DesignInput
from apps.designs.services import revision_create
from tests.factories import make_design

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, owner: AbstractBaseUser) -> Iterator[Page]:
    client = Client()
    client.force_login(owner)
    context = browser.new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    yield context.new_page()
    context.close()


def test_a_line_comment_follows_its_line_and_the_revisions_compare(
    page: Page, live_server: LiveServer, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, shop_v2: str
) -> None:
    design, _ = make_design(workspace=workspace, user=owner, document=shop_v1)
    line = shop_v1.splitlines().index("## API") + 1
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"{live_server.url}/designs/{design.pk}/r/1/source/v1-design.md")
    page.locator(f"#L{line} td.add-comment a").click()
    expect(page.locator("#new-thread input[name=line]")).to_have_value(str(line))
    page.fill("#new-thread textarea[name=body]", "Version the API <v1>?")
    page.click("#post-thread")
    thread = page.locator("article.thread")
    expect(thread).to_contain_text("Version the API <v1>?")
    thread.locator("textarea[name=body]").fill("Yes, in the path.")
    thread.locator("button.reply").click()
    expect(page.locator("article.thread .comment")).to_have_count(2)

    revision_create(design=design, user=owner, texts=DesignInput(document=shop_v2, document_name="v2-design.md"))
    page.goto(f"{live_server.url}/designs/{design.pk}/r/2/")
    expect(page.locator("#open-thread-count")).to_have_text("1")
    page.click("text=v2-design.md")
    moved = shop_v2.splitlines().index("## API") + 1
    followed = page.locator(f"#L{moved} + tr.line-threads article.thread")
    expect(followed).to_contain_text(f"line {moved}")
    expect(followed).not_to_have_class("thread outdated")
    followed.locator("button.resolve-thread").click()
    expect(page.locator("article.thread")).to_have_count(0)  # resolved: it stays on r1
    expect(page.locator(".messages")).to_contain_text("shown only on r1")

    page.goto(f"{live_server.url}/designs/{design.pk}/r/2/")
    page.check("#verdict-form input[name=verdict][value=request_changes]")
    page.fill("#verdict-form textarea[name=comment]", "Shipments need an index.")
    page.click("#give-verdict")
    expect(page.locator("#verdict-list")).to_contain_text("Changes requested")
    page.click("#compare-link")
    expect(page.locator("#document-diff tr.added").first).to_be_visible()
    expect(page.locator("#document-diff")).to_contain_text("### SHP-1: Customer tracks a shipment")
    expect(page.locator("#findings-missing")).to_contain_text("r1 has no succeeded analysis run.")
    page.goto(f"{live_server.url}/designs/{design.pk}/")
    expect(page.locator("#review-summary-2")).to_have_text("1 changes requested")
    assert complaints == []
