"""Spaces: an Engage/Unify container of profiles, with its own identity rules,
connected sources, labels (what space roles can be scoped by) and API tokens."""

from __future__ import annotations

from django.db import models

from connections.models import Source
from workspace.models import Workspace


class Space(models.Model):
    key_id = models.CharField(max_length=32, unique=True)  # spa_...
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="spaces")
    slug = models.SlugField(max_length=64)  # immutable: the space's URL
    display_name = models.CharField(max_length=100)
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)
    # A deletion request starts the documented grace period (5 calendar days,
    # cancellable); a Celery task removes the space's data once it is over.
    delete_time = models.DateTimeField(null=True, blank=True)
    # The connection policy: ["environment:dev", ...], labels a source must carry
    # to connect (Segment: "only sources labelled Dev connect to this space").
    required_labels = models.JSONField(default=list, blank=True)
    # Batch audiences and traits are computed every this many hours (Segment: 8).
    batch_cadence_hours = models.PositiveSmallIntegerField(default=8)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("workspace", "slug"), name="space_slug_per_workspace"),
        )
        indexes = (models.Index(fields=("workspace", "create_time", "id"), name="space_keyset"),)

    def __str__(self) -> str:
        return self.display_name

    @property
    def resource_name(self) -> str:
        return f"workspaces/{self.workspace.slug}/spaces/{self.slug}"

    @property
    def label_names(self) -> list[str]:
        """``["environment:prod", ...]``; uses prefetched labels when there are some."""
        return sorted(str(row.label) for row in self.space_labels.all())


class SpaceLabel(models.Model):
    """A label on a space (one value per key), as sources carry theirs."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="space_labels")
    label = models.ForeignKey("workspace.Label", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=64)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("space", "key"), name="one_value_per_key_per_space"),
        )

    def __str__(self) -> str:
        return f"{self.space} {self.key}"


class SpaceGrant(models.Model):
    """The spaces a specific-spaces role grant lists (the grant is the workspace app's)."""

    # The grants service reads a grant's listed spaces through this accessor.
    grant = models.ForeignKey(
        "workspace.RoleGrant", on_delete=models.CASCADE, related_name="space_grants"
    )
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="grants")

    class Meta:
        constraints = (models.UniqueConstraint(fields=("grant", "space"), name="space_grant_once"),)

    def __str__(self) -> str:
        return f"{self.grant} {self.space}"


class SpaceSource(models.Model):
    """A source connected to a space: its events build the space's profiles."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="space_sources")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    create_time = models.DateTimeField(auto_now_add=True)
    # The replay of the source's stored events into the space (backfill), if asked.
    replay_status = models.CharField(max_length=16, blank=True, default="")
    replayed = models.BigIntegerField(default=0)
    # Where the replay got to, so the sweep can queue it again from there when its
    # task message was lost or its worker died: its window, the last event applied
    # (keyset on (received_at, id)), when a chunk last committed, how many times
    # the sweep restarted it without progress, and why it failed (status FAILED).
    replay_since = models.DateTimeField(null=True, blank=True)
    replay_until = models.DateTimeField(null=True, blank=True)
    replay_after_time = models.DateTimeField(null=True, blank=True)
    replay_after_id = models.BigIntegerField(null=True, blank=True)
    replay_progress_time = models.DateTimeField(null=True, blank=True)
    replay_restarts = models.PositiveSmallIntegerField(default=0)
    replay_failure = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("space", "source"), name="space_source_once"),
        )

    def __str__(self) -> str:
        return f"{self.space} <- {self.source_id}"


class SpaceToken(models.Model):
    """A Profile API access token of a space: HTTP Basic username, shown once;
    only its SHA-256 is stored."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="tokens")
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    create_time = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoke_time = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}…"
