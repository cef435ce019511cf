import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Schema: the revision is required and one verdict per (revision, item, reviewer)."""

    dependencies = [("security", "0003_checklist_review_fill_revision")]

    operations = [
        migrations.RemoveConstraint(model_name="checklistreview", name="checklist_review_unique"),
        migrations.AlterField(
            model_name="checklistreview",
            name="revision",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="checklist_reviews",
                to="designs.revision",
            ),
        ),
        migrations.AddConstraint(
            model_name="checklistreview",
            constraint=models.UniqueConstraint(
                fields=("revision", "key", "reviewer"), name="checklist_review_unique_revision"
            ),
        ),
    ]
