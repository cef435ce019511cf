"""The Markdown export carries pasted text as text: no raw HTML reaches a renderer."""

import pytest
from django.test import Client
from django.urls import reverse
from markdown_it import MarkdownIt

from apps.accounts.models import Workspace
from apps.reports.engine.report import render_markdown
from tests.factories import make_design, make_finished_run
from tests.reports.test_report import _report

PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
HOSTILE = """# Shop

### S-1: Pay {payload}
As a buyer, I want to pay {payload}, so that I get my order.

Endpoints: GET /orders/{payload}

```dbml
Table orders {{
  id int [pk]
  note varchar [note: '{payload}']
}}
```
"""


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_pasted_html_is_escaped_in_the_markdown_export(payload: str) -> None:
    markdown = render_markdown(_report(HOSTILE.format(payload=payload)))
    assert payload in HOSTILE.format(payload=payload)
    assert payload not in markdown
    assert "<script" not in _html(markdown) and "<img" not in _html(markdown)
    assert "&lt;" in markdown  # still readable as text


@pytest.mark.parametrize(
    "text",
    [
        "`x` <img src=x onerror=alert(1)>",
        "\\`<img src=x onerror=alert(1)>`",
        "`a\n<script>alert(1)</script>`",
        "``<img src=x onerror=alert(1)>`",
        "a | b `|<img src=x onerror=alert(1)>|`",
    ],
)
def test_no_code_span_trick_lets_html_through(text: str) -> None:
    report = _report("# Shop\n\n### S-1: Pay\nAs a buyer, I want to pay, so that I get my order.\n")
    report["findings"][0]["title"] = text
    report["findings"][0]["message"] = text
    report["analyzers"][0]["reason"] = text
    html = _html(render_markdown(report))
    assert "<img" not in html
    assert "<script" not in html


def test_code_spans_stay_literal() -> None:
    report = _report("# Shop\n\n### S-1: Pay\nAs a buyer, I want to pay, so that I get my order.\n")
    report["findings"][0]["message"] = "use `a < b` here & there"
    markdown = render_markdown(report)
    assert "use `a < b` here &amp; there" in markdown


def test_the_markdown_export_view_escapes_pasted_html(client: Client, owner: object, workspace: Workspace) -> None:
    _, revision = make_design(workspace=workspace, user=owner, document=HOSTILE.format(payload=PAYLOADS[1]))
    run = make_finished_run(revision=revision, user=owner)
    client.force_login(owner)
    body = client.get(reverse("reports:export", args=[run.pk, "md"])).content.decode()
    assert PAYLOADS[1] not in body
    assert "<img" not in _html(body)
