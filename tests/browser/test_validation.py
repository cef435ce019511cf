"""Live validation sends a document once: never again while it is unchanged."""

import os
import time

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.test_flow import _sign_up

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_unchanged_document_is_not_sent_again(browser: Browser, live_server: LiveServer) -> None:
    page = browser.new_context().new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/designs/validate/" in request.url else None)
    _sign_up(page, live_server.url, "valerie")
    page.fill("#id_name", "Commerce")
    page.click("text=Create workspace")
    page.click("text=New design")
    expect(page.locator("h1")).to_have_text("New design")
    page.wait_for_load_state("load")
    page.fill("#id_name", "Shop")
    document = page.locator("#id_document")
    document.fill("### ORD-1: Orders\nAs a customer, I want to list my orders, so that I can track them.\n")
    expect(page.locator("#validation")).to_contain_text("1 stories", timeout=10_000)
    assert len(sent) == 1, console
    # A character typed and deleted again within the debounce, then a keystroke that changes
    # nothing (a cursor move): the form holds what was last validated, so nothing is sent.
    document.press("End")
    document.type("x")
    document.press("Backspace")
    document.press("ArrowLeft")
    time.sleep(1.5)
    assert len(sent) == 1
    document.type(" Soon.")
    expect(page.locator("#validation")).to_contain_text("1 stories", timeout=10_000)
    page.wait_for_timeout(1000)
    assert len(sent) == 2
