"""The run page built for reading: the scorecard and its chart, filters whose counts follow each
other, the diagram, and each finding's links to its evidence and its rule's page."""

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.analysis import services
from apps.analysis.models import AnalysisRun
from apps.designs.engine.model import SEVERITIES
from apps.reports.services import triage_set
from apps.reports.templatetags.workbench import POINTER_SEPARATOR, finding_text, readable_pointer
from tests.factories import make_design


@pytest.fixture
def run(owner: AbstractBaseUser, workspace: Workspace, shop_v1: str) -> AnalysisRun:
    _, revision = make_design(workspace=workspace, user=owner, document=shop_v1)
    run = services.run_start(revision=revision, user=owner, only=["traceability", "security"])
    services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def _page(client: Client, run: AnalysisRun, **query: str) -> Any:
    client.force_login(run.created_by)
    return client.get(reverse("analysis:run", args=[run.pk]), query)


def test_the_scorecard_counts_the_finding_rows_by_severity_and_analyzer(client: Client, run: AnalysisRun) -> None:
    page = _page(client, run)
    card = page.context["scorecard"]
    assert dict(card["by_severity"]) == {s: run.findings.filter(severity=s).count() for s in SEVERITIES}
    assert card["total"] == run.findings.count() > 0
    rows = {a["name"]: a for a in card["analyzers"]}
    for name in ("traceability", "security"):
        expected = [run.findings.filter(analyzer=name, severity=s).count() for s in SEVERITIES]
        assert rows[name]["counts"] == expected and rows[name]["total"] == sum(expected) > 0
    html = page.content.decode()
    high = run.findings.filter(severity="high").count()
    assert f'data-severity="high">high <strong>{high}</strong>' in html


def test_the_scorecard_says_which_analyzers_did_not_run_and_why(client: Client, run: AnalysisRun) -> None:
    html = _page(client, run).content.decode()
    not_run = html[html.index('id="analyzers-not-run"') :]
    not_run = not_run[: not_run.index("</div>")]
    for entry in run.report["analyzers"]:
        if entry["status"] != "succeeded":
            assert f"<strong>{entry['name']}</strong> ({entry['status']})" in not_run
    assert "queryplans" in not_run and "migrations" in not_run
    assert 'id="over-budget" class="muted">Not measured' in html
    assert 'id="locking-migrations" class="muted">Not reviewed' in html


def test_the_page_has_the_scorecard_chart_diagram_and_loading_indicator(client: Client, run: AnalysisRun) -> None:
    html = _page(client, run).content.decode()
    for element in ('id="scorecard"', 'id="er-diagram"', 'id="findings-loading"', 'id="over-budget"'):
        assert element in html, element
    chart = re.search(r"<svg [^>]*id=\"severity-chart\".*?</svg>", html, re.S)
    assert chart is not None
    ET.fromstring(chart.group(0))  # noqa: S314 - our own page: the chart is well-formed SVG
    diagram = re.search(r'<div id="er-diagram" class="diagram">(<svg .*?</svg>)</div>', html, re.S)
    assert diagram is not None
    tables = [e["name"] for e in run.report["traceability"]["entities"]]
    assert diagram.group(1).count('class="erd-table"') == len(tables) > 0
    relations = sum(len(e["relations"]) for e in run.report["traceability"]["entities"])
    assert len(re.findall(r'<g class="erd-edge[" ]', diagram.group(1))) == relations > 0
    assert 'hx-indicator="#findings"' in html
    assert html.index('id="scorecard"') < html.index("<h2>Analyzers</h2>") < html.index('id="er-diagram"')
    assert html.index('id="er-diagram"') < html.index('id="traceability"') < html.index('<section id="findings"')


def test_each_finding_links_to_its_evidence_line_and_its_rule_page(client: Client, run: AnalysisRun) -> None:
    page = _page(client, run)
    html = page.content.decode()
    findings = page.context["findings"]
    assert findings
    for finding in findings:
        item = html[html.index(f'id="finding-{finding.pk}"') :]
        item = item[: item.index("</li>")]
        assert f'<a class="rule-doc" href="/rules/{finding.rule_id}/"' in item
        place = finding.places[0]
        if place.get("line"):
            assert f"?line={place['line']}#L{place['line']}" in item
    # A place's JSON pointer reads as the path to it, the escaped pointer kept in its tooltip.
    with_paths = [p["pointer"] for f in findings for p in f.places if (p.get("pointer") or "").startswith("/paths/~1")]
    assert with_paths
    pointer = with_paths[0]
    readable = POINTER_SEPARATOR.join(s.replace("~1", "/") for s in pointer.split("/")[1:])
    assert f'<code class="muted" title="{pointer}">{readable}</code>' in html
    assert ">/paths/~1" not in html


