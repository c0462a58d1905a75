"""Profiles CSV uploads: the file, its validation errors, and how far applying it got."""

from __future__ import annotations

from django.db import models

from engage.models.spaces import Space


class UploadStatus(models.TextChoices):
    VALIDATING = "VALIDATING"
    INVALID = "INVALID"  # nothing applied: the whole file is checked first
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # stopped: rows up to ``processed`` applied, the rest not (``failure``)


class CsvUpload(models.Model):
    """One uploaded CSV of profiles. ``content`` holds the file (UTF-8 text) until it
    is applied or refused; ``errors`` the per-row validation errors (bounded),
    ``error_count`` all of them; ``processed`` counts rows applied so far."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    key_id = models.CharField(max_length=32, unique=True)  # csv_...
    file_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    content = models.TextField(blank=True, default="")
    columns = models.JSONField(default=list)
    status = models.CharField(
        max_length=12, choices=UploadStatus.choices, default=UploadStatus.VALIDATING
    )
    rows = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # [{"row": n, "message": ...}]
    error_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    create_time = models.DateTimeField(auto_now_add=True)
    finish_time = models.DateTimeField(null=True, blank=True)
    # Why a FAILED upload stopped (shown in the Update History).
    failure = models.CharField(max_length=500, blank=True, default="")
    # When a run last started or committed a chunk, and how many times the sweep
    # queued it again since it last made progress (a lost message, a dead worker).
    progress_time = models.DateTimeField(null=True, blank=True)
    restarts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = (models.Index(fields=("space", "create_time", "id"), name="csv_upload_recent"),)

    def __str__(self) -> str:
        return self.file_name
