"""A Reverse ETL model: the SQL query whose rows are synced, keyed by one column."""

from __future__ import annotations

from django.db import models

from connections.reverse_etl.models.sources import RetlSource
from workspace.models import Workspace

# The docs' limits: "Model query length 65,535 characters", identifier column 191.
QUERY_MAX = 65_535
IDENTIFIER_MAX = 191


class RetlModel(models.Model):
    key_id = models.CharField(max_length=32, unique=True)  # rmod_...
    # The workspace is the source's; kept here so the slug is unique per workspace
    # (models are a workspace-level collection in the API).
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="reverse_etl_models"
    )
    source = models.ForeignKey(RetlSource, on_delete=models.CASCADE, related_name="models")
    slug = models.SlugField(max_length=64)  # immutable: the model's URL
    display_name = models.CharField(max_length=100)
    description = models.CharField(max_length=1000, blank=True, default="")
    query = models.TextField()
    identifier_column = models.CharField(max_length=IDENTIFIER_MAX)
    enabled = models.BooleanField(default=True)
    create_time = models.DateTimeField(auto_now_add=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("workspace", "slug"), name="retl_model_slug_per_workspace"
            ),
        )
        indexes = (
            models.Index(fields=("workspace", "create_time", "id"), name="retl_model_keyset"),
        )

    def __str__(self) -> str:
        return self.display_name

    @property
    def resource_name(self) -> str:
        return f"workspaces/{self.workspace.slug}/reverse-etl/models/{self.slug}"
