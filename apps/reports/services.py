"""Exports of a stored report, the triage of findings and share links."""

import contextlib
import ipaddress
import json
import os
import secrets
import signal
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from apps.analysis.models import AnalysisRun, Finding
from apps.designs.engine.model import SEVERITIES
from apps.designs.models import Design
from apps.reports.engine.report import render_markdown, render_sarif
from apps.reports.models import (
    WAIVING_STATES,
    ShareLink,
    ShareView,
    Triage,
    TriageChange,
    TriageState,
    token_hash,
)
from apps.reports.selectors import report_review_get
from apps.security.services import suppression_create, suppression_delete
from workbench.validators import require_storable

# The JSON Schema every JSON export follows (served at /reports/report.schema.json).
REPORT_SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "report.schema.json"
EXPORT_FORMATS = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "sarif": "application/sarif+json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


def indented_json(data: Any) -> str:
    """What `json.dumps(data, indent=2, ensure_ascii=False)` and a newline write, through orjson: the
    standard library's encoder falls back to pure Python when it indents, which cost more than the
    whole analysis of a large specification. The text is the same but for numbers that only a
    float's exponent form writes (1e-7 here, 1e-07 there) and NaN, which is no JSON and is written
    null; what orjson refuses (integers past 64 bits, keys that are not strings) goes through json."""
    try:
        return orjson.dumps(data, option=_INDENTED).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def indented_json_bytes(data: Any) -> bytes:
    """`indented_json`'s text encoded in UTF-8, as orjson writes it: a large specification's report
    is tens of megabytes, which a file or a response would otherwise decode into text only to
    encode it again."""
    try:
        return orjson.dumps(data, option=_INDENTED)
    except (TypeError, orjson.JSONEncodeError):
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def _with_review(report: dict[str, Any], review: dict[str, Any] | None) -> dict[str, Any]:
    return report if review is None else {**report, "review": review}


def report_render(*, report: dict[str, Any], fmt: str, review: dict[str, Any] | None = None) -> str:
    """The report as text in `fmt`; with `review` (see `selectors.report_review_get`), the
    review of a stored run is part of it (the JSON's `review`, the Markdown's triage and
    verdicts, SARIF's suppressions)."""
    report = _with_review(report, review)
    if fmt == "json":
        return indented_json(report)
    if fmt == "md":
        return render_markdown(report)
    if fmt == "sarif":
        return indented_json(render_sarif(report))
    if fmt == "html":
        return report_html(report=report)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")


def report_export(*, report: dict[str, Any], fmt: str, review: dict[str, Any] | None = None, title: str = "") -> bytes:
    """`report_render`'s text in UTF-8, for a file or a download: the JSON formats come as the
    encoder writes them, never made into text; PDF is printed from the HTML."""
    report = _with_review(report, review)
    if fmt == "json":
        return indented_json_bytes(report)
    if fmt == "sarif":
        return indented_json_bytes(render_sarif(report))
    if fmt == "pdf":
        return html_to_pdf(report_html(report=report, title=title))
    if fmt == "html":
        return report_html(report=report, title=title).encode()
    return report_render(report=report, fmt=fmt).encode()


# --- HTML and PDF -------------------------------------------------------------------------------

_CHART_COLOURS = {"critical": "#912018", "high": "#d92d20", "medium": "#dc6803", "low": "#2f5bd3", "info": "#98a2b3"}
_REVIEW_LABELS = {"pass": "Pass", "fail": "Fail", "needs_review": "Needs review", "not_applicable": "Not applicable"}


class ExportFailed(Exception):
    """The PDF could not be printed (Chromium missing, failed or too slow)."""


