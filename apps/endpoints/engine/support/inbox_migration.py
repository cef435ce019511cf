"""The inbox app's table (inbox_models.py), as Django's makemigrations writes it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ReceivedEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("operation", models.TextField()),
                ("payload", models.JSONField()),
                ("delivery", models.TextField(blank=True, default="")),
                ("received_at", models.DateTimeField(auto_now_add=True)),
                ("handled_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("handled_at__isnull", True)),
                        fields=["operation", "received_at"],
                        name="inbox_unhandled",
                    ),
                    models.Index(
                        condition=models.Q(("delivery", ""), _negated=True),
                        fields=["operation", "delivery"],
                        name="inbox_delivery",
                    ),
                ],
            },
        ),
    ]
