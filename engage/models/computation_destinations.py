"""Event destinations connected to an audience or computed trait (engage.md §5.8):
the connection's sync settings and its sync status.

What a connection has sent is a cursor over the computation's history
(``ComputationChange``): ``synced_change_id`` is the newest history row already
handed to delivery. None means the first sync (the backfill of every current
member / value) is still to be done."""

from __future__ import annotations

from django.db import models

from connections.models import Destination
from engage.models.computations import Computation


class SyncState(models.TextChoices):
    PENDING = "PENDING"  # something to send, its task queued
    SYNCING = "SYNCING"  # a task is sending
    SYNCED = "SYNCED"  # everything recorded so far was handed to delivery
    FAILED = "FAILED"  # the last sync gave up after its retries (see last_error)


DEFAULT_ENTERED = "Audience Entered"
DEFAULT_EXITED = "Audience Exited"
DEFAULT_TRAIT_EVENT = "Trait Computed"


class ComputationDestination(models.Model):
    computation = models.ForeignKey(
        Computation, on_delete=models.CASCADE, related_name="destinations"
    )
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="+")
    # SyncSettings (engage.services.computation_sync)
    send_identify = models.BooleanField(default=True)
    send_track = models.BooleanField(default=False)
    entered_event = models.CharField(max_length=200, default=DEFAULT_ENTERED)
    exited_event = models.CharField(max_length=200, default=DEFAULT_EXITED)
    trait_event = models.CharField(max_length=200, default=DEFAULT_TRAIT_EVENT)
    include_anonymous = models.BooleanField(default=False)
    # Sync status
    sync_state = models.CharField(
        max_length=8, choices=SyncState.choices, default=SyncState.PENDING
    )
    synced_change_id = models.BigIntegerField(null=True, blank=True)  # None: backfill to do
    backfill_time = models.DateTimeField(null=True, blank=True)
    last_sync_time = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)  # failed attempts in a row
    profiles_synced = models.BigIntegerField(default=0)
    messages_sent = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("computation", "destination"), name="computation_destination_once"
            ),
        )
        indexes = (
            models.Index(
                fields=("computation", "create_time", "id"), name="computation_dest_keyset"
            ),
        )

    def __str__(self) -> str:
        return f"{self.computation_id} -> {self.destination_id}"

    @property
    def backfilled(self) -> bool:
        return self.synced_change_id is not None

    @property
    def resource_name(self) -> str:
        return f"{self.computation.resource_name}/destinations/{self.destination.key_id}"
