"""Team members and invitations: invite by email, accept, change role, remove."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from switchyard import access, locking, names
from switchyard.access import Principal
from switchyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from workspace.choices import AuditAction
from workspace.models import (
    AccessToken,
    GroupMembership,
    Invitation,
    Membership,
    RoleGrant,
    UserGroup,
    Workspace,
)
from workspace.services import audit
from workspace.services import tokens as token_service

INVITATION_LIFETIME = timedelta(days=7)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def member_name(membership: Membership) -> str:
    return names.build(
        ("workspaces", membership.workspace.slug), ("users", str(membership.user_id))
    )


def invitation_name(invitation: Invitation) -> str:
    return names.build(("workspaces", invitation.workspace.slug), ("invites", str(invitation.pk)))


# RFC 5321 allows 254 characters; the column (and User.email) holds exactly that,
# while Django's validator alone lets up to 320 through.
EMAIL_MAX = Invitation._meta.get_field("email").max_length or 254


def _clean_email(value: object) -> str:
    email = value.strip().lower() if isinstance(value, str) else ""
    if len(email) > EMAIL_MAX:
        raise InvalidArgument(
            f"an email address must be at most {EMAIL_MAX} characters", field="email"
        )
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidArgument(f"invalid email address {value!r}", field="email") from exc
    return email


def _clean_role(value: object) -> str:
    if value not in Membership.Role.values:
        raise InvalidArgument(
            f"role must be one of {Membership.Role.values}, got {value!r}", field="role"
        )
    return str(value)


def invite_url(secret: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/invites/{secret}"


def do_invite_member(
    *,
    principal: Principal,
    workspace: Workspace,
    email: object,
    role: object = Membership.Role.MEMBER,
    group: UserGroup | None = None,
) -> tuple[Invitation, str]:
    """Create an invitation and email its link; returns it with the link's secret."""
    access.require(principal, "administer", workspace, write=True)
    address = _clean_email(email)
    if group is not None and group.workspace_id != workspace.pk:
        raise InvalidArgument("the group belongs to another workspace", field="group")
    if Membership.objects.filter(workspace=workspace, user__email__iexact=address).exists():
        raise AlreadyExists(f"{address} is already a member of this workspace", field="email")
    secret = secrets.token_urlsafe(32)
    invitation = Invitation(
        workspace=workspace,
        email=address,
        role=_clean_role(role),
        group=group,
        secret_hash=_hash(secret),
        invited_by=principal.signed_in_user if principal.workspace_token is None else None,
        expire_time=timezone.now() + INVITATION_LIFETIME,
    )
    try:
        with transaction.atomic():
            invitation.save()
            audit.record(
                principal,
                AuditAction.INVITE_CREATED,
                workspace=workspace,
                resource_name=invitation_name(invitation),
                after={"email": address, "role": invitation.role, "group": group and group.name},
            )
    except IntegrityError as exc:
        raise AlreadyExists(f"{address} already has an open invitation", field="email") from exc
    link = invite_url(secret)
    transaction.on_commit(
        lambda: send_mail(
            f"You are invited to {workspace.display_name} on Switchyard",
            f"Join the workspace {workspace.display_name}: {link}\n"
            f"This link expires on {invitation.expire_time:%Y-%m-%d %H:%M} UTC.",
            None,
            [address],
        )
    )
    return invitation, secret


def do_revoke_invitation(*, principal: Principal, invitation: Invitation) -> None:
    access.require(principal, "administer", invitation.workspace, write=True)
    with transaction.atomic():
        updated = Invitation.objects.filter(
            pk=invitation.pk, accept_time__isnull=True, revoke_time__isnull=True
        ).update(revoke_time=timezone.now())
        if updated:
            audit.record(
                principal,
                AuditAction.INVITE_REVOKED,
                workspace=invitation.workspace,
                resource_name=invitation_name(invitation),
                before={"email": invitation.email, "role": invitation.role},
            )


def open_invitation(secret: str, *, lock: bool = False) -> Invitation:
    """The invitation behind a link, if it can still be accepted (``lock``: for accepting
    it, inside a transaction, so two clicks cannot both use it)."""
    rows = Invitation.objects.select_related("workspace", "group")
    if lock:
        rows = rows.select_for_update(of=("self",))
    invitation = rows.filter(secret_hash=_hash(secret)).first()
    if (
        invitation is None
        or invitation.accept_time is not None
        or invitation.revoke_time is not None
        or invitation.expire_time <= timezone.now()
    ):
        raise NotFound("this invitation is no longer valid: it expired, was revoked or was used")
    return invitation


