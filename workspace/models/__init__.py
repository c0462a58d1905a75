from workspace.models.audit import AuditEntry
from workspace.models.tokens import AccessToken
from workspace.models.workspaces import Membership, Workspace

__all__ = ["AccessToken", "AuditEntry", "Membership", "Workspace"]
