"""Profile API access tokens of a space: shown once at creation, stored as a
SHA-256 digest with a short prefix to recognise them by; revoked tokens stop
authenticating at once and stay listed."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from engage.choices import AuditAction
from engage.models import Space, SpaceToken
from engage.services.spaces import require_settings_access
from switchyard import locking, names
from switchyard.access import Principal
from switchyard.errors import FailedPrecondition
from switchyard.validation import clean_text
from workspace.services import audit

TOKEN_PREFIX = "spt"  # noqa: S105 (a prefix, not a secret)
PREFIX_LENGTH = 12  # "spt_" and 8 characters of the secret: enough to tell tokens apart
ACTIVE_TOKENS_MAX = 20
# last_used is for people ("used 2 hours ago"): writing it on every request would
# turn each Profile API read into a write, so it moves at most once a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def resource_name(token: SpaceToken) -> str:
    return f"{token.space.resource_name}/access-tokens/{token.pk}"


def do_create_space_token(
    *, principal: Principal, space: Space, description: object = ""
) -> tuple[SpaceToken, str]:
    """The token and its secret, which is never shown again."""
    require_settings_access(principal, space)
    text = clean_text(description, field="description", limit=200, required=False)
    secret = names.generate_id(TOKEN_PREFIX, 40)
    with transaction.atomic():
        active = SpaceToken.objects.select_for_update().filter(space=space, revoke_time=None)
        if len(active) >= ACTIVE_TOKENS_MAX:
            raise FailedPrecondition(
                f"a space holds at most {ACTIVE_TOKENS_MAX} active access tokens; revoke one first"
            )
        token = SpaceToken.objects.create(
            space=space,
            prefix=secret[:PREFIX_LENGTH],
            digest=digest_of(secret),
            description=text,
            created_by=principal.user if principal.user.is_authenticated else None,
        )
        audit.record(
            principal,
            AuditAction.SPACE_TOKEN_CREATED,
            workspace=space.workspace,
            resource_name=resource_name(token),
            after={"prefix": token.prefix, "description": token.description},
        )
    return token, secret


def do_revoke_space_token(*, principal: Principal, token: SpaceToken) -> SpaceToken:
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal, "view", token, related=("space__workspace",), subject=lambda t: t.space
        )
        require_settings_access(principal, locked.space)
        if locked.revoke_time is not None:
            raise FailedPrecondition(f"access token {locked.prefix}… is already revoked")
        locked.revoke_time = timezone.now()
        locked.save(update_fields=["revoke_time"])
        audit.record(
            principal,
            AuditAction.SPACE_TOKEN_REVOKED,
            workspace=locked.space.workspace,
            resource_name=resource_name(locked),
            before={"prefix": locked.prefix, "description": locked.description},
        )
    return locked


def space_for_token(secret: str) -> Space | None:
    """The space a Profile API token opens, or None (unknown or revoked token)."""
    if not secret or not secret.startswith(TOKEN_PREFIX + "_"):
        return None
    token = (
        SpaceToken.objects.select_related("space__workspace")
        .filter(digest=digest_of(secret), revoke_time=None)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
        # One UPDATE, skipped when another request already moved it.
        stale = now - LAST_USED_RESOLUTION
        SpaceToken.objects.filter(pk=token.pk).exclude(last_used__gt=stale).update(last_used=now)
    return token.space
