from django.db import migrations


def fill(apps, schema_editor):
    """Each verdict takes its run's revision; where one reviewer judged the same item on several
    runs of a revision, the newest verdict stays (it is what they saw last)."""
    ChecklistReview = apps.get_model("security", "ChecklistReview")
    kept: set[tuple[int, str, int]] = set()
    for review in ChecklistReview.objects.select_related("run").order_by("-updated_at", "-id"):
        identity = (review.run.revision_id, review.key, review.reviewer_id)
        if identity in kept:
            review.delete()
            continue
        kept.add(identity)
        review.revision_id = review.run.revision_id
        review.save(update_fields=["revision"])


class Migration(migrations.Migration):
    # Not reversible as data: the older duplicates are gone. Going back leaves the revision unused.
    dependencies = [("security", "0002_checklist_review_revision")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
