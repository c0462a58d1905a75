from __future__ import annotations

from django.db import models
from django.urls import reverse

from switchyard import names


class Source(models.Model):
    """Where events come from: a catalog source type, its write keys and its
    destinations. Labels scope who may see or change it (connections.access_rules)."""

    workspace = models.ForeignKey(
        "workspace.Workspace", on_delete=models.CASCADE, related_name="sources"
    )
    slug = models.SlugField(max_length=64)
    display_name = models.CharField(max_length=100)
    # A catalog source type slug (connections.catalog); checked by the service.
    source_type = models.CharField(max_length=64, default="http-api")
    enabled = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)
    labels = models.ManyToManyField(
        "workspace.Label", through="SourceLabel", related_name="sources", blank=True
    )
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("workspace", "slug"), name="source_slug_per_workspace"),
        )
        indexes = (models.Index(fields=("workspace", "create_time", "id"), name="source_keyset"),)

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        """The source's page (Access Management links the sources a grant reaches)."""
        return reverse("connections:source", args=[self.workspace.slug, self.slug])

    @property
    def resource_name(self) -> str:
        return names.build(("workspaces", self.workspace.slug), ("sources", self.slug))

    @property
    def label_names(self) -> list[str]:
        """``["environment:prod", ...]``; uses prefetched labels when there are some."""
        return sorted(str(label) for label in self.labels.all())


class SourceLabel(models.Model):
    """A label on a source; ``key`` is copied from the label so that the database
    enforces one value per key on each source."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="source_labels")
    label = models.ForeignKey(
        "workspace.Label", on_delete=models.PROTECT, related_name="source_labels"
    )
    key = models.CharField(max_length=64)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("source", "key"), name="one_value_per_key_per_source"),
        )

    def __str__(self) -> str:
        return f"{self.source} {self.key}"


class SourceGrant(models.Model):
    """A role grant of specific sources lists them here: the grant is the
    workspace app's, the list belongs to the app that owns the resource."""

    grant = models.ForeignKey(
        "workspace.RoleGrant", on_delete=models.CASCADE, related_name="source_grants"
    )
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="grants")

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("grant", "source"), name="source_grant_once"),
        )

    def __str__(self) -> str:
        return f"{self.grant} {self.source}"


class WriteKey(models.Model):
    """A credential the tracking libraries send. Segment's write keys are not
    secrets (they ship in browser JavaScript), so the key is stored as is: the
    Tracking API looks it up on every request. Revoked keys stay for the audit
    trail and stop authenticating at once."""

    key_id = models.CharField(max_length=32, unique=True)
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="write_keys")
    secret = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True)
    create_time = models.DateTimeField(auto_now_add=True)
    revoke_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = (models.Index(fields=("source", "create_time", "id"), name="write_key_keyset"),)

    def __str__(self) -> str:
        return f"{self.key_id} ({self.source})"

    @property
    def resource_name(self) -> str:
        return f"{self.source.resource_name}/write-keys/{self.key_id}"

    @property
    def masked(self) -> str:
        return f"{self.secret[:4]}{'•' * 8}{self.secret[-4:]}"
