"""The Markdown export's migration preview: what the safe variant could not make safe is listed."""

from apps.reports.engine.report import render_markdown
from tests.reports.test_report import _report

SECTION = {
    "notes": [],
    "renames": {"mode": "detect", "detected": []},
    "schema_diff": "",
    "name": "0001_design",
    "source": "from django.db import migrations\n",
    "forward_sql": 'ALTER TABLE "orders" ADD COLUMN "channel" text NOT NULL;',
    "rollback_sql": 'ALTER TABLE "orders" DROP COLUMN "channel";',
    "rollback_proven": {"proven": True, "reason": "applied, rolled back and applied again"},
    "statements": [],
    "safe_migration": {
        "name": "0001_design_safe",
        "source": "# NOT MADE SAFE (1)\n",
        "statements": [],
        "not_safe": ['ALTER TABLE "orders" ADD COLUMN "channel" text NOT NULL: fails <b>here</b>'],
    },
}


def test_the_markdown_lists_what_the_safe_variant_could_not_make_safe() -> None:
    report = _report("# Shop\n\n### S-1: Pay\nAs a buyer, I want to pay, so that I get my order.\n")
    report["migrations"] = SECTION
    markdown = render_markdown(report)
    assert "Not made safe by the safe variant (no mechanical safe form; do these by hand as advised):" in markdown
    line = next(line for line in markdown.splitlines() if line.startswith('- ALTER TABLE "orders" ADD COLUMN'))
    assert "<b>" not in line  # pasted text stays text
