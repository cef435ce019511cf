"""Every suppression a reviewer made before triage existed becomes that finding's triage:
accepted risk, with the suppression's reason, author and time (and one history entry)."""

from django.db import migrations


def forward(apps, schema_editor):
    Suppression = apps.get_model("security", "Suppression")
    Triage = apps.get_model("reports", "Triage")
    TriageChange = apps.get_model("reports", "TriageChange")
    for s in Suppression.objects.all().iterator():
        _, created = Triage.objects.get_or_create(
            design_id=s.design_id,
            fingerprint=s.fingerprint,
            defaults={
                "state": "accepted_risk",
                "reason": s.reason,
                "rule_id": s.rule_id,
                "title": s.title,
                "changed_by_id": s.created_by_id,
                "changed_at": s.created_at,
            },
        )
        if created:
            TriageChange.objects.create(
                design_id=s.design_id,
                fingerprint=s.fingerprint,
                state="accepted_risk",
                previous_state="open",
                reason=s.reason,
                changed_by_id=s.created_by_id,
                changed_at=s.created_at,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_triage_and_share_links"),
        ("security", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
