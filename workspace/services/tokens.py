"""Access tokens: issue one (the secret is returned once) and resolve a presented one."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from switchyard.errors import InvalidArgument
from workspace.access import Principal
from workspace.models import AccessToken
from workspace.services import audit

TOKEN_PREFIX = "sy_"  # noqa: S105 (a marker for secret scanners, not a secret)
# last_used_time is a hint, not a log: write it at most this often per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def do_create_access_token(
    *,
    principal: Principal,
    user: User,
    description: str,
    scope: str = AccessToken.Scope.WORKSPACE,
) -> tuple[AccessToken, str]:
    description = (description or "").strip()
    if not description:
        raise InvalidArgument("an access token needs a description", field="description")
    if scope not in AccessToken.Scope.values:
        raise InvalidArgument(
            f"scope must be one of {AccessToken.Scope.values}, got {scope!r}", field="scope"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = AccessToken.objects.create(
            user=user,
            description=description,
            scope=scope,
            prefix=secret[:10],
            secret_hash=_hash(secret),
        )
        audit.record(
            principal,
            "access_token.created",
            workspace=None,
            resource_name=f"access-tokens/{token.pk}",
            after={"description": description, "scope": scope, "user": user.get_username()},
        )
    return token, secret


def authenticate(secret: str) -> AccessToken | None:
    """The live token for ``secret``, or None. Marks it used."""
    token = (
        AccessToken.objects.select_related("user")
        .filter(secret_hash=_hash(secret), revoke_time__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_time is None or now - token.last_used_time > LAST_USED_RESOLUTION:
        AccessToken.objects.filter(pk=token.pk).update(last_used_time=now)
        token.last_used_time = now
    return token
