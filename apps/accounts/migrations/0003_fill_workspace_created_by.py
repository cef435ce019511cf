"""Data step: a workspace's creator is taken to be its first owner. A second workspace of the
same name by the same owner keeps no creator, so that the unique constraint that follows holds."""

from django.db import migrations


def fill(apps, schema_editor):
    Workspace = apps.get_model("accounts", "Workspace")
    Membership = apps.get_model("accounts", "Membership")
    taken = set()
    for workspace in Workspace.objects.filter(created_by__isnull=True).order_by("created_at", "pk"):
        owner = (
            Membership.objects.filter(workspace=workspace, role="owner").order_by("created_at", "pk").first()
        )
        if owner is None or (owner.user_id, workspace.name.lower()) in taken:
            continue
        taken.add((owner.user_id, workspace.name.lower()))
        Workspace.objects.filter(pk=workspace.pk).update(created_by_id=owner.user_id)


def empty(apps, schema_editor):
    Workspace = apps.get_model("accounts", "Workspace")
    Workspace.objects.update(created_by=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_workspace_created_by")]

    operations = [migrations.RunPython(fill, empty)]
