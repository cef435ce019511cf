"""A rule's documentation, read from the docs' Markdown by its id."""

from pathlib import Path

from apps.reports.engine.charts import severity_chart
from apps.reports.engine.rules_docs import documented_rule_ids, inline_html, is_rule_id, rule_doc

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOCUMENTS = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}


def test_a_security_rule_has_its_entry_from_the_rules_table() -> None:
    doc = rule_doc("sec.api2.http-basic", DOCUMENTS)
    assert doc.document == "security-rules.md" and doc.section == "Rules"
    assert dict(doc.fields)["CWE"] == "CWE-522"
    assert dict(doc.fields)["what it finds"] == "HTTP Basic authentication"
    assert any("owasp:api2:2023-no-http-basic" in m.text for m in doc.mentions)


def test_a_migration_rule_has_its_entry_and_the_places_the_docs_mention_it() -> None:
    doc = rule_doc("mig.breaking-change", DOCUMENTS)
    assert doc.document == "migration-rules.md" and dict(doc.fields)["severity"] == "medium"
    assert "expand/contract" in dict(doc.fields)["how to fix it"]
    assert {m.section for m in doc.mentions} == {"Compared with django-migration-linter"}


def test_a_query_plan_rule_has_its_entry() -> None:
    doc = rule_doc("queryplans.spill", DOCUMENTS)
    assert doc.document == "queryplans.md" and "work_mem" in dict(doc.fields)["fires when"]


def test_an_unknown_rule_is_not_documented() -> None:
    assert not rule_doc("sec.nothing.like-this", DOCUMENTS).documented
    assert "sec.nothing.like-this" not in documented_rule_ids(DOCUMENTS)
    assert "sec.api4.no-429" in documented_rule_ids(DOCUMENTS)
    assert not any(i.endswith(".py") for i in documented_rule_ids(DOCUMENTS))


def test_rule_ids_are_checked_and_pipes_in_code_stay_in_their_cell() -> None:
    assert is_rule_id("sec.api2.http-basic") and not is_rule_id("../etc/passwd") and not is_rule_id("views.py")
    text = "## R\n\n| rule | what |\n| --- | --- |\n| `x.a-b` | reads `a | b` here |\n"
    assert dict(rule_doc("x.a-b", {"d.md": text}).fields) == {"what": "reads `a | b` here"}


def test_inline_markdown_is_escaped_html() -> None:
    html = inline_html('a `<b>` **c** [d](https://e.example/?x="1") <i>')
    assert html == (
        'a <code>&lt;b&gt;</code> <strong>c</strong> <a href="https://e.example/?x=&quot;1&quot;">d</a> &lt;i&gt;'
    )
    assert "<a" not in inline_html("[x](javascript:alert(1))")


def test_the_severity_chart_has_a_bar_per_severity_in_proportion() -> None:
    import xml.etree.ElementTree as ET

    svg = severity_chart([("critical", 0), ("high", 10), ("low", 5)])
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    bars = {
        g.get("class").split()[1]: int(next(g.iter("{http://www.w3.org/2000/svg}rect")).get("width"))
        for g in root.iter("{http://www.w3.org/2000/svg}g")
    }
    assert root.get("id") == "severity-chart"
    assert bars == {"sev-critical": 0, "sev-high": 260, "sev-low": 130}
