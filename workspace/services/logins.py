"""Sign-in lockout: what django-axes counts, seen from the workspaces.

django-axes counts failed password sign-ins per username and per client address
(settings, "Sign-in lockout") and refuses them at the limit. This module records
each lockout in the audit trail of the workspaces the user belongs to, tells
which members are locked out, and lets a Workspace Owner unlock one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from axes.models import AccessAttempt
from axes.utils import reset as reset_attempts
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from switchyard import locking
from switchyard.access import Principal
from workspace.choices import AuditAction
from workspace.models import Membership
from workspace.services import audit
from workspace.services.members import member_name


def failure_limit() -> int:
    return int(settings.AXES_FAILURE_LIMIT)


def cool_off() -> timedelta:
    value = settings.AXES_COOLOFF_TIME
    assert isinstance(value, timedelta)
    return value


def _recent(now: datetime | None = None) -> dict[str, datetime]:
    return {"attempt_time__gte": (now or timezone.now()) - cool_off()}


def _failures(**match: str) -> int:
    total = AccessAttempt.objects.filter(**match, **_recent()).aggregate(
        n=Sum("failures_since_start")
    )
    return int(total["n"] or 0)


def locked_out_usernames(usernames: Iterable[str]) -> set[str]:
    """Which of ``usernames`` are locked out by their own failures (from any address)."""
    rows = (
        AccessAttempt.objects.filter(username__in=list(usernames), **_recent())
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=failure_limit())
    )
    return {row["username"] for row in rows}


def minutes_until_unlocked(username: str | None, ip_address: str | None) -> int:
    """How long until a sign-in as ``username`` from ``ip_address`` is accepted again,
    in whole minutes (at least 1), if nobody unlocks it first.

    Axes keeps one row per username, address and browser, whose failures all age out
    together ``cool_off`` after its latest one: the lock lifts once enough of the
    oldest rows have aged out to leave fewer failures than the limit.
    """
    now = timezone.now()
    lifts = [now]
    for match in ({"username": username}, {"ip_address": ip_address}):
        if not next(iter(match.values())):
            continue
        rows = AccessAttempt.objects.filter(**match, **_recent(now)).order_by("attempt_time")
        remaining = sum(row.failures_since_start for row in rows)
        for row in rows:
            if remaining < failure_limit():
                break
            remaining -= row.failures_since_start
            lifts.append(row.attempt_time + cool_off())
    return max(1, math.ceil((max(lifts) - now).total_seconds() / 60))


def record_lockout(*, username: str | None, ip_address: str | None) -> None:
    """Audit a lockout in every workspace the user belongs to. A username that is
    nobody's (or a user in no workspace) has no workspace to tell: the entry is then
    the install's own (no workspace), like a sign-in's."""
    locked_by = [
        name
        for name, match in (("username", username), ("ip_address", ip_address))
        if match and _failures(**{name: match}) >= failure_limit()
    ]
    after = {"username": username, "ip_address": ip_address, "locked_by": locked_by}
    memberships = list(
        Membership.objects.filter(user__username=username or "")
        .select_related("workspace", "user")
        .order_by("workspace__slug")
    )
    nobody = Principal(AnonymousUser())
    with transaction.atomic():
        if not memberships:
            audit.record(
                nobody,
                AuditAction.USER_LOCKED_OUT,
                workspace=None,
                resource_name=f"users/{username or ''}",
                after=after,
            )
        for membership in memberships:
            audit.record(
                nobody,
                AuditAction.USER_LOCKED_OUT,
                workspace=membership.workspace,
                resource_name=member_name(membership),
                after=after,
            )


def clear_failures(user: User) -> None:
    """A successful sign-in forgives the user's own failed ones (from any address);
    other usernames' failures from the same address still count against it."""
    reset_attempts(username=user.get_username())


def do_unlock_member(*, principal: Principal, membership: Membership) -> Membership:
    """Clear a member's failed sign-ins, from every address, so they can sign in at
    once. Audited when there was something to clear. (An address locked by other
    usernames' failures stays locked until its cool-off ends: README.)"""
    with transaction.atomic():
        locked = locking.lock_for_update(
            principal,
            "administer",
            membership,
            write=True,
            related=("workspace", "user"),
            subject=lambda row: row.workspace,
        )
        user: User = locked.user
        failures = _failures(username=user.get_username())
        reset_attempts(username=user.get_username())
        if failures:
            audit.record(
                principal,
                AuditAction.USER_UNLOCKED,
                workspace=locked.workspace,
                resource_name=member_name(locked),
                before={"username": user.get_username(), "failed_sign_ins": failures},
                after={"username": user.get_username(), "failed_sign_ins": 0},
            )
    return locked
