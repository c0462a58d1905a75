"""A space's identity resolution settings: one row per identifier type."""

from __future__ import annotations

from django.db import models

from engage.models.spaces import Space


class Period(models.TextChoices):
    EVER = "EVER"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    ANNUALLY = "ANNUALLY"


class IdentifierSetting(models.Model):
    """How an identifier type resolves in a space: its priority (1 = highest), its
    value limit (``limit`` values, ever or per sliding ``period``), its blocked
    values (``[{"value": ..., "kind": "EXACT" | "REGEX"}]``), and, for custom
    identifiers, nothing else: custom ones arrive in ``context.externalIds`` or as
    a trait/property key of the same name."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="identifiers")
    type = models.CharField(max_length=64)  # user_id, email, anonymous_id, a custom name
    priority = models.PositiveIntegerField()
    limit = models.PositiveIntegerField(default=5)
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.EVER)
    blocked_values = models.JSONField(default=list)
    custom = models.BooleanField(default=False)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("space", "type"), name="identifier_type_per_space"),
        )

    def __str__(self) -> str:
        return f"{self.type} (priority {self.priority})"
