"""Exports asked for by a hostile member: what one request may cost the server."""

from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from markdown_it import MarkdownIt
from rest_framework.test import APIClient

from apps.accounts.models import Workspace
from apps.reports.engine.report import render_markdown
from apps.reports.services import PDF_LOCK_CLASS
from tests.factories import make_design, make_finished_run
from tests.reports.test_markdown_escaping import HOSTILE
from tests.reports.test_report import _report


def test_pdf_prints_at_once_are_bounded_by_a_setting(
    client: Client, api: APIClient, owner: Any, viewer: Any, workspace: Workspace, shop_v1: str, settings: Any
) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    settings.REPORT_PDF_MAX_CONCURRENT = 1
    db = connection.settings_dict
    # Another process is printing: it holds the one print slot.
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or None, autocommit=True
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s, 0)", [PDF_LOCK_CLASS])
        client.force_login(viewer)
        busy = client.get(reverse("reports:export", args=[run.pk, "pdf"]))
        assert busy.status_code == 503 and b"REPORT_PDF_MAX_CONCURRENT" in busy.content
        answer = api.get(f"/api/v1/runs/{run.pk}/export/pdf/")
        assert answer.status_code == 503 and "REPORT_PDF_MAX_CONCURRENT" in answer.json()["detail"]
        # Other formats do not wait for a print slot.
        assert client.get(reverse("reports:export", args=[run.pk, "md"])).status_code == 200
    # The slot is ours again once the other print ends (and a failed print gives it back).
    settings.REPORT_CHROMIUM = "/nonexistent/chromium"
    for _ in range(2):
        failed = client.get(reverse("reports:export", args=[run.pk, "pdf"]))
        assert failed.status_code == 503 and b"REPORT_CHROMIUM" in failed.content


LINKS = ["[the fix is approved](https://evil.example/x)", "![pixel](https://evil.example/p.png)"]


@pytest.mark.parametrize("payload", LINKS)
def test_pasted_links_and_images_stay_text_in_the_markdown_export(payload: str) -> None:
    markdown = render_markdown(_report(HOSTILE.format(payload=payload)))
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    assert "evil.example" in markdown  # still there, as text
    assert 'href="https://evil' not in html and 'src="https://evil' not in html
    assert "<img" not in html
