from __future__ import annotations

from typing import Any

from workspace.access import Principal
from workspace.models import AuditEntry, Workspace


def record(
    principal: Principal,
    action: str,
    *,
    workspace: Workspace | None,
    resource_name: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry; call inside the transaction that made the change."""
    user = principal.user if not principal.user.is_anonymous else None
    return AuditEntry.objects.create(
        workspace=workspace if workspace is not None and workspace.pk else None,
        workspace_slug=workspace.slug if workspace is not None else "",
        actor_user=user,
        actor_token=principal.token,
        action=action,
        resource_name=resource_name,
        before=before,
        after=after,
    )
