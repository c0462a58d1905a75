from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One change to one resource, by a user or a token. Written by services only."""

    workspace = models.ForeignKey(
        "workspace.Workspace",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    # Kept as text too, so an entry outlives the workspace it describes.
    workspace_slug = models.CharField(max_length=64, blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_token = models.ForeignKey(
        "workspace.AccessToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    resource_type = models.CharField(max_length=64, db_index=True)
    resource_name = models.CharField(max_length=300)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    time = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-time", "-id")
        indexes = (
            models.Index(fields=("workspace", "-time", "-id"), name="audit_workspace_recent"),
        )

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.action} {self.resource_name}"
