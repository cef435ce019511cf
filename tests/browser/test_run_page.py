"""The run page in headless Chromium: while a filter loads, the old list is marked busy and a
loading line shows; the new list's counts follow the filter; a finding's evidence link opens the
pasted document with the line highlighted and in view; its rule link opens the rule's page. No
console or CSP error on the way."""

import os
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from playwright.sync_api import Browser, Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Workspace
from apps.analysis import services
from tests.factories import make_design

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, owner: AbstractBaseUser) -> Iterator[Page]:
    client = Client()
    client.force_login(owner)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    yield context.new_page()
    context.close()


def test_a_filter_marks_the_list_busy_then_its_counts_follow_and_evidence_opens_highlighted(
    page: Page, live_server: LiveServer, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner, only=["traceability", "security"])
    services.run_execute(run_id=run.pk)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{live_server.url}/runs/{run.pk}/")
    expect(page.locator("#scorecard #severity-chart")).to_be_visible()
    expect(page.locator("#er-diagram svg .erd-table").first).to_be_visible()
    loading = page.locator("#findings-loading")
    expect(loading).to_be_hidden()

    # Hold the filter's answer back, to see the page while it waits.
    held: list[Route] = []
    filtered = "**/runs/*/?*analyzer=traceability*"
    page.route(filtered, lambda route: held.append(route))
    page.wait_for_function("() => !document.querySelector('.htmx-settling, .htmx-swapping, .htmx-added')")
    page.select_option("#filter-analyzer", "traceability")
    expect(page.locator("#findings")).to_have_attribute("aria-busy", "true")
    expect(loading).to_be_visible()
    assert float(page.locator("#findings .findings").evaluate("e => getComputedStyle(e).opacity")) < 1
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    held[0].continue_()
    page.unroute(filtered)
    expect(page.locator("#findings .finding").first).to_contain_text("trace.")
    expect(page.locator("#findings")).not_to_have_attribute("aria-busy", "true")
    expect(loading).to_be_hidden()
    total = run.findings.filter(analyzer="traceability", suppressed__isnull=True).count()
    options = page.locator("#filter-severity option").all_text_contents()
    assert sum(int(o.rsplit("(", 1)[1].rstrip(")")) for o in options[1:]) == total

    finding = page.locator("#findings .finding").first
    rule = finding.locator("a.rule-doc").inner_text()
    evidence = finding.locator(".where a").first
    line = evidence.get_attribute("href").rsplit("#L", 1)[1]
    evidence.click()
    row = page.locator(f"tr#L{line}")
    expect(row).to_be_in_viewport()
    assert row.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
    page.goto(f"{live_server.url}/runs/{run.pk}/?analyzer=traceability")
    page.locator("#findings .finding").first.locator("a.rule-doc").click()
    expect(page.locator("h1")).to_contain_text(rule)
    assert errors == []
