import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Schema: a verdict belongs to a revision (nullable until 0003 fills it); its run is kept
    for the record and may go."""

    dependencies = [
        ("analysis", "0002_finding_category_and_suppression"),
        ("designs", "0001_initial"),
        ("security", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="checklistreview",
            name="revision",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="checklist_reviews",
                to="designs.revision",
            ),
        ),
        migrations.AlterField(
            model_name="checklistreview",
            name="run",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="checklist_reviews",
                to="analysis.analysisrun",
            ),
        ),
    ]
