"""Findings are stored once, as rows: drop the copy each stored report kept, and count them.

A report loses its `findings` list only when its run has exactly that many rows, so nothing is
lost; the titles the rows had cut at 500 characters are first put back whole from the report.
A run whose rows do not match (none should) keeps its list and gets the rows' count.

Reversible: going back puts the list into the report again, built from the rows in their
insertion order (the report's order), and cuts titles to 500 characters for the old column.
"""

from typing import Any

from django.db import migrations
from django.db.models.functions import Length

# The keys of a finding in the report, in the order the report builder writes them.
FINDING_KEYS = (
    "analyzer",
    "rule_id",
    "severity",
    "title",
    "message",
    "fix",
    "references",
    "fingerprint",
    "locations",
    "category",
    "cwe",
    "suppressed",
)
OLD_TITLE_LENGTH = 500


def strip_findings(apps: Any, schema_editor: Any) -> None:
    AnalysisRun = apps.get_model("analysis", "AnalysisRun")
    Finding = apps.get_model("analysis", "Finding")
    # One report at a time: a large one is tens of megabytes.
    for run_id in AnalysisRun.objects.filter(report__isnull=False).values_list("pk", flat=True).iterator():
        run = AnalysisRun.objects.only("report").get(pk=run_id)
        rows = list(Finding.objects.filter(run_id=run_id).order_by("id").only("id", "title"))
        listed = run.report.get("findings")
        if listed is not None and len(listed) == len(rows):
            cut = []
            for row, finding in zip(rows, listed, strict=True):
                if row.title != finding["title"]:
                    row.title = finding["title"]
                    cut.append(row)
            Finding.objects.bulk_update(cut, ["title"], batch_size=1000)
            del run.report["findings"]
        AnalysisRun.objects.filter(pk=run_id).update(report=run.report, finding_count=len(rows))


def restore_findings(apps: Any, schema_editor: Any) -> None:
    AnalysisRun = apps.get_model("analysis", "AnalysisRun")
    Finding = apps.get_model("analysis", "Finding")
    for run_id in AnalysisRun.objects.filter(report__isnull=False).values_list("pk", flat=True).iterator():
        run = AnalysisRun.objects.only("report").get(pk=run_id)
        if "findings" in run.report:
            continue
        rows = Finding.objects.filter(run_id=run_id).order_by("id").values_list(*FINDING_KEYS)
        run.report["findings"] = [dict(zip(FINDING_KEYS, row, strict=True)) for row in rows.iterator()]
        AnalysisRun.objects.filter(pk=run_id).update(report=run.report)
    long_titles = Finding.objects.annotate(title_length=Length("title")).filter(title_length__gt=OLD_TITLE_LENGTH)
    for row in long_titles.only("id", "title").iterator():
        Finding.objects.filter(pk=row.pk).update(title=row.title[:OLD_TITLE_LENGTH])


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0005_run_finding_count_and_whole_titles"),
    ]

    operations = [
        migrations.RunPython(strip_findings, restore_findings, elidable=False),
    ]
