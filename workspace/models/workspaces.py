from __future__ import annotations

from django.conf import settings
from django.db import models

from switchyard import names


def _workspace_id() -> str:
    return names.generate_id(length=10)


class Workspace(models.Model):
    """The tenant: every other resource belongs to exactly one workspace."""

    id = models.CharField(primary_key=True, max_length=32, default=_workspace_id, editable=False)
    slug = models.SlugField(max_length=64, unique=True)
    display_name = models.CharField(max_length=100)
    settings = models.JSONField(default=dict, blank=True)
    create_time = models.DateTimeField(auto_now_add=True, db_index=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("create_time", "id")
        indexes = (models.Index(fields=("create_time", "id"), name="workspace_keyset"),)

    def __str__(self) -> str:
        return self.display_name

    @property
    def resource_name(self) -> str:
        return names.build(("workspaces", self.slug))


class Membership(models.Model):
    """A user's place in a workspace. The access issue grows this into roles and grants."""

    class Role(models.TextChoices):
        OWNER = "owner", "Workspace Owner"
        MEMBER = "member", "Workspace Member"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("workspace", "user"), name="one_membership_per_user"),
        )

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"
