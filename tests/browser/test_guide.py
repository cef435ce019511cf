"""The guided review in headless Chromium: a viewer marks a step done, the owner's stale sign-off
is refused with the conflict message in place, and a fresh one signs the step off."""

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, expect
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Workspace
from apps.guides.models import StepState, StepStatus
from tests.factories import make_design, make_finished_run

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def contexts(browser: Browser, live_server: LiveServer) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def _logged_in(browser: Browser, live_server: LiveServer, user: AbstractBaseUser, opened: list) -> BrowserContext:
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    opened.append(context)
    return context


def test_a_stale_sign_off_shows_who_changed_the_step_and_a_fresh_one_signs_it_off(
    browser: Browser,
    live_server: LiveServer,
    contexts: list[BrowserContext],
    owner: AbstractBaseUser,
    viewer: AbstractBaseUser,
    workspace: Workspace,
    shop_v1: str,
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    url = live_server.url + reverse("guides:guide", args=[run.pk])
    blocked: list[str] = []

    junior = _logged_in(browser, live_server, viewer, contexts).new_page()
    junior.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    junior.goto(live_server.url + reverse("analysis:run", args=[run.pk]))
    junior.click("#open-guide")
    step = junior.locator("#step-authz-objects")
    step.locator("textarea[name=answer]").fill("ORD-1 filters by customer_id; the others say nothing")
    step.locator("button.step-done").click()
    expect(junior.locator("#step-authz-objects .state-done")).to_be_visible()
    expect(junior.locator("#progress-victor")).to_contain_text("1 of")

    senior = _logged_in(browser, live_server, owner, contexts).new_page()
    senior.goto(url)
    expect(senior.locator("#step-authz-objects button.step-signoff")).to_be_visible()

    # The junior edits the answer while the senior's page still shows the first one.
    junior.locator("#step-authz-objects textarea[name=answer]").fill("All five checked: ORD-1 filters by customer_id")
    junior.locator("#step-authz-objects button.step-done").click()
    expect(junior.locator("#step-authz-objects input[name=version]")).to_have_value("2")

    senior.locator("#step-authz-objects button.step-signoff").click()
    conflict = senior.locator('#step-authz-objects [role="alert"].conflict')
    expect(conflict).to_contain_text("victor changed this step at")
    expect(conflict).to_contain_text("reload to see their change")
    assert StepState.objects.get(key="authz-objects").status == StepStatus.DONE

    senior.reload()
    expect(senior.locator("#step-authz-objects")).to_contain_text("All five checked")
    senior.locator("#step-authz-objects button.step-signoff").click()
    expect(senior.locator("#step-authz-objects")).to_contain_text("Signed off by olivia")
    expect(senior.locator("#progress-victor")).to_contain_text("1 signed off")
    assert StepState.objects.get(key="authz-objects").status == StepStatus.SIGNED_OFF
    assert blocked == []
