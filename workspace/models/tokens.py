from __future__ import annotations

from django.conf import settings
from django.db import models


class AccessToken(models.Model):
    """An API credential. Only a hash of the secret is kept.

    A workspace token (``workspace`` set) is created by a Workspace Owner and is
    a principal of its own, confined to that workspace with ``access``; it keeps
    working if its creator leaves. A personal token (no workspace; only a
    superuser gets a new one, ``create_access_token --personal-superuser-token``)
    acts as its user in every workspace; its user lists and revokes it on their
    account page.
    """

    class Scope(models.TextChoices):
        WORKSPACE = "workspace", "Read and write"
        WORKSPACE_READ = "workspace:read", "Read only"

    class Access(models.TextChoices):
        OWNER = "owner", "Workspace Owner"
        MEMBER = "member", "Workspace Member"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="access_tokens",
        help_text="The personal token's user, or the workspace token's creator",
    )
    workspace = models.ForeignKey(
        "workspace.Workspace",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="access_tokens",
    )
    access = models.CharField(max_length=16, choices=Access.choices, default=Access.MEMBER)
    description = models.CharField(max_length=200)
    scope = models.CharField(max_length=32, choices=Scope.choices, default=Scope.WORKSPACE)
    prefix = models.CharField(max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True)
    create_time = models.DateTimeField(auto_now_add=True)
    last_used_time = models.DateTimeField(null=True, blank=True)
    revoke_time = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.description})"

    @property
    def is_workspace_token(self) -> bool:
        return self.workspace_id is not None

    @property
    def read_only(self) -> bool:
        return self.scope == self.Scope.WORKSPACE_READ
