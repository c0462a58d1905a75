"""End users' deletion and suppression requests (Segment's Regulations)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from workspace.models import Workspace


class RegulationType(models.TextChoices):
    SUPPRESS_WITH_DELETE = "SUPPRESS_WITH_DELETE"
    SUPPRESS_WITH_DELETE_INTERNAL = "SUPPRESS_WITH_DELETE_INTERNAL"
    DELETE_ONLY = "DELETE_ONLY"
    DELETE_INTERNAL = "DELETE_INTERNAL"
    SUPPRESS_ONLY = "SUPPRESS_ONLY"
    UNSUPPRESS = "UNSUPPRESS"


class SubjectType(models.TextChoices):
    USER_ID = "USER_ID"
    OBJECT_ID = "OBJECT_ID"


class RegulationStatus(models.TextChoices):
    INITIALIZED = "INITIALIZED"
    INVALID = "INVALID"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    RUNNING = "RUNNING"
    PARTIAL_SUCCESS = "PARTIAL_SUCCESS"
    FAILED = "FAILED"
    FINISHED = "FINISHED"


class Regulation(models.Model):
    key_id = models.CharField(max_length=32, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    regulation_type = models.CharField(max_length=32, choices=RegulationType.choices)
    subject_type = models.CharField(max_length=16, choices=SubjectType.choices)
    subject_ids = ArrayField(models.CharField(max_length=256))
    status = models.CharField(
        max_length=16, choices=RegulationStatus.choices, default=RegulationStatus.INITIALIZED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    create_time = models.DateTimeField(auto_now_add=True)
    # When processing last started: a RUNNING regulation whose worker died is
    # queued again by the sweep once this is old enough.
    start_time = models.DateTimeField(null=True, blank=True)
    finish_time = models.DateTimeField(null=True, blank=True)
    # What processing did, per store ({"events": 12, ...}), and why it failed.
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True, default="")

    class Meta:
        indexes = (
            models.Index(fields=("workspace", "create_time", "id"), name="regulation_keyset"),
        )

    def __str__(self) -> str:
        return f"{self.regulation_type} {self.key_id}"

    @property
    def resource_name(self) -> str:
        return f"workspaces/{self.workspace.slug}/regulations/{self.key_id}"


class SuppressedUser(models.Model):
    """A userId whose new events the Tracking API drops, until an UNSUPPRESS."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user_id = models.CharField(max_length=256)
    regulation = models.ForeignKey(Regulation, on_delete=models.CASCADE, related_name="+")
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("workspace", "user_id"), name="suppressed_user_once"),
        )

    def __str__(self) -> str:
        return self.user_id
