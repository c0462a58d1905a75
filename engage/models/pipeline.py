"""The feed's queue: delivery batches observed for a space, waiting to be resolved
in order (the first event id of a batch is its place in the source's stream)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from engage.models.spaces import Space


class PendingBatch(models.Model):
    """A batch of a connected source's events (references, not payloads) that the
    space's identity graph has not taken in yet; deleted in the transaction that
    resolves it, so a worker that dies leaves it for the next drain."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    source_id = models.BigIntegerField()
    received_at = models.DateTimeField()  # the batch's one event store partition
    event_ids = ArrayField(models.BigIntegerField())
    first_event_id = models.BigIntegerField()
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = (
            models.Index(
                fields=("space", "source_id", "first_event_id"), name="pending_batch_order"
            ),
        )

    def __str__(self) -> str:
        return f"{self.space_id} <- {self.source_id} ({len(self.event_ids)} events)"
