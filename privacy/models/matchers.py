from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from privacy.matching import Classification, Matcher, MatchOn, Precision
from workspace.models import Workspace


class PiiMatcher(models.Model):
    """A workspace's custom PII matcher (the defaults are data: privacy.matching.defaults)."""

    key_id = models.CharField(max_length=32, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="pii_matchers")
    name = models.CharField(max_length=100)
    classification = models.CharField(
        max_length=8, choices=[(c.value, c.value) for c in Classification]
    )
    match_on = models.CharField(max_length=8, choices=[(c.value, c.value) for c in MatchOn])
    precision = models.CharField(
        max_length=8, choices=[(c.value, c.value) for c in Precision], default=Precision.EXACT.value
    )
    pattern = models.TextField(blank=True)
    synonyms = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                "workspace", Lower("name"), name="pii_matcher_name_unique_per_workspace"
            ),
        )
        indexes = (
            models.Index(fields=("workspace", "create_time", "id"), name="pii_matcher_keyset"),
        )

    def __str__(self) -> str:
        return self.name

    @property
    def resource_name(self) -> str:
        return f"workspaces/{self.workspace.slug}/pii-matchers/{self.key_id}"

    def as_matcher(self) -> Matcher:
        return Matcher(
            id=self.key_id,
            name=self.name,
            classification=Classification(self.classification),
            match_on=MatchOn(self.match_on),
            precision=Precision(self.precision),
            synonyms=tuple(self.synonyms),
            pattern=self.pattern,
            enabled=self.enabled,
        )
