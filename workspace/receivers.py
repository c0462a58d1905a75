"""Signal receivers of the workspace app, connected in ``WorkspaceConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest

from workspace.services import logins


def audit_lockout(
    sender: object,
    *,
    request: HttpRequest,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    """Audit the failure that locked a user or address out. Axes sends its signal
    for every refused attempt too (those have no new failure count): one entry
    per lockout, not one per retry."""
    if getattr(request, "axes_failures_since_start", None) != logins.failure_limit():
        return
    logins.record_lockout(username=username, ip_address=ip_address)


def clear_failures_on_sign_in(sender: object, *, user: User, **kwargs: Any) -> None:
    logins.clear_failures(user)
