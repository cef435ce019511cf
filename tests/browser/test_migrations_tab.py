"""The migrations tab in headless Chromium: a revision pair's preview with highlighted files,
copy and download, estimates, the schema diff, and the choice to treat a rename as drop + add."""

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import Workspace
from apps.designs.engine.loader import DesignInput
from apps.designs.services import revision_create
from tests.factories import make_design
from tests.worker import celery_worker

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, owner: AbstractBaseUser) -> Iterator[Page]:
    client = Client()
    client.force_login(owner)
    context = browser.new_context(accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    yield context.new_page()
    context.close()


@pytest.fixture
def worker(settings: Settings) -> Iterator[None]:
    settings.ANALYSIS_QUEUE = "test-migrations-tab"
    settings.SANDBOX_QUEUE = "test-migrations-tab"
    with celery_worker("test-migrations-tab"):
        yield


def test_a_revision_pairs_migration_tab(
    page: Page,
    live_server: LiveServer,
    worker: None,
    owner: AbstractBaseUser,
    workspace: Workspace,
    shop_v1: str,
    shop_v2: str,
) -> None:
    design, _ = make_design(workspace=workspace, user=owner, document=shop_v1)
    revision_create(design=design, user=owner, texts=DesignInput(document=shop_v2, document_name="v2-design.md"))
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"{live_server.url}/designs/{design.pk}/r/2/")
    page.select_option("select[name=base]", "1")
    page.click("#run-analysis")
    expect(page.locator("#run-state")).to_have_text("succeeded", timeout=90_000)
    page.click("#tab-migrations")

    statements = page.locator("#migration-statements")
    expect(statements).to_contain_text('ALTER TABLE "order_lines" ALTER COLUMN "quantity" TYPE bigint')
    quantity = statements.locator("tr", has_text='"quantity" TYPE bigint')
    expect(quantity).to_contain_text("ACCESS EXCLUSIVE")
    expect(quantity.locator("td.estimate")).to_contain_text("at 120,000,000 rows (linear extrapolation)")
    expect(page.locator("#total-estimate")).to_contain_text("s")
    expect(page.locator(".renames")).to_contain_text("orders.shipping_address -> delivery_address")

    # Highlighted by Pygments: keywords in spans, styled by the served stylesheet.
    assert page.locator("#code-forward .highlight span.k").count() > 10
    assert page.locator("#code-migration .highlight span.kn").count() >= 1  # `from`, `import`
    diff = page.locator("#code-diff")
    expect(diff.locator(".gi")).to_contain_text(["+    channel varchar(16) NOT NULL,"])
    expect(diff.locator(".gd")).to_contain_text(["-    shipping_address text,"])

    page.click("#copy-rollback")
    expect(page.locator("#copy-rollback")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert 'ALTER TABLE "orders" RENAME COLUMN "delivery_address" TO "shipping_address";' in copied

    with page.expect_download() as info:
        page.click("#download-migration")
    download = info.value
    assert download.suggested_filename.endswith("_design.py")
    source = download.path().read_text(encoding="utf-8")
    assert "class Migration(migrations.Migration):" in source
    assert "migrations.RenameField(" in source
    with page.expect_download() as info:
        page.click("#download-safe")
    assert "AddIndexConcurrently(" in info.value.path().read_text(encoding="utf-8")

    # The choice: the same pair previewed with the rename as a drop and an add.
    page.click("#rename-choice button")
    expect(page.locator("#run-state")).to_have_text("succeeded", timeout=90_000)
    page.click("#tab-migrations")
    expect(page.locator(".renames")).to_contain_text("previewed as a drop and an add")
    expect(page.locator("#migration-statements")).to_contain_text('ALTER TABLE "orders" DROP COLUMN "shipping_address"')
    expect(page.locator("#migration-statements")).to_contain_text('ALTER TABLE "orders" ADD COLUMN "delivery_address"')
    assert blocked == []
