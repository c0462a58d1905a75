"""Fixed vocabularies of the workspace app that are not a model field's own."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """What an audit entry records, ``<resource type>.<verb>``. The values are stored,
    filtered on and exported (API, CSV) as they are: never rename one."""

    WORKSPACE_CREATED = "workspace.created"
    WORKSPACE_UPDATED = "workspace.updated"
    WORKSPACE_DELETED = "workspace.deleted"
    LABEL_CREATED = "label.created"
    LABEL_UPDATED = "label.updated"
    LABEL_DELETED = "label.deleted"
    GROUP_CREATED = "group.created"
    GROUP_UPDATED = "group.updated"
    GROUP_DELETED = "group.deleted"
    GROUP_MEMBER_ADDED = "group.member_added"
    GROUP_MEMBER_REMOVED = "group.member_removed"
    GRANT_CREATED = "grant.created"
    GRANT_UPDATED = "grant.updated"
    GRANT_DELETED = "grant.deleted"
    INVITE_CREATED = "invite.created"
    INVITE_REVOKED = "invite.revoked"
    USER_JOINED = "user.joined"
    USER_UPDATED = "user.updated"
    USER_REMOVED = "user.removed"
    USER_SIGNED_IN = "user.signed_in"
    USER_LOCKED_OUT = "user.locked_out"
    USER_UNLOCKED = "user.unlocked"
    ACCESS_TOKEN_CREATED = "access_token.created"  # noqa: S105 (an action, not a secret)
    ACCESS_TOKEN_UPDATED = "access_token.updated"  # noqa: S105 (an action, not a secret)
    ACCESS_TOKEN_REVOKED = "access_token.revoked"  # noqa: S105 (an action, not a secret)
