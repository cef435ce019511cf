"""Calls received from third parties (webhooks), kept until the team's code handles them."""

from django.db import models


class ReceivedEvent(models.Model):
    """One call a receiving operation accepted: its validated body, kept until handled."""

    operation = models.TextField()  # the operationId (or METHOD /path) that received it
    payload = models.JSONField()
    # The delivery's Idempotency-Key, when the operation takes one: a repeated delivery is kept once.
    delivery = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)  # set by the code that handles it

    class Meta:
        indexes = [
            models.Index(
                fields=["operation", "received_at"],
                name="inbox_unhandled",
                condition=models.Q(handled_at__isnull=True),
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "delivery"],
                condition=~models.Q(delivery=""),
                name="inbox_one_delivery",
            )
        ]

    def __str__(self) -> str:
        return f"{self.operation} received at {self.received_at:%Y-%m-%d %H:%M:%S}"
