# Built concurrently: a workbench with many runs holds millions of finding rows, whose writes a
# plain CREATE INDEX would block while it builds (what the migration preview itself advises).

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("analysis", "0010_places_and_report_lz4"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="finding",
            index=models.Index(
                fields=["run", "analyzer", "rule_id", "category", "severity"],
                include=("suppressed",),
                name="finding_run_counts",
            ),
        ),
    ]
