from __future__ import annotations

from django.db import models

from switchyard.api import names


class Source(models.Model):
    """Where events come from. Minimal for now: the connections issue grows it
    (source types, write keys, settings); access control already applies."""

    workspace = models.ForeignKey(
        "workspace.Workspace", on_delete=models.CASCADE, related_name="sources"
    )
    slug = models.SlugField(max_length=64)
    display_name = models.CharField(max_length=100)
    labels = models.ManyToManyField(
        "workspace.Label", through="SourceLabel", related_name="sources", blank=True
    )
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("workspace", "slug"), name="source_slug_per_workspace"),
        )
        indexes = (models.Index(fields=("workspace", "create_time", "id"), name="source_keyset"),)

    def __str__(self) -> str:
        return self.display_name

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
