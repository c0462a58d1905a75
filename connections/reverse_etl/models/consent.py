"""Consent in Reverse ETL: the workspace's consent categories (each mapped to the
destinations that need it) and a model's "consent to" column per category.

The project had no consent categories to reuse (the privacy app has none yet), so
the minimum lives here; it belongs in privacy when Consent Management is built."""

from __future__ import annotations

from django.db import models

from connections.models import Destination
from connections.reverse_etl.models.queries import IDENTIFIER_MAX, RetlModel
from workspace.models import Workspace

CATEGORY_ID_MAX = 34  # "fewer than 35 characters"
CATEGORY_NAME_MAX = 20  # "20 characters or less"
COLUMN_MAX = IDENTIFIER_MAX


class RetlConsentCategory(models.Model):
    """A consent category (``category_id`` is the key of ``categoryPreferences``,
    case sensitive) and the destinations that need consent to it."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="reverse_etl_consent_categories"
    )
    category_id = models.CharField(max_length=CATEGORY_ID_MAX)
    display_name = models.CharField(max_length=CATEGORY_NAME_MAX)
    destinations = models.ManyToManyField(
        Destination, blank=True, related_name="reverse_etl_consent_categories"
    )
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("workspace", "category_id"), name="retl_consent_category_once"
            ),
        )

    def __str__(self) -> str:
        return self.category_id


class RetlModelConsent(models.Model):
    """Which column of the model holds each category's consent (a boolean)."""

    model = models.OneToOneField(RetlModel, on_delete=models.CASCADE, related_name="consent")
    columns = models.JSONField(default=dict)  # {"Advertising": "ads_consent"}
    update_time = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"consent columns of {self.model_id}"
