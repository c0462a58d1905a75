from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class Event(models.Model):
    """A message the Tracking API accepted, as stored (``payload`` is the full
    Spec message with ``messageId``, ``receivedAt``, corrected ``timestamp``).

    The table is declaratively partitioned by day on ``received_at`` (migration
    0004 writes the DDL; connections.dataplane.event_store creates partitions
    ahead and drops expired ones). Its real primary key is (id, received_at);
    ids alone are unique too, as they come from one identity sequence. There is
    no foreign key to the source: deleting a source must not rewrite history
    partitions, and its events age out with retention.
    """

    id = models.BigAutoField(primary_key=True)
    received_at = models.DateTimeField()
    workspace_id = models.CharField(max_length=32)  # Workspace.id is a string
    source_id = models.BigIntegerField()
    message_id = models.CharField(max_length=128)
    type = models.CharField(max_length=16)
    # The track event, page or screen name: what the debugger filters on.
    event_name = models.CharField(max_length=256, blank=True, default="")
    user_id = models.CharField(max_length=256, blank=True, default="")
    anonymous_id = models.CharField(max_length=256, blank=True, default="")
    timestamp = models.DateTimeField()
    payload = models.JSONField()

    class Meta:
        managed = False
        db_table = "connections_event"

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class EventMessage(models.Model):
    """The messageIds a source sent in the last day: the Tracking API stores a
    duplicate messageId once (Segment dedupes within 24 hours)."""

    source_id = models.BigIntegerField()
    message_id = models.CharField(max_length=128)
    received_at = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("source_id", "message_id"), name="message_once"),
        )
        indexes = (models.Index(fields=("received_at",), name="event_message_age"),)

    def __str__(self) -> str:
        return self.message_id


class DeliveryBatch(models.Model):
    """The outbox between ingest and delivery: written in the transaction that
    stores the events, deleted when every destination has an outcome for them.
    A batch whose worker died is claimed again after a while (at-least-once)."""

    source_id = models.BigIntegerField()
    received_at = models.DateTimeField()
    event_ids = ArrayField(models.BigIntegerField())
    create_time = models.DateTimeField(auto_now_add=True)
    claim_time = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = (models.Index(fields=("claim_time", "id"), name="delivery_batch_claim"),)

    def __str__(self) -> str:
        return f"batch {self.pk} ({len(self.event_ids)} events)"


class PipelineCount(models.Model):
    """Per-minute counters of what happened to events, for the debugger, the
    delivery overview and metrics APIs: ingest outcomes per source (accepted, with
    the event type as reason; duplicate; dropped because the source is disabled)
    and delivery outcomes per
    destination (delivered, filtered, failed, retrying, with a reason code).
    Upserted by connections.dataplane.counters; ``destination_id`` 0 = none."""

    workspace_id = models.CharField(max_length=32)  # Workspace.id is a string
    source_id = models.BigIntegerField()
    destination_id = models.BigIntegerField(default=0)
    bucket = models.DateTimeField(help_text="the minute the events happened in")
    stage = models.CharField(max_length=16)  # ingest | delivery
    outcome = models.CharField(max_length=32)
    reason = models.CharField(max_length=64, blank=True, default="")
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("source_id", "destination_id", "bucket", "stage", "outcome", "reason"),
                name="one_counter_per_minute",
            ),
        )
        indexes = (
            models.Index(fields=("destination_id", "bucket"), name="count_destination_time"),
        )

    def __str__(self) -> str:
        return f"{self.stage}.{self.outcome}={self.count}"