def report_document_context(
    *,
    report: dict[str, Any],
    findings: list[dict[str, Any]],
    title: str = "",
    counts: Mapping[tuple[str, str], int] | None = None,
) -> dict[str, Any]:
    """What `reports/_report_body.html` shows: the report (with its `review`, when present) and
    `findings`, the ones to list (all, a capped head, or a page), each with its triage. `counts`
    are the findings by (severity, analyzer) (by default counted from the report's)."""
    review = report.get("review")
    labels = dict(TriageState.choices)
    triage = {
        t["fingerprint"]: {**t, "label": labels.get(t["state"], t["state"])} for t in (review or {}).get("triage", [])
    }
    by_fingerprint = {f["fingerprint"]: f for f in report["findings"]}
    places = settings.RUN_PAGE_MAX_PLACES

    def shown(f: dict[str, Any]) -> dict[str, Any]:
        locations = f.get("locations") or []
        return {
            **f,
            "triage": triage.get(f["fingerprint"]),
            "places": locations[:places],
            "more_places": max(0, f.get("location_count", len(locations)) - min(places, len(locations))),
        }

    # In severity order (a report read back from jsonb has its keys in another order).
    stored = report["summary"]["by_severity"]
    by_severity = {s: stored.get(s, 0) for s in SEVERITIES} | stored
    most = max(by_severity.values(), default=0) or 1
    chart = [
        {
            "severity": s,
            "count": n,
            "y": 4 + i * 20,
            "y_text": 15 + i * 20,
            "width": round(280 * n / most),
            "x_count": 76 + round(280 * n / most),
            "colour": _CHART_COLOURS.get(s, "#98a2b3"),
        }
        for i, (s, n) in enumerate(by_severity.items())
    ]
    if counts is None:
        counts = Counter((f["severity"], f["analyzer"]) for f in report["findings"])
    analyzers = sorted({a for _, a in counts})
    verdicts: dict[str, list[dict[str, Any]]] = {}
    for v in (review or {}).get("checklist", []):
        verdicts.setdefault(v["key"], []).append({**v, "status_label": _REVIEW_LABELS.get(v["status"], v["status"])})
    checklist = [
        {
            **item,
            "status_label": _REVIEW_LABELS.get(item["status"], item["status"]),
            "verdicts": verdicts.get(item["key"], []),
        }
        for item in (report.get("security") or {}).get("checklist") or []
    ]
    present = Counter(t["state"] for t in triage.values() if t.get("present"))
    return {
        "title": title,
        "report": report,
        "review": review,
        "severity_counts": list(by_severity.items()),
        "chart": chart,
        "chart_height": 8 + 20 * len(chart),
        "top": [
            {
                "by": group["by"],
                "name": group["name"],
                "findings": [shown(by_fingerprint[fp]) for fp in group["findings"] if fp in by_fingerprint],
            }
            for group in report["summary"].get("top") or []
        ],
        "checklist": checklist,
        "triage_counts": [(label, present.get(state, 0)) for state, label in TriageState.choices if state != "open"],
        "grouped_analyzers": analyzers,
        "grouped_counts": [
            (s, [counts.get((s, a), 0) for a in analyzers])
            for s in by_severity
            if any(counts.get((s, a)) for a in analyzers)
        ],
        "findings": [shown(f) for f in findings],
    }


def _report_css() -> str:
    path = finders.find("css/reports.css")
    return Path(path).read_text(encoding="utf-8").replace("</", "<\\/") if path else ""


def report_html(*, report: dict[str, Any], title: str = "") -> str:
    """The report as one self-contained HTML file: its CSS inline, its chart an inline SVG, no
    reference to anything outside it; print-friendly. At most REPORT_HTML_MAX_FINDINGS findings
    are listed, and the file says so when there are more."""
    cap = settings.REPORT_HTML_MAX_FINDINGS
    context = report_document_context(report=report, findings=report["findings"][:cap], title=title)
    context["capped"] = len(report["findings"]) > cap
    context["css"] = _report_css()
    return render_to_string("reports/export.html", context)


# The namespace of the PostgreSQL advisory locks that are the PDF print slots (b"PDF").
PDF_LOCK_CLASS = 0x504446


@contextlib.contextmanager
def pdf_slot() -> Iterator[None]:
    """One of REPORT_PDF_MAX_CONCURRENT print slots, held while Chromium prints: each print is a
    browser of its own for up to REPORT_PDF_TIMEOUT_SECONDS, so any member asking for many at
    once would otherwise start as many. A slot is a PostgreSQL advisory lock (the bound holds
    across the server's processes); when all are taken, ExportFailed says so."""
    slots = max(1, settings.REPORT_PDF_MAX_CONCURRENT)
    with connection.cursor() as cursor:
        for slot in range(slots):
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [PDF_LOCK_CLASS, slot])
            if cursor.fetchone()[0]:
                break
        else:
            raise ExportFailed(
                f"{slots} PDF export{'s are' if slots > 1 else ' is'} being printed already "
                "(REPORT_PDF_MAX_CONCURRENT); try again in a minute."
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [PDF_LOCK_CLASS, slot])


