"""Spaces and members for the identity settings tests."""

from __future__ import annotations

from django.contrib.auth.models import User

from engage.models import Space
from engage.services.identity_settings import seed_defaults
from switchyard import names
from switchyard.access import Principal
from workspace.models import Workspace
from workspace.services.grants import do_create_grant
from workspace.services.members import do_accept_invitation, do_invite_member


def make_space(workspace: Workspace, slug: str = "prod") -> Space:
    """A space as space creation leaves it: with its default identity settings."""
    space = Space.objects.create(
        workspace=workspace, key_id=names.generate_id("spa", 24), slug=slug, display_name=slug
    )
    seed_defaults(space)
    return space


def add_member(owner: User, workspace: Workspace, user: User, role: str | None = None) -> User:
    """``user`` joins ``workspace``; with ``role`` granted on all of its type."""
    principal = Principal(owner)
    _invitation, secret = do_invite_member(
        principal=principal, workspace=workspace, email=user.email
    )
    do_accept_invitation(secret=secret, user=user)
    if role:
        do_create_grant(
            principal=principal, workspace=workspace, grantee=user, role=role, scope="all"
        )
    return user