def test_a_json_pointer_reads_as_the_keys_it_goes_through() -> None:
    assert readable_pointer("/paths/~1orders~1{id}/get") == POINTER_SEPARATOR.join(["paths", "/orders/{id}", "get"])
    assert readable_pointer("/components/schemas/A~0B") == POINTER_SEPARATOR.join(["components", "schemas", "A~B"])
    assert readable_pointer("design.md") == "design.md"
    assert readable_pointer("") == ""


def test_the_severity_counts_follow_the_other_filters(client: Client, run: AnalysisRun) -> None:
    open_rows = run.findings.filter(suppressed__isnull=True)
    context = _page(client, run, analyzer="traceability").context
    assert dict(context["severity_options"]) == {
        s: open_rows.filter(analyzer="traceability", severity=s).count() for s in SEVERITIES
    }
    assert sum(dict(context["severity_options"]).values()) == context["shown_count"]
    context = _page(client, run, severity="low").context
    assert dict(context["analyzer_options"]) == {
        a: open_rows.filter(analyzer=a, severity="low").count()
        for a in set(run.findings.values_list("analyzer", flat=True))
    }
    # The filter chosen counts what it would show without itself: all severities stay choosable.
    assert dict(context["severity_options"])["high"] == open_rows.filter(severity="high").count()
    rule, count = next((r, n) for r, n in context["rule_options"] if n)
    assert count == open_rows.filter(severity="low", rule_id=rule).count()


