"""Reverse ETL mappings (model -> destination) and their sync runs."""

from __future__ import annotations

from django.db import models

from connections.models import Destination
from connections.reverse_etl.models.queries import RetlModel
from workspace.models import Workspace


class RetlMapping(models.Model):
    """What a model's changed rows become and where they go: each selected change
    is one Track or Identify message built from the mapped columns, delivered to
    ``destination`` through its enabled mappings (subscriptions)."""

    class EventType(models.TextChoices):
        TRACK = "track"
        IDENTIFY = "identify"

    key_id = models.CharField(max_length=32, unique=True)  # rmap_...: the URL and bookkeeping key
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="reverse_etl_mappings"
    )
    model = models.ForeignKey(RetlModel, on_delete=models.CASCADE, related_name="mappings")
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="reverse_etl_mappings"
    )
    display_name = models.CharField(max_length=100)
    event_type = models.CharField(max_length=16, choices=EventType.choices)
    event_name = models.CharField(max_length=200, blank=True, default="")  # Track only
    # The column whose value is the message's userId ("" = the model's identifier).
    user_id_column = models.CharField(max_length=191, blank=True, default="")
    # {"properties.plan": "plan"} (Track) / {"traits.email": "email"} (Identify).
    columns = models.JSONField(default=dict)
    send_added = models.BooleanField(default=True)
    send_updated = models.BooleanField(default=True)
    send_deleted = models.BooleanField(default=False)
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
        # Some records failed to load (they are sent again at the next run).
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

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("sync", "record_id"), name="retl_sync_record_once"),
        )

    def __str__(self) -> str:
        return f"{self.record_id}: {self.outcome}"
