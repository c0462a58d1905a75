"""Reverse ETL mappings (model -> destination) and their sync runs."""

from __future__ import annotations

from django.db import models

from connections.models import Destination
from connections.reverse_etl.models.queries import RetlModel
from workspace.models import Workspace


class RetlMapping(models.Model):
    """What a model's changed rows become and where they go: each selected change
    is a message (``services.mappings.message_for``) that ``field_mappings`` (the
    mapping kit's directives, checked against the action's fields) map onto the
    fields of ``action``, one action of ``destination``'s catalog definition."""

    class RecordSelection(models.TextChoices):
        """Segment's "Define sync behavior" for destinations without sync modes."""

        ADDED = "ADDED", "Added records"
        UPDATED = "UPDATED", "Updated records"
        ADDED_OR_UPDATED = "ADDED_OR_UPDATED", "Added or updated records"
        DELETED = "DELETED", "Deleted records"

    # Which changes (the engine's added / updated / deleted) each selection sends.
    SENDS = {
        "ADDED": frozenset({"added"}),
        "UPDATED": frozenset({"updated"}),
        "ADDED_OR_UPDATED": frozenset({"added", "updated"}),
        "DELETED": frozenset({"deleted"}),
    }

    key_id = models.CharField(max_length=32, unique=True)  # rmap_...: the URL and bookkeeping key
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="reverse_etl_mappings"
    )
    model = models.ForeignKey(RetlModel, on_delete=models.CASCADE, related_name="mappings")
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="reverse_etl_mappings"
    )
    display_name = models.CharField(max_length=100)  # defaults to the action's name
    action = models.CharField(max_length=64)  # an action key of the destination's definition
    # {action field: mapping-kit value}, reading the message: "$.properties.<column>".
    field_mappings = models.JSONField(default=dict)
    record_selection = models.CharField(
        max_length=24, choices=RecordSelection.choices, default=RecordSelection.ADDED_OR_UPDATED
    )
    enabled = models.BooleanField(default=True)
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = (
            models.Index(fields=("workspace", "create_time", "id"), name="retl_mapping_keyset"),
        )

    def __str__(self) -> str:
        return self.display_name

    @property
    def resource_name(self) -> str:
        return f"workspaces/{self.workspace.slug}/reverse-etl/mappings/{self.key_id}"


class RetlSync(models.Model):
    """One sync run of a mapping: extract -> load -> commit, each step recorded
    done so a run picked up again after a worker died goes on where it stopped."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED"
        EXTRACTING = "EXTRACTING"
        LOADING = "LOADING"
        COMMITTING = "COMMITTING"
        CANCELING = "CANCELING"
        SUCCEEDED = "SUCCEEDED"
        # Some records failed to load (retried at the next syncs, up to 5 syncs / 14 days).
        PARTIALLY_SUCCEEDED = "PARTIALLY_SUCCEEDED"
        FAILED = "FAILED"
        CANCELED = "CANCELED"

    ACTIVE = ("QUEUED", "EXTRACTING", "LOADING", "COMMITTING", "CANCELING")

    key_id = models.CharField(max_length=32, unique=True)  # rsyn_...
    mapping = models.ForeignKey(RetlMapping, on_delete=models.CASCADE, related_name="syncs")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.QUEUED)
    extract_done = models.BooleanField(default=False)
    load_done = models.BooleanField(default=False)
    commit_done = models.BooleanField(default=False)
    extract_id = models.CharField(max_length=64, blank=True, default="")
    # The load's keyset position: the last identifier whose outcome is recorded.
    load_after = models.TextField(blank=True, default="")
    # Extraction results (the docs' names).
    extracted = models.PositiveBigIntegerField(default=0)
    added = models.PositiveBigIntegerField(default=0)
    updated = models.PositiveBigIntegerField(default=0)
    deleted = models.PositiveBigIntegerField(default=0)
    duplicates = models.PositiveBigIntegerField(default=0)
    null_ids = models.PositiveBigIntegerField(default=0)
    # Load results.
    successful = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    skipped = models.PositiveBigIntegerField(default=0)  # changes the mapping does not send
    error = models.TextField(blank=True, default="")
    # Why the user canceled it (Segment asks for a reason when canceling).
    cancel_reason = models.CharField(max_length=500, blank=True, default="")
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)
    finish_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            # One run per mapping at a time, held by the database.
            models.UniqueConstraint(
                fields=("mapping",),
                condition=models.Q(
                    status__in=("QUEUED", "EXTRACTING", "LOADING", "COMMITTING", "CANCELING")
                ),
                name="retl_sync_one_active_per_mapping",
            ),
        )
        indexes = (models.Index(fields=("mapping", "create_time", "id"), name="retl_sync_keyset"),)

    def __str__(self) -> str:
        return self.key_id

    @property
    def resource_name(self) -> str:
        return f"{self.mapping.resource_name}/syncs/{self.key_id}"


class RetlSyncRecord(models.Model):
    """One record's outcome in a run: successful, or failed with why and a sample
    of the payload; ``committed`` once the snapshot took it."""

    class Outcome(models.TextChoices):
        SUCCESSFUL = "successful"
        FAILED = "failed"
        SKIPPED = "skipped"

    sync = models.ForeignKey(RetlSync, on_delete=models.CASCADE, related_name="records")
    record_id = models.TextField()
    change = models.CharField(max_length=8)  # added / updated / deleted
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.TextField(blank=True, default="")
    payload = models.JSONField(null=True, blank=True)  # a sample: the message sent
    committed = models.BooleanField(default=False)
    # A failed record given up (5 syncs or 14 days): committed all the same, so it
    # is not retried until it changes again.
    given_up = models.BooleanField(default=False)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("sync", "record_id"), name="retl_sync_record_once"),
        )

    def __str__(self) -> str:
        return f"{self.record_id}: {self.outcome}"


class RetlRecordRetry(models.Model):
    """A record of a mapping that failed to load and is retried at the next syncs
    (it stays a change, so the next extract re-reads its latest values): since
    when and at how many syncs it failed. Deleted when the record loads or is
    given up (the docs: up to 14 days or 5 syncs)."""

    mapping = models.ForeignKey(RetlMapping, on_delete=models.CASCADE, related_name="retries")
    record_id = models.TextField()
    first_failure_time = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)  # syncs at which it failed
    last_reason = models.TextField(blank=True, default="")
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("mapping", "record_id"), name="retl_retry_once"),
        )

    def __str__(self) -> str:
        return f"{self.record_id}: {self.attempts} failed sync(s)"
