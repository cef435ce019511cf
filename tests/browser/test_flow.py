"""The whole path in headless Chromium: sign up, paste, validate live, analyse, read, and isolation."""

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.conftest import PASSWORD
from tests.worker import celery_worker

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the live server
# thread are safe, Django just cannot tell.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(settings: Settings) -> Iterator[None]:
    settings.ANALYSIS_QUEUE = "test-browser"
    settings.SANDBOX_QUEUE = "test-browser"
    with celery_worker("test-browser"):
        yield


def _sign_up(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("text=Create account")
    expect(page.locator("h1")).to_have_text("Your workspaces")


def test_a_team_pastes_a_design_and_reads_its_traceability(
    browser: Browser, live_server: LiveServer, worker: None, shop_v1: str, settings: Settings
) -> None:
    settings.RUN_PAGE_MAX_FINDINGS = 20  # the shop design's findings fill more than one page
    context = browser.new_context()
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )

    _sign_up(page, live_server.url, "alice")
    page.fill("#id_name", "Commerce")
    page.click("text=Create workspace")
    expect(page.locator("h1")).to_have_text("Commerce")
    page.click("text=New design")

    page.fill("#id_name", "Shop")
    page.fill("#id_document", "# Shop\n\n```sql\nCREATE TABLE orders (\n  id bigint,,\n);\n```\n")
    expect(page.locator("#validation")).to_contain_text("line 5", timeout=10_000)
    expect(page.locator("#validation")).to_contain_text("blocks saving")
    page.fill("#id_document", shop_v1)
    expect(page.locator("#validation")).to_contain_text(
        "7 entities · 11 endpoints · 6 stories · 4 queries", timeout=10_000
    )
    expect(page.locator("#validation")).to_contain_text("No problems found")
    page.click("text=Save design")

    expect(page.locator("h1")).to_contain_text("revision 1")
    page.click("#run-analysis")
    expect(page.locator("#run-state")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("#run-percent")).to_have_text("100 %")
    assert page.locator("#run-progress").get_attribute("value") == "100"
    matrix = page.locator("#trace-matrix")
    expect(matrix).to_contain_text("ORD-1")
    expect(matrix).to_contain_text("GET /v1/customers/{customerId}/orders")
    expect(matrix).to_contain_text("customer_orders_page")
    expect(page.locator(".finding.sev-critical")).to_contain_text("Full card numbers stored")
    run_url = page.url
    page.click("#open-migrations")
    expect(page.locator("#migration-statements")).to_contain_text('CREATE TABLE "orders"')
    expect(page.locator("#migration-statements")).to_contain_text("no rows to touch")
    page.goto(run_url)

    # Twenty findings a page: Next goes on from where the first page stopped.
    expect(page.locator("#findings .pager").first).to_contain_text("1\u201320 of")
    page.locator("#findings .pager").first.get_by_text("Next").click()
    expect(page.locator("#findings .pager").first).to_contain_text("21\u2013")
    # A filter narrows the list in place (htmx), back to its first page.
    # htmx binds the swapped-in form when it settles: a change before that would go unheard.
    page.wait_for_function("() => !document.querySelector('.htmx-settling, .htmx-swapping, .htmx-added')")
    with page.expect_response(lambda response: "analyzer=traceability" in response.url):
        page.select_option("select[name=analyzer]", "traceability")
    expect(page.locator("#findings .finding").first).to_contain_text("trace.")
    page.click("text=design.md:409")
    expect(page.locator("tr.focus")).to_contain_text("Table audit_log")
    assert blocked == []  # htmx and our pages run under the strict CSP

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    assert page.locator(".opblock").count() >= 10

    stranger = browser.new_context().new_page()
    _sign_up(stranger, live_server.url, "mallory")
    response = stranger.goto(run_url)
    assert response is not None
    assert response.status == 404
    assert re.search(r"Shop|ORD-1", stranger.content()) is None
