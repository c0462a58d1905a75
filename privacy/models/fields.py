"""What detection saw (the Inbox) and what an owner classified (the Inventory)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from connections.models import Source
from privacy.matching import Classification
from workspace.models import Workspace

GREEN = "GREEN"  # an owner's (or no matcher's) word: least restricted
# Matchers recommend Red or Yellow; fields are also classified (and recommended) Green.
CLASSIFICATIONS = [(c.value, c.value) for c in Classification] + [(GREEN, GREEN)]


class ObservedField(models.Model):
    """A field path seen in a source's events of one type and name: an Inbox row.

    Detection (after ingest, a delivery batch at a time) upserts one row per
    (source, path, event type, event name) and adds to its count; the Inbox shows
    the rows seen in the last 7 days, pre-classified by the matchers."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=512)  # dotted, arrays without indexes
    event_type = models.CharField(max_length=16)
    event_name = models.CharField(max_length=256, blank=True, default="")
    sample_count = models.BigIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # The recommendation when last seen: the Inventory's classification of the path,
    # else the highest of the matchers that flagged it, else GREEN.
    recommended = models.CharField(max_length=8, choices=CLASSIFICATIONS)
    matcher_id = models.CharField(max_length=64, blank=True, default="")
    # The field's value as last seen (cut short), for the Inbox and Inventory
    # detail; ``sample_user_id`` is whose it was, so a deletion regulation can
    # erase it with the user's events.
    sample = models.JSONField(null=True, blank=True)
    sample_user_id = models.CharField(max_length=256, blank=True, default="")

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("source", "path", "event_type", "event_name"), name="observed_field_once"
            ),
        )
        indexes = (
            models.Index(fields=("workspace", "last_seen"), name="observed_field_recent"),
            models.Index(fields=("workspace", "path"), name="observed_field_path"),
        )

    def __str__(self) -> str:
        return self.path


class InventoryField(models.Model):
    """A field path an owner classified: it applies to every source and event type
    of the workspace (new occurrences anywhere are classified automatically).

    ``restricted`` remembers that the field was ever Yellow or Red: marking it
    Green later does not unmask it (the docs' rule)."""

    key_id = models.CharField(max_length=32, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=512)
    classification = models.CharField(max_length=8, choices=CLASSIFICATIONS)
    restricted = models.BooleanField(default=False)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("workspace", "path"), name="inventory_field_once"),
        )
        indexes = (
            models.Index(fields=("workspace", "create_time", "id"), name="inventory_field_keyset"),
        )

    def __str__(self) -> str:
        return f"{self.path} ({self.classification})"

    @property
    def resource_name(self) -> str:
        return f"workspaces/{self.workspace.slug}/privacy/inventory/{self.key_id}"
