from __future__ import annotations

from django.conf import settings
from django.db import models


class AccessToken(models.Model):
    """An API credential acting as its user. Only a hash of the secret is kept."""

    class Scope(models.TextChoices):
        WORKSPACE = "workspace", "Read and write"
        WORKSPACE_READ = "workspace:read", "Read only"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
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
    def read_only(self) -> bool:
        return self.scope == self.Scope.WORKSPACE_READ