def test_a_filter_answers_the_findings_alone(client: Client, run: AnalysisRun) -> None:
    client.force_login(run.created_by)
    fragment = client.get(
        reverse("analysis:run", args=[run.pk]), {"severity": "high"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="findings"
    )
    html = fragment.content.decode()
    assert html.lstrip().startswith('<section id="findings">')
    assert 'id="scorecard"' not in html and 'id="findings-loading"' in html
    assert "scorecard" not in fragment.context and len(fragment.context["findings"]) == min(
        fragment.context["shown_count"], fragment.context["finding_limit"]
    )
    assert {f.severity for f in fragment.context["findings"]} == {"high"}


def test_stories_over_budget_and_locking_migrations_come_from_the_report(
    client: Client, run: AnalysisRun, settings: Any
) -> None:
    settings.RUN_PAGE_SCORECARD_ROWS = 1
    report = run.report
    report["queryplans"] = {
        "queries": [
            {
                "name": "q1",
                "story": "ORD-1",
                "stories": ["ORD-1"],
                "over_budget": True,
                "scaled_ms": 900.0,
                "budget_ms": 150.0,
                "endpoint": None,
            },
            {
                "name": "q2",
                "story": "ORD-1",
                "stories": ["ORD-1"],
                "over_budget": True,
                "scaled_ms": 300.0,
                "budget_ms": 150.0,
                "endpoint": "GET /v1/orders",
            },
            {
                "name": "q3",
                "story": "CAT-1",
                "stories": ["CAT-1"],
                "over_budget": False,
                "scaled_ms": 10.0,
                "budget_ms": 100.0,
                "endpoint": None,
            },
        ]
    }
    statement = {
        "sql": "ALTER TABLE orders ADD COLUMN x int DEFAULT random()",
        "table": "orders",
        "lock_level": "ACCESS EXCLUSIVE",
        "blocks": "reads and writes",
        "rows": 40_000_000,
        "risk": "high",
        "estimate_seconds": 120.0,
        "safe_alternative": "...",
    }
    small = {**statement, "table": "categories", "rows": 2000}
    brief = {**statement, "table": "payments", "blocks": "none", "lock_level": "SHARE UPDATE EXCLUSIVE"}
    index = {**statement, "table": "order_lines", "rows": 120_000_000, "risk": "low", "lock_level": "SHARE"}
    report["migrations"] = {
        "statements": [small, index, statement, brief],
        "name": "0002",
        "rollback_proven": {"proven": True, "reason": ""},
    }
    AnalysisRun.objects.filter(pk=run.pk).update(report=report)
    html = _page(client, run).content.decode()
    budget = html[html.index('<ul id="over-budget">') :]
    budget = budget[: budget.index("</ul>")]
    assert budget.count("<li>") == 1 and "<strong>ORD-1</strong>: q1" in budget and "≈ 900 ms" in budget
    assert "(2 queries over)" in budget and "CAT-1" not in budget
    locks = html[html.index('<ul id="locking-migrations">') :]
    locks = locks[: locks.index("</ul>")]
    assert locks.count("<li>") == 1 and locks.index("<code>orders</code>") < locks.index("and 1 more statement")
    assert "<code>orders</code> (40,000,000 rows): ACCESS EXCLUSIVE blocks reads and writes for ≈ 120.0 s" in locks
    assert "order_lines" not in locks  # a low risk, listed after the high one, past the scorecard's rows
    report["migrations"]["statements"] = [small, brief]  # nothing blocks a large table
    AnalysisRun.objects.filter(pk=run.pk).update(report=report)
    html = _page(client, run).content.decode()
    assert f"no statement blocks a table of {settings.RUN_PAGE_LARGE_TABLE_ROWS:,} declared rows or more" in html


@pytest.mark.parametrize(
    ("rule_id", "expected"),
    [
        ("sec.api2.http-basic", ["Why it matters", "How to fix it", "CWE-522", "security-rules.md"]),
        ("mig.breaking-change", ["migration-rules.md", "django-migration-linter"]),
        ("queryplans.spill", ["queryplans.md", "<code>work_mem</code>", 'id="rule-summary"']),
        ("mig.blocking-statement", ["migration-rules.md", 'id="rule-fix"', "<code>CONCURRENTLY</code>"]),
        ("trace.operation-without-story", ["traceability.md", "who calls it", 'id="rule-fix"']),
    ],
)
def test_a_rule_page_shows_its_documentation(
    client: Client, owner: AbstractBaseUser, rule_id: str, expected: list[str]
) -> None:
    client.force_login(owner)
    page = client.get(reverse("reports:rule", args=[rule_id]))
    assert page.status_code == 200
    html = page.content.decode()
    for text in expected:
        assert text in html, text


def test_a_rule_without_docs_says_so_and_shows_its_findings_fix(client: Client, run: AnalysisRun) -> None:
    # A rule no document names yet (an analyzer newer than its docs): its finding is all there is.
    finding = run.findings.filter(analyzer="traceability").first()
    assert finding is not None
    run.findings.filter(pk=finding.pk).update(rule_id="trace.not-written-down")
    client.force_login(run.created_by)
    page = client.get(reverse("reports:rule", args=["trace.not-written-down"]))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="rule-undocumented"' in html
    assert f'href="/runs/{run.pk}/?rule=trace.not-written-down#findings"' in html
    assert "Its fix: " + finding.fix.split("`")[0] in html


def test_an_unknown_rule_is_a_404(
    client: Client, owner: AbstractBaseUser, outsider: AbstractBaseUser, run: AnalysisRun
) -> None:
    client.force_login(owner)
    for rule_id in ("sec.api2.no-such-rule", "nothing", "views.py", "a" * 300):
        assert client.get(f"/rules/{rule_id}/").status_code == 404, rule_id
    # A rule known only from another workspace's findings is unknown to an outsider.
    run.findings.filter(pk=run.findings.first().pk).update(rule_id="trace.only-in-findings")
    assert client.get("/rules/trace.only-in-findings/").status_code == 200
    client.force_login(outsider)
    assert client.get("/rules/trace.only-in-findings/").status_code == 404
    client.logout()
    assert client.get("/rules/sec.api2.http-basic/").status_code == 302


def test_the_revision_page_draws_the_tables_its_newest_analysis_read(client: Client, run: AnalysisRun) -> None:
    client.force_login(run.created_by)
    revision = run.revision
    html = client.get(reverse("designs:revision", args=[revision.design_id, revision.number])).content.decode()
    assert 'id="er-diagram"' in html and f'href="/runs/{run.pk}/">run #{run.pk}</a>' in html
    tables = run.report["traceability"]["entities"]
    assert html.count('class="erd-table"') == len(tables) > 0
    # Before any analysis there is nothing to draw, and the page says nothing of a diagram.
    run.delete()
    html = client.get(reverse("designs:revision", args=[revision.design_id, revision.number])).content.decode()
    assert 'id="er-diagram"' not in html


def test_a_top_problem_off_this_page_links_to_its_rules_findings(
    client: Client, run: AnalysisRun, settings: Any
) -> None:
    settings.RUN_PAGE_MAX_FINDINGS = 1
    page = _page(client, run)
    shown = {f.pk for f in page.context["findings"]}
    html = page.content.decode()
    top = [f for group in page.context["top_problems"] for f in group["findings"]]
    assert any(f.pk not in shown for f in top)
    for finding in top:
        href = f"#finding-{finding.pk}" if finding.pk in shown else f"?rule={finding.rule_id}#finding-{finding.pk}"
        assert f'<a href="{href}">' in html
        target = _page(client, run, rule=finding.rule_id) if finding.pk not in shown else page
        assert finding.pk in {f.pk for f in target.context["findings"]} or target.context["pages"] > 1


def test_a_suppressed_top_problem_says_so_and_links_to_the_suppressed_list(client: Client, run: AnalysisRun) -> None:
    top = [f for group in _page(client, run).context["top_problems"] for f in group["findings"]]
    accepted = top[0]
    triage_set(finding=accepted, user=run.created_by, state="accepted_risk", reason="Tokenised by Q3")
    html = _page(client, run).content.decode()
    section = html[html.index('id="top-problems"') : html.index("<h2>Analyzers</h2>")]
    row = section[section.index(f"#finding-{accepted.pk}") :]
    row = row[: row.index("</li>")]
    assert "suppressed=1" in section[: section.index(f"#finding-{accepted.pk}")].rsplit("<a", 1)[1]
    assert '<span class="badge top-suppressed">suppressed</span>' in row
    assert section.count("top-suppressed") == 1  # the others are open


def test_a_findings_code_shows_as_code_not_as_markdown_fences(client: Client, run: AnalysisRun) -> None:
    html = _page(client, run, rule="sec.api10.unsigned-webhook").content.decode()
    findings = html[html.index('id="findings"') :]
    assert '<pre class="wrap fix-code"><code>parameters:' in findings and "```" not in findings


def test_finding_text_escapes_everything_but_its_own_code_markup() -> None:
    text = "Set `readOnly: true` on <b>status</b>:\n```yaml\nx: <y>\n```\nthen re-run."
    assert finding_text(text) == (
        "Set <code>readOnly: true</code> on &lt;b&gt;status&lt;/b&gt;:"
        '<pre class="wrap fix-code"><code>x: &lt;y&gt;</code></pre>then re-run.'
    )
    assert finding_text("a\nb") == "a<br>b"
    assert finding_text("`<script>`") == "<code>&lt;script&gt;</code>"


def _operations(count: int, *, with_story: set[int]) -> list[dict[str, Any]]:
    return [
        {
            "method": "GET",
            "path": f"/things/{i}",
            "operation_id": f"op{i}",
            "document": "design.md",
            "line": 10 + i,
            "entities": [],
            "queries": [],
            "stories": ["ORD-1"] if i in with_story else [],
        }
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("count", "with_story"),
    [
        (30, set()),  # every operation without a story: the first few listed, the rest counted
        (30, set(range(0, 30, 2))),  # every other one
        (40, set(range(20))),  # the first twenty named by stories: past the window read first
        (4, {0, 1, 2, 3}),  # none without a story
    ],
)
def test_the_page_reads_the_operations_without_a_story_as_the_whole_report_gives_them(
    client: Client, run: AnalysisRun, settings: Any, count: int, with_story: set[int]
) -> None:
    """The run page reads the stored report without the design's names and the traceability
    section's operations; what it lists of those (the first without a story, and how many more)
    is what the whole report gives."""
    settings.RUN_PAGE_MAX_TRACE_ROWS = 3  # window: the first 12 operations
    report = run.report
    report["traceability"]["endpoints"] = _operations(count, with_story=with_story)
    report["traceability"]["endpoints"][1]["stories"] = None if 1 not in with_story else ["ORD-1"]
    report["design"]["endpoints"]["names"] = [f"GET /things/{i}" for i in range(count)]
    run.save(update_fields=["report"])
    orphans = [row for row in report["traceability"]["endpoints"] if not row["stories"]]

    page = _page(client, run)
    assert [row["path"] for row in page.context["orphan_endpoints"]] == [row["path"] for row in orphans[:3]]
    assert page.context["orphan_endpoints_more"] == max(0, len(orphans) - 3)
    read = page.context["report"]
    assert "endpoints" not in read["traceability"] and "names" not in read["design"]["endpoints"]
    assert read["design"]["endpoints"]["count"] == report["design"]["endpoints"]["count"]
    assert read["traceability"]["entities"] == report["traceability"]["entities"]
    assert {k: v for k, v in read.items() if k not in ("design", "traceability")} == {
        k: v for k, v in report.items() if k not in ("design", "traceability")
    }
    html = page.content.decode()
    for row in orphans[:3]:
        assert f"GET {row['path']}</a>" in html
    if len(orphans) > 3:
        assert f"and {len(orphans) - 3} more operation" in html
    else:
        assert "more operation" not in html


def test_a_report_without_a_traceability_section_or_design_reads_as_it_is(client: Client, run: AnalysisRun) -> None:
    report = {k: v for k, v in run.report.items() if k not in ("traceability",)}
    run.report = report
    run.save(update_fields=["report"])
    page = _page(client, run)
    assert page.status_code == 200
    assert "traceability" not in page.context["report"] and "orphan_endpoints" not in page.context
