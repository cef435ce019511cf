"""The migrations tab's downloads and page, over a stored report."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone
from pygments.formatters import HtmlFormatter

from apps.accounts.models import Workspace
from apps.analysis.models import AnalysisRun, RunStatus
from tests.conftest import ROOT
from tests.factories import make_design

pytestmark = pytest.mark.django_db

SECTION = {
    "renames": {"mode": "detect", "detected": ["orders.shipping_address -> delivery_address"]},
    "schema_diff": "--- base/orders\n+++ design/orders\n@@ -1,2 +1,2 @@\n CREATE TABLE orders (\n-    a int\n+    b int\n",
    "name": "0001_20261126_1500_design",
    "source": "from django.db import migrations\n",
    "forward_sql": 'ALTER TABLE "orders" RENAME COLUMN "a" TO "b";',
    "rollback_sql": 'ALTER TABLE "orders" RENAME COLUMN "b" TO "a";',
    "rollback_proven": {"proven": True, "reason": "applied, rolled back and applied again"},
    "statements": [],
    "safe_migration": None,
}


def _run(workspace: Workspace, owner: AbstractBaseUser, shop_v1: str) -> AnalysisRun:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    return AnalysisRun.objects.create(
        revision=revision, status=RunStatus.SUCCEEDED, finished_at=timezone.now(), report={"migrations": SECTION}
    )


def test_downloads_carry_the_migrations_name_and_text(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _run(workspace, owner, shop_v1)
    client.force_login(owner)
    response = client.get(f"/runs/{run.pk}/migrations/forward/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="0001_20261126_1500_design_forward.sql"'
    assert response.content.decode() == SECTION["forward_sql"] + "\n"
    migration = client.get(f"/runs/{run.pk}/migrations/migration/")
    assert migration["Content-Disposition"] == 'attachment; filename="0001_20261126_1500_design.py"'
    assert client.get(f"/runs/{run.pk}/migrations/diff/").content.decode().startswith("--- base/orders")
    assert client.get(f"/runs/{run.pk}/migrations/safe/").status_code == 404  # none in this run
    assert client.get(f"/runs/{run.pk}/migrations/passwords/").status_code == 404


def test_the_tab_highlights_and_others_get_nothing(
    client: Client, owner: AbstractBaseUser, outsider: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    run = _run(workspace, owner, shop_v1)
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/migrations/").content.decode()
    assert '<div class="highlight"><pre><span></span><span class="k">ALTER</span>' in page
    assert '<span class="gd">-    a int</span>' in page
    assert page.count('class="secondary copy"') == 4  # migration, forward, rollback, diff: no safe variant here
    client.force_login(outsider)
    assert client.get(f"/runs/{run.pk}/migrations/").status_code == 404
    assert client.get(f"/runs/{run.pk}/migrations/forward/").status_code == 404


def test_the_highlight_stylesheet_is_pygments_own() -> None:
    css = (ROOT / "static" / "css" / "highlight.css").read_text()
    assert HtmlFormatter(style="default").get_style_defs(".highlight") in css
    assert Path(ROOT / "static" / "js" / "copy.js").read_text().count("navigator.clipboard.writeText") == 1


def test_long_files_are_shown_plain_beyond_the_highlight_limit(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str, settings: Any
) -> None:
    settings.MIGRATION_HIGHLIGHT_MAX_CHARS = 10
    run = _run(workspace, owner, shop_v1)
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/migrations/").content.decode()
    assert '<span class="k">ALTER</span>' not in page
    assert '<div class="highlight"><pre>ALTER TABLE &quot;orders&quot; RENAME COLUMN' in page


def test_the_tab_lists_what_the_safe_variant_could_not_make_safe(
    client: Client, owner: AbstractBaseUser, workspace: Workspace, shop_v1: str
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    safe = {
        "name": "0001_design_safe",
        "source": "# NOT MADE SAFE (1): ...\nfrom django.db import migrations\n",
        "statements": [],
        "not_safe": [
            'ALTER TABLE "orders" ADD COLUMN "channel" text NOT NULL: the statement fails. Instead: add it nullable'
        ],
    }
    run = AnalysisRun.objects.create(
        revision=revision,
        status=RunStatus.SUCCEEDED,
        finished_at=timezone.now(),
        report={"migrations": {**SECTION, "safe_migration": safe}},
    )
    client.force_login(owner)
    page = client.get(f"/runs/{run.pk}/migrations/").content.decode()
    assert '<div class="notes" id="not-made-safe"><strong>Not made safe by the safe variant</strong>' in page
    assert "ADD COLUMN &quot;channel&quot; text NOT NULL: the statement fails. Instead: add it nullable</li>" in page
