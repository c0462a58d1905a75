from __future__ import annotations

from django.conf import settings
from django.db import models

from workspace.models.workspaces import Membership


class UserGroup(models.Model):
    """A named set of a workspace's members; its role grants apply to each of them."""

    workspace = models.ForeignKey(
        "workspace.Workspace", on_delete=models.CASCADE, related_name="user_groups"
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="GroupMembership", related_name="user_groups"
    )
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("workspace", "name"), name="group_name_per_workspace"),
        )

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    group = models.ForeignKey(UserGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("group", "user"), name="one_group_membership"),
        )

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


class Invitation(models.Model):
    """An emailed invite link. Accepting it creates or attaches the account."""

    workspace = models.ForeignKey(
        "workspace.Workspace", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(
        max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    group = models.ForeignKey(UserGroup, on_delete=models.SET_NULL, null=True, blank=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    create_time = models.DateTimeField(auto_now_add=True)
    expire_time = models.DateTimeField()
    accept_time = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoke_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            # One open invitation per address and workspace.
            models.UniqueConstraint(
                fields=("workspace", "email"),
                condition=models.Q(accept_time__isnull=True, revoke_time__isnull=True),
                name="one_open_invitation_per_email",
            ),
        )

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.workspace}"


class Label(models.Model):
    """A ``key:value`` label of the workspace's catalogue."""

    workspace = models.ForeignKey(
        "workspace.Workspace", on_delete=models.CASCADE, related_name="labels"
    )
    key = models.CharField(max_length=64)
    value = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True)
    create_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("workspace", "key", "value"), name="label_per_workspace"
            ),
        )
        ordering = ("key", "value")

    def __str__(self) -> str:
        return f"{self.key}:{self.value}"
