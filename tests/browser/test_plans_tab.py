"""The query plans tab in headless Chromium, over a stored section whose plans the real PostgreSQL
gave: opening a query's details shows its plan tree with the slowest path and the hit on its node,
a node's details open, the advised statement copies, and the page raises no console or CSP error."""

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.test import Client
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Workspace
from apps.queryplans.engine.tree import plan_rows
from tests.queryplans.test_tab import INDEX, make_run, queryplans_section

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, owner: AbstractBaseUser) -> Iterator[Page]:
    client = Client()
    client.force_login(owner)
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    yield context.new_page()
    context.close()


def test_opening_a_query_shows_its_plan_tree(
    page: Page, live_server: LiveServer, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    # The tables the plans come from are made and dropped in one transaction; the plans stay.
    with transaction.atomic():
        section = queryplans_section()
        transaction.set_rollback(True)
    run = make_run(workspace, owner, shop_v1, {"queryplans": section})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{live_server.url}/runs/{run.pk}/plans/")
    expect(page.locator("#tab-queryplans")).to_have_attribute("aria-current", "page")
    tree = page.locator("#q1-plan table.plan-tree")
    expect(tree).to_be_hidden()
    page.click("#q1-plan > summary")
    expect(tree).to_be_visible()

    rows = plan_rows(section["queries"][0]["plan"])
    expect(tree.locator("tr.plan-node")).to_have_count(len(rows))
    seq = next(r for r in rows if r.node_type == "Seq Scan" and "plan_orders" in r.label)
    scan = tree.locator(f'tr.plan-node[data-path="{seq.path}"]')
    expect(scan).to_have_class("plan-node slowest has-hits")
    expect(scan.locator(".plan-hit")).to_contain_text("queryplans.seq-scan-selective")
    expect(scan.locator("meter")).to_be_visible()
    assert float(scan.locator("meter").get_attribute("value")) == pytest.approx(seq.share, abs=1e-4)
    expect(tree.locator("tr.slowest")).to_have_count(sum(1 for r in rows if r.on_slowest_path))

    details = scan.locator(".node-facts")
    expect(details).to_be_hidden()
    scan.locator(".node-details > summary").click()
    expect(details).to_be_visible()
    expect(details).to_contain_text("Rows removed by filter")

    page.click("#q1-advice1 button.copy")
    expect(page.locator("#q1-advice1 button.copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").strip() == INDEX
    page.click("#q1-trail > summary")
    expect(page.locator("#q1-trail")).to_contain_text("a better composite covers it")
    assert errors == []
