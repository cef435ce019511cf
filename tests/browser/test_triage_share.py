"""Triage and share links in headless Chromium: a finding triaged through its form (htmx swaps
it in place), a share link created and opened by a visitor without an account, then revoked;
no CSP complaint on the way."""

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Workspace
from tests.factories import make_design, make_finished_run

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


def test_a_finding_is_triaged_in_place_and_a_share_link_opens_logged_out_until_revoked(
    page: Page, browser: Browser, live_server: LiveServer, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"{live_server.url}/runs/{run.pk}/")
    finding = page.locator("li.finding").first
    finding.locator(".triage-form select[name=state]").select_option("false_positive")
    finding.locator(".triage-form input[name=reason]").fill("checked by the gateway")
    finding.locator(".triage-form button.triage-save").click()
    expect(finding.locator(".badge.triage-false_positive")).to_be_visible()
    expect(finding).to_contain_text("checked by the gateway")
    expect(finding.locator(".triage-last")).to_contain_text("open → false_positive by olivia")

    page.click("#open-shares")
    page.fill("#share-form input[name=days]", "3")
    page.click("#create-share")
    url = page.locator("#share-url").inner_text()
    visitor = browser.new_context()
    shared = visitor.new_page()
    response = shared.goto(url)
    assert response is not None and response.status == 200
    assert "noindex" in response.headers["x-robots-tag"]
    expect(shared.locator("meta[name=robots]")).to_have_attribute("content", "noindex, nofollow")
    expect(shared.locator("#top-problems")).to_be_visible()
    expect(shared.locator("form")).to_have_count(0)
    expect(shared.locator(".badge.triage-false_positive").first).to_be_visible()

    page.reload()
    expect(page.locator("td.share-views").first).to_have_text("1")
    page.locator("button.revoke-share").first.click()
    expect(page.locator("td.share-state").first).to_contain_text("revoked")
    gone = shared.goto(url)
    assert gone is not None and gone.status == 404
    expect(shared.locator("body")).to_have_text("Not found.")
    visitor.close()
    assert complaints == []