def html_to_pdf(html: str) -> bytes:
    """The HTML printed to PDF by headless Chromium, in a temporary directory, with an almost
    empty environment and REPORT_PDF_TIMEOUT_SECONDS to finish. The HTML is ours (escaped) and
    refers to nothing outside itself."""
    chromium = settings.REPORT_CHROMIUM
    if not Path(chromium).is_file():
        raise ExportFailed(f"PDF export needs Chromium at {chromium} (REPORT_CHROMIUM); it is not installed.")
    with tempfile.TemporaryDirectory(prefix="report-pdf-") as tmp:
        source, target = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        source.write_text(html, encoding="utf-8")
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        environment = {"HOME": tmp, "PATH": "/usr/bin:/bin", "TMPDIR": tmp, "LANG": "C.UTF-8"}
        # Its own process group, so that a timeout ends Chromium's helpers as well as Chromium.
        process = subprocess.Popen(  # noqa: S603 (our own command line, no shell)
            command,
            env=environment,
            cwd=tmp,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            returncode = process.wait(timeout=settings.REPORT_PDF_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise ExportFailed(
                f"Printing the PDF took longer than {settings.REPORT_PDF_TIMEOUT_SECONDS} s (REPORT_PDF_TIMEOUT_SECONDS)."
            ) from None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # helpers left behind by a finished print
        if not target.is_file() or not target.read_bytes().startswith(b"%PDF"):
            raise ExportFailed(f"Chromium printed no PDF (exit {returncode}).")
        return target.read_bytes()


# --- Triage -------------------------------------------------------------------------------------


@transaction.atomic
def triage_set(*, finding: Finding, user: AbstractBaseUser, state: str, reason: str) -> Triage:
    """Set a finding's triage for its design (by fingerprint, so later revisions' runs carry it).

    Accepted risk and false positive are the design's suppression of the finding: the
    `Suppression` is made (or remade with the new reason), and every run's finding with that
    fingerprint is marked `suppressed`; open and fixed lift it. Every change is kept in the
    history (`TriageChange`)."""
    if state not in TriageState.values:
        raise ValidationError({"state": f"State must be one of {', '.join(TriageState.values)}."})
    reason = require_storable(reason, field="reason", label="reason").strip()
    if state != TriageState.OPEN and not reason:
        raise ValidationError({"reason": "Say why (the reason stays visible with the triage); only open needs none."})
    if len(reason) > 2000:
        raise ValidationError({"reason": "The reason is longer than 2,000 characters; shorten it."})
    design = finding.run.revision.design
    # Triage changes of one design are made one at a time (two people saving the same finding at
    # once would otherwise both create its row): the design's row is the lock.
    Design.objects.select_for_update().filter(pk=design.pk).first()
    previous = Triage.objects.filter(design=design, fingerprint=finding.fingerprint).first()
    previous_state = previous.state if previous else TriageState.OPEN
    now = timezone.now()
    triage, _ = Triage.objects.update_or_create(
        design=design,
        fingerprint=finding.fingerprint,
        defaults={
            "state": state,
            "reason": reason,
            "rule_id": finding.rule_id[:100],
            "title": finding.title[:500],
            "run": finding.run,
            "changed_by": user,
            "changed_at": now,
        },
    )
    TriageChange.objects.create(
        design=design,
        fingerprint=finding.fingerprint,
        state=state,
        previous_state=previous_state,
        reason=reason,
        run=finding.run,
        changed_by=user,
        changed_at=now,
    )
    # The suppression follows the state: lifted first so that a new reason reaches every marker.
    suppression_delete(finding=finding)
    if state in WAIVING_STATES:
        suppression_create(finding=finding, user=user, reason=reason)
    return triage


# --- Share links --------------------------------------------------------------------------------


@transaction.atomic
def share_link_create(
    *, run: AnalysisRun, user: AbstractBaseUser, days: str | int, anonymise: bool
) -> tuple[ShareLink, str]:
    """A new link to the run's report, and its token (shown once; only its SHA-256 is kept). A run
    has at most SHARE_LINKS_MAX_PER_RUN links, revoked and expired ones included until deleted."""
    most = settings.SHARE_LINK_MAX_DAYS
    try:
        count = int(str(days).strip())
    except ValueError:
        count = 0
    if not 1 <= count <= most:
        raise ValidationError({"days": f"Choose an expiry of 1 to {most} days (SHARE_LINK_MAX_DAYS)."})
    if run.report is None:
        raise ValidationError({"run": "This run has no report yet; share it once it has finished."})
    # The run's row is the lock: two links made at once are counted one after the other.
    AnalysisRun.objects.select_for_update().filter(pk=run.pk).values_list("pk", flat=True).first()
    if ShareLink.objects.filter(run=run).count() >= settings.SHARE_LINKS_MAX_PER_RUN:
        raise ValidationError(
            {
                "run": f"This run has {settings.SHARE_LINKS_MAX_PER_RUN} share links already "
                "(SHARE_LINKS_MAX_PER_RUN); delete one you no longer need first."
            }
        )
    token = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(
        run=run,
        token_hash=token_hash(token),
        anonymise=bool(anonymise),
        expires_at=timezone.now() + timedelta(days=count),
        created_by=user,
    )
    return link, token


def share_link_revoke(*, link: ShareLink) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])


def share_link_delete(*, link: ShareLink) -> None:
    """The link and its view log (CASCADE)."""
    link.delete()


def share_view_log(*, link: ShareLink, address: str | None) -> ShareView | None:
    """Logs an opening of the link, up to SHARE_LINK_MAX_LOGGED_VIEWS of them: anyone holding the
    link opens it, and each opening would otherwise be one more row, without end."""
    if ShareView.objects.filter(link=link).count() >= settings.SHARE_LINK_MAX_LOGGED_VIEWS:
        return None
    try:
        ipaddress.ip_address(address or "")
    except ValueError:
        address = None
    return ShareView.objects.create(link=link, address=address)


def run_export(*, run: AnalysisRun, report: dict[str, Any], fmt: str) -> bytes:
    """A stored run's report in `fmt` with its review, as the run page's links and the API give it
    (a PDF in one of the print slots); ExportFailed when it cannot be made."""
    with pdf_slot() if fmt == "pdf" else contextlib.nullcontext():
        return report_export(report=report, fmt=fmt, review=report_review_get(run=run), title=run.revision.design.name)
