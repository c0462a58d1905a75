from workspace.models.audit import AuditEntry
from workspace.models.grants import RoleGrant
from workspace.models.teams import GroupMembership, Invitation, Label, UserGroup
from workspace.models.tokens import AccessToken
from workspace.models.workspaces import Membership, Workspace

__all__ = [
    "AccessToken",
    "AuditEntry",
    "GroupMembership",
    "Invitation",
    "Label",
    "Membership",
    "RoleGrant",
    "UserGroup",
    "Workspace",
]
