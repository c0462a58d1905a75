"""Access tokens: issue one (the secret is returned once), revoke it, resolve a presented one."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import InvalidArgument, PermissionDenied
from switchyard.validation import clean_text
from workspace.choices import AuditAction
from workspace.models import AccessToken, Workspace
from workspace.services import audit

TOKEN_PREFIX = "sy_"  # noqa: S105 (a marker for secret scanners, not a secret)
DESCRIPTION_MAX = 200
# last_used_time is a hint, not a log: write it at most this often per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def resource_name(token: AccessToken) -> str:
    if token.workspace is None:
        return names.build(("access-tokens", str(token.pk)))
    return names.build(("workspaces", token.workspace.slug), ("access-tokens", str(token.pk)))


def snapshot(token: AccessToken) -> dict[str, Any]:
    return {
        "description": token.description,
        "access": token.access,
        "scope": token.scope,
        "prefix": token.prefix,
    }


def _clean_description(value: object) -> str:
    return clean_text(
        value,
        field="description",
        limit=DESCRIPTION_MAX,
        empty="an access token needs a description",
    )


def _choice(
    value: object, choices: type[AccessToken.Scope | AccessToken.Access], field: str
) -> str:
    if value not in choices.values:
        raise InvalidArgument(
            f"{field} must be one of {choices.values}, got {value!r}", field=field
        )
    return str(value)


def _issue(
    principal: Principal,
    *,
    user: User,
    workspace: Workspace | None,
    description: object,
    access_level: object,
    scope: object,
) -> tuple[AccessToken, str]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(
        user=user,
        workspace=workspace,
        description=_clean_description(description),
        access=_choice(access_level, AccessToken.Access, "access"),
        scope=_choice(scope, AccessToken.Scope, "scope"),
        prefix=secret[:10],
        secret_hash=_hash(secret),
    )
    with transaction.atomic():
        token.save()
        audit.record(
            principal,
            AuditAction.ACCESS_TOKEN_CREATED,
            workspace=workspace,
            resource_name=resource_name(token),
            after=snapshot(token),
        )
    return token, secret


def do_create_access_token(
    *,
    principal: Principal,
    user: User,
    description: str,
    scope: str = AccessToken.Scope.WORKSPACE,
) -> tuple[AccessToken, str]:
    """A personal token acting as ``user`` in every workspace ``user`` belongs to.

    Asks nothing: callers decide who may have one (``do_create_superuser_token``
    is the operator's way; tests use this to act as a user through the API). It
    appears in no workspace's token list, only on its user's account page."""
    return _issue(
        principal,
        user=user,
        workspace=None,
        description=description,
        access_level=AccessToken.Access.MEMBER,
        scope=scope,
    )


def do_create_superuser_token(
    *, user: User, description: str, scope: str = AccessToken.Scope.WORKSPACE
) -> tuple[AccessToken, str]:
    """A personal token for a superuser (``create_access_token --personal-superuser-token``).

    Only superusers get one: it acts in every workspace, so it is what bootstraps a
    fresh install with no workspace yet. Everyone else gets workspace tokens, which
    their workspace lists and its owners can revoke."""
    principal = Principal(user)
    if not principal.is_superuser:
        raise PermissionDenied(
            f"{user.get_username()} is not an active superuser; only superusers get "
            "personal tokens. Create a workspace token instead."
        )
    return do_create_access_token(
        principal=principal, user=user, description=description, scope=scope
    )


def do_create_workspace_token(
    *,
    principal: Principal,
    workspace: Workspace,
    description: object,
    access_level: object = AccessToken.Access.MEMBER,
    scope: object = AccessToken.Scope.WORKSPACE,
) -> tuple[AccessToken, str]:
    """A workspace token, created by one of its owners; the secret is returned only here.

    A workspace token cannot mint another: the new token would outlive revoking the
    one that made it, so tokens come from a person (signed in, or their own token)."""
    access.require(principal, "administer", workspace, write=True)
    if principal.workspace_token is not None:
        raise PermissionDenied(
            "a workspace token cannot create access tokens; a Workspace Owner creates them"
        )
    return _issue(
        principal,
        user=principal.signed_in_user,
        workspace=workspace,
        description=description,
        access_level=access_level,
        scope=scope,
    )


def do_update_access_token(
    *, principal: Principal, token: AccessToken, changes: dict[str, Any]
) -> AccessToken:
    """Only the description changes; access and scope are fixed at creation."""
    with transaction.atomic():
        locked = locking.lock_for_update(principal, "change", token, related=("workspace",))
        unknown = set(changes) - {"description"}
        if unknown:
            raise InvalidArgument(f"cannot update access token field(s) {sorted(unknown)}")
        values = {}
        if "description" in changes:
            values["description"] = _clean_description(changes["description"])
        before = snapshot(locked)
        if locking.save_changes(locked, values):
            audit.record_changes(
                principal,
                AuditAction.ACCESS_TOKEN_UPDATED,
                workspace=locked.workspace,
                resource_name=resource_name(locked),
                before=before,
                after=snapshot(locked),
            )
    return locked


def do_revoke_access_token(*, principal: Principal, token: AccessToken) -> None:
    """Revoked tokens stop working on the next request; the row stays for the audit trail.

    Workspace owners revoke their workspace's tokens; a person revokes their own
    personal tokens. A personal token's revocation is audited without a workspace,
    like its creation: the owners of its user's workspaces read it in their trails."""
    with transaction.atomic():
        locked = locking.lock_for_update(principal, "delete", token, related=("workspace",))
        if locking.save_changes(locked, {"revoke_time": locked.revoke_time or timezone.now()}):
            audit.record(
                principal,
                AuditAction.ACCESS_TOKEN_REVOKED,
                workspace=locked.workspace,
                resource_name=resource_name(locked),
                before=snapshot(locked),
            )


def authenticate(secret: str) -> AccessToken | None:
    """The live token for ``secret``, or None. Marks it used."""
    token = (
        AccessToken.objects.select_related("user", "workspace")
        .filter(secret_hash=_hash(secret), revoke_time__isnull=True)
        # A personal token dies with its user's account; a workspace token is the
        # workspace's and keeps working when its creator leaves.
        .filter(Q(workspace__isnull=False) | Q(user__is_active=True))
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_time is None or now - token.last_used_time > LAST_USED_RESOLUTION:
        AccessToken.objects.filter(pk=token.pk).update(last_used_time=now)
        token.last_used_time = now
    return token
