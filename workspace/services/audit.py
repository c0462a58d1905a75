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
    """A copy of ``value`` with secret keys' values replaced, at any depth.

    Iterative, not recursive: a setting nested hundreds deep must not exhaust
    Python's recursion limit inside the transaction that stores it.
    """
    if not isinstance(value, dict | list):
        return value
    root: dict[Any, Any] | list[Any] = {} if isinstance(value, dict) else []
    pending: list[tuple[Any, Any]] = [(value, root)]
    while pending:
        source, copy = pending.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in pairs:
            if isinstance(source, dict) and _SECRET_KEY.search(str(key)):
                item = REDACTED
            elif isinstance(item, dict | list):
                child: dict[Any, Any] | list[Any] = {} if isinstance(item, dict) else []
                pending.append((item, child))
                item = child
            if isinstance(copy, dict):
                copy[key] = item
            else:
                copy.append(item)
    return root


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
