from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Delivery(models.Model):
    """What happened to one event at one destination through one mapping
    (subscription), when it was sent: delivered, retrying or failed.

    - *delivered*: a retry that succeeded is deleted; what a batch delivered at
      the first attempt never gets a row (DeliveryProgress tells a re-run what to
      skip). The counters (PipelineCount) keep the history.
    - *retrying* rows carry the mapped ``payload`` and ``next_attempt_at``; the
      retry task claims them (``claim_time``) and sends the payload again, with
      the same messageId.
    - *failed* rows keep the error code (the integration error codes: for example
      ``errors.discarded.400``), the request and an excerpt of the response, for
      the delivery overview's drill-down; they age out with the event retention.

    Events filtered out (filters, integrations object, no matching mapping) get no
    row, only a counter.
    """

    class Status(models.TextChoices):
        DELIVERED = "delivered"
        RETRYING = "retrying"
        FAILED = "failed"

    workspace_id = models.CharField(max_length=32)  # Workspace.id is a string
    source_id = models.BigIntegerField()
    destination = models.ForeignKey(
        "connections.Destination", on_delete=models.CASCADE, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        "connections.Subscription", on_delete=models.CASCADE, related_name="deliveries"
    )
    # The event (no foreign key: the event table is partitioned and ages out).
    event_id = models.BigIntegerField()
    event_received_at = models.DateTimeField()
    message_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=16, blank=True, default="")
    event_name = models.CharField(max_length=256, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices)
    attempts = models.PositiveIntegerField(default=0)
    code = models.CharField(max_length=64, blank=True, default="")
    message = models.TextField(blank=True, default="")
    payload = models.JSONField(null=True, blank=True, help_text="kept while retrying")
    request = models.JSONField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_time = models.DateTimeField(null=True, blank=True)
    create_time = models.DateTimeField(default=timezone.now)
    update_time = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("event_id", "destination", "subscription"), name="one_delivery_per_mapping"
            ),
        )
        indexes = (
            models.Index(
                fields=("destination", "status", "-update_time"), name="delivery_drilldown"
            ),
            models.Index(
                fields=("next_attempt_at",),
                condition=Q(status="retrying"),
                name="delivery_due_retries",
            ),
            models.Index(fields=("update_time",), name="delivery_age"),
        )
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.message_id} -> {self.destination_id}: {self.status}"


class DeliveryProgress(models.Model):
    """Which events of an outbox batch one mapping has already delivered: one row
    per chunk sent, not per event. A re-run of the batch (its worker died) skips
    them; the rows go with the batch."""

    batch_id = models.BigIntegerField()
    destination_id = models.BigIntegerField()
    subscription_id = models.BigIntegerField()
    event_ids = ArrayField(models.BigIntegerField())

    class Meta:
        indexes = (models.Index(fields=("batch_id",), name="delivery_progress_batch"),)
        verbose_name_plural = "delivery progress"

    def __str__(self) -> str:
        return f"batch {self.batch_id}: {len(self.event_ids)} delivered"
