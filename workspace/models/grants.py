from __future__ import annotations

from django.db import models


class RoleGrant(models.Model):
    """One policy: a role, for one principal (member, group or token), with one scope.

    Scope "all" covers every current and future resource of the role's type,
    "specific" the listed resources (stored by the app that owns them, e.g.
    connections.SourceGrant), "labels" every resource carrying all of the listed
    labels. A principal's access is the union of its grants and, for a
    member, the grants of its groups.
    """

    workspace = models.ForeignKey(
        "workspace.Workspace", on_delete=models.CASCADE, related_name="grants"
    )
    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, null=True, blank=True, related_name="grants"
    )
    group = models.ForeignKey(
        "workspace.UserGroup",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="grants",
    )
    token = models.ForeignKey(
        "workspace.AccessToken",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="grants",
    )
    role = models.CharField(max_length=64, db_index=True)
    scope = models.CharField(max_length=16)
    labels = models.ManyToManyField("workspace.Label", related_name="grants", blank=True)
    # How many labels the selector has: a source matches when it carries that many of them.
    label_count = models.PositiveSmallIntegerField(default=0)
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, group__isnull=True, token__isnull=True)
                    | models.Q(user__isnull=True, group__isnull=False, token__isnull=True)
                    | models.Q(user__isnull=True, group__isnull=True, token__isnull=False)
                ),
                name="grant_has_one_principal",
            ),
        )

    def __str__(self) -> str:
        return f"{self.role} ({self.scope})"
