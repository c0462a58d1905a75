"""CSV downloads of an audience's members or a trait's values (engage.md §5.6): a
snapshot of the current members, written by a Celery task into ``content`` (as
profile CSV uploads keep their file in the row), downloaded by whoever asked for it
(the file was built through their PII mask), pruned after ``KEEP_DAYS``."""

from __future__ import annotations

from django.db import models

from engage.models.computations import Computation


class ExportStatus(models.TextChoices):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    READY = "READY"
    FAILED = "FAILED"


class ExportFormat(models.TextChoices):
    FORMATTED = "formatted"  # a column per external id and per trait
    UNFORMATTED = "unformatted"  # segment_id, external_ids JSON, traits JSON


class ComputationExport(models.Model):
    computation = models.ForeignKey(Computation, on_delete=models.CASCADE, related_name="+")
    key_id = models.CharField(max_length=32, unique=True)  # exp_...
    format = models.CharField(max_length=12, choices=ExportFormat.choices)
    identifiers = models.JSONField(default=list)  # identifier types, in column order
    traits = models.JSONField(default=list)  # custom / computed trait keys, in column order
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows = models.PositiveIntegerField(default=0)  # members at the start of the run
    processed = models.PositiveIntegerField(default=0)
    content = models.TextField(blank=True, default="")
    failure = models.CharField(max_length=500, blank=True, default="")
    requested_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    create_time = models.DateTimeField(auto_now_add=True)
    finish_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = (
            models.Index(fields=("computation", "create_time"), name="computation_export_recent"),
        )

    def __str__(self) -> str:
        return self.key_id

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.rows) if self.rows else 0
