"""The audit trail: who changed what, written in the same transaction as the change."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from switchyard.access import Principal
from workspace.choices import AuditAction
from workspace.models import AuditEntry, Workspace

RETENTION = timedelta(days=90)
REDACTED = "[redacted]"
# Keys whose values never reach the audit trail, at any depth of before/after.
_SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|api_?key|write_?key|private_?key|credential)", re.I
)


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (REDACTED if _SECRET_KEY.search(str(k)) else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def record_changes(
    principal: Principal,
    action: StrEnum,
    *,
    workspace: Workspace | None,
    resource_name: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AuditEntry | None:
    """Record an update with only the keys whose values changed; nothing if none did."""
    changed = [k for k in after if after[k] != before.get(k)]
    if not changed:
        return None
    return record(
        principal,
        action,
        workspace=workspace,
        resource_name=resource_name,
        before={k: before.get(k) for k in changed},
        after={k: after[k] for k in changed},
    )


def record(
    principal: Principal,
    action: StrEnum,
    *,
    workspace: Workspace | None,
    resource_name: str,
    resource_type: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry; call inside the transaction that made the change.

    ``action`` is a member of an app's ``choices.AuditAction``, ``<resource_type>.<verb>``
    (``workspace.updated``): an enum, so a mistyped action is a type error, not a new
    kind of entry. Secrets in ``before``/``after`` are redacted here, so no caller can
    forget to.
    """
    user = principal.user if not principal.user.is_anonymous else None
    return AuditEntry.objects.create(
        workspace=workspace if workspace is not None and workspace.pk else None,
        workspace_slug=workspace.slug if workspace is not None else "",
        actor_user=user,
        actor_token=principal.token,
        action=str(action),
        resource_type=resource_type or str(action).partition(".")[0],
        resource_name=resource_name,
        before=redact(before),
        after=redact(after),
    )


def record_sign_in(user: User) -> AuditEntry:
    return record(
        Principal(user),
        AuditAction.USER_SIGNED_IN,
        workspace=None,
        resource_name=f"users/{user.get_username()}",
    )


def do_prune_audit_entries(*, now: Any = None) -> int:
    """Delete entries older than the 90-day retention; returns how many went."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _ = AuditEntry.objects.filter(time__lt=cutoff).delete()
    return deleted
