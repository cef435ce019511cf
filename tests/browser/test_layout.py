"""Layout in headless Chromium: a phone's 375 px without sideways scrolling, the skip link first
under Tab, a visible focus ring, and the dark colour scheme."""

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from playwright.sync_api import Browser, Page
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Workspace
from apps.analysis import services
from apps.designs.engine.loader import DesignInput
from apps.designs.services import revision_create
from tests.factories import make_design

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, owner: AbstractBaseUser) -> Iterator[Page]:
    client = Client()
    client.force_login(owner)
    context = browser.new_context(viewport={"width": 375, "height": 740})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    yield context.new_page()
    context.close()


def _scroll_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_the_pages_fit_a_phone_take_the_keyboard_and_go_dark(
    page: Page, live_server: LiveServer, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, shop_v2: str
) -> None:
    design, base = make_design(workspace=workspace, user=owner, document=shop_v1)
    head = revision_create(design=design, user=owner, texts=DesignInput(document=shop_v2, document_name="v2-design.md"))
    # Analysed in this process (the same service the worker calls): the page to lay out, not the job.
    run = services.run_start(revision=head, user=owner, base_revision=base, only=["traceability", "security"])
    services.run_execute(run_id=run.pk)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    for path in (f"/designs/{design.pk}/r/2/", f"/runs/{run.pk}/", "/"):
        page.goto(f"{live_server.url}{path}")
        assert _scroll_width(page) <= 375, path

    page.goto(f"{live_server.url}/designs/{design.pk}/r/2/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip-link"
    assert page.locator("#skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"

    # A button reached from the keyboard wears the focus ring.
    page.locator("#run-analysis").focus()
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert page.evaluate("document.activeElement.id") == "run-analysis"
    assert outline == ["solid", "3px"]  # the workbench's ring, not the browser's default

    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(v) for v in background.removeprefix("rgb(").removesuffix(")").split(","))
    assert max(red, green, blue) < 60, background
    text = page.evaluate("getComputedStyle(document.body).color")
    assert min(int(v) for v in text.removeprefix("rgb(").removesuffix(")").split(",")) > 180, text
    assert _scroll_width(page) <= 375
    assert blocked == []