def do_accept_invitation(*, secret: str, user: User) -> Membership:
    """Attach ``user`` (whose email the invitation names) to the workspace."""
    with transaction.atomic():
        invitation = open_invitation(secret, lock=True)
        if user.email.lower() != invitation.email:
            raise FailedPrecondition(
                f"this invitation is for {invitation.email}; sign in as that user to accept it"
            )
        membership, created = Membership.objects.get_or_create(
            workspace=invitation.workspace, user=user, defaults={"role": invitation.role}
        )
        if invitation.group is not None:
            GroupMembership.objects.get_or_create(group=invitation.group, user=user)
        Invitation.objects.filter(pk=invitation.pk).update(
            accept_time=timezone.now(), accepted_by=user
        )
        if created:
            audit.record(
                Principal(user),
                AuditAction.USER_JOINED,
                workspace=invitation.workspace,
                resource_name=member_name(membership),
                after={"username": user.get_username(), "role": membership.role},
            )
    return membership


def do_sign_up_and_accept(*, secret: str, username: object, password: object) -> Membership:
    """Create the account an invitation is for, and accept it."""
    invitation = open_invitation(secret)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise AlreadyExists(
            f"an account for {invitation.email} exists: sign in to accept", field="username"
        )
    if not isinstance(username, str) or not username.strip():
        raise InvalidArgument("choose a username", field="username")
    if User.objects.filter(username=username.strip()).exists():
        raise AlreadyExists(f"the username {username.strip()!r} is taken", field="username")
    user = User(username=username.strip(), email=invitation.email)
    try:
        validate_password(str(password), user)
    except ValidationError as exc:
        raise InvalidArgument(" ".join(exc.messages), field="password") from exc
    with transaction.atomic():
        user.set_password(str(password))
        user.save()
        return do_accept_invitation(secret=secret, user=user)


def _owners_left(workspace: Workspace, without: Membership) -> int:
    return (
        Membership.objects.filter(workspace=workspace, role=Membership.Role.OWNER)
        .exclude(pk=without.pk)
        .count()
    )


def _lock_memberships(workspace_id: str) -> None:
    """Every membership of the workspace, locked in one order: two owners demoting or
    removing each other at once must not both see the other still an owner. (A bare
    ``.count()`` would not lock: FOR UPDATE does not apply to aggregates.)"""
    list(
        Membership.objects.select_for_update()
        .filter(workspace_id=workspace_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def do_change_member_role(
    *, principal: Principal, membership: Membership, changes: dict[str, Any]
) -> Membership:
    with transaction.atomic():
        _lock_memberships(membership.workspace_id)
        locked = locking.lock_for_update(
            principal,
            "administer",
            membership,
            write=True,
            related=("workspace",),
            subject=lambda row: row.workspace,
        )
        locked.user = membership.user  # with the groups the caller fetched for its answer
        unknown = set(changes) - {"role"}
        if unknown:
            raise InvalidArgument(f"cannot update user field(s) {sorted(unknown)}")
        if "role" not in changes or changes["role"] == locked.role:
            return locked
        role = _clean_role(changes["role"])
        if role != Membership.Role.OWNER and not _owners_left(locked.workspace, locked):
            raise FailedPrecondition("a workspace keeps at least one Workspace Owner")
        before = locked.role
        locking.save_changes(locked, {"role": role})
        audit.record(
            principal,
            AuditAction.USER_UPDATED,
            workspace=locked.workspace,
            resource_name=member_name(locked),
            before={"role": before},
            after={"role": role},
        )
    return locked


def do_remove_member(*, principal: Principal, membership: Membership) -> None:
    """Remove from the workspace (and its groups); the account itself stays."""
    with transaction.atomic():
        _lock_memberships(membership.workspace_id)
        membership = locking.lock_for_update(
            principal,
            "administer",
            membership,
            write=True,
            related=("workspace", "user"),
            subject=lambda row: row.workspace,
        )
        if membership.role == Membership.Role.OWNER and not _owners_left(
            membership.workspace, membership
        ):
            raise FailedPrecondition("a workspace keeps at least one Workspace Owner")
        # What the member held here goes with them: a re-invited member starts
        # with minimal access (Segment's default for a new member).
        workspace, user_id = membership.workspace, membership.user_id
        GroupMembership.objects.filter(group__workspace=workspace, user_id=user_id).delete()
        _, deleted = RoleGrant.objects.filter(workspace=workspace, user_id=user_id).delete()
        _revoke_tokens_created_by(principal, workspace, user_id)
        audit.record(
            principal,
            AuditAction.USER_REMOVED,
            workspace=workspace,
            resource_name=member_name(membership),
            before={"username": membership.user.get_username(), "role": membership.role},
            # (each revoked token has an entry of its own)
            after={"grants_removed": deleted.get(RoleGrant._meta.label, 0)},
        )
        membership.delete()


def _revoke_tokens_created_by(principal: Principal, workspace: Workspace, user_id: int) -> None:
    """A removed member's workspace tokens stop working: they know the secrets."""
    tokens = AccessToken.objects.select_for_update().filter(
        workspace=workspace, user_id=user_id, revoke_time__isnull=True
    )
    now = timezone.now()
    for token in tokens:
        token.revoke_time = now
        token.save(update_fields=["revoke_time"])
        audit.record(
            principal,
            AuditAction.ACCESS_TOKEN_REVOKED,
            workspace=workspace,
            resource_name=token_service.resource_name(token),
            before=token_service.snapshot(token),
        )
