"""Calls received from third parties (webhooks), kept until the team's code handles them."""

from django.db import models


class ReceivedEvent(models.Model):
    """One call a receiving operation accepted: its validated body, kept until handled."""

    operation = models.TextField()  # the operationId (or METHOD /path) that received it
    payload = models.JSONField()
    # The delivery's Idempotency-Key, when the operation takes one: a delivery repeated with the
    # same body is kept once (the key is not signed, so another body under it is kept as well).
    delivery = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)  # set by the code that handles it

    class Meta:
        indexes = [
            models.Index(
                fields=["operation", "received_at"],
                name="inbox_unhandled",
                condition=models.Q(handled_at__isnull=True),
            ),
            models.Index(
                fields=["operation", "delivery"],
                name="inbox_delivery",
                condition=~models.Q(delivery=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation} received at {self.received_at:%Y-%m-%d %H:%M:%S}"
