"""Erasing end users from Engage for a deletion regulation (Unify's GDPR page:
a deleted user's profile goes too). Registered with
``connections.dataplane.erasure`` by EngageConfig.ready; the privacy app's
regulation service runs it after the events.

In every space of the workspace (one pending deletion too), the profiles that
hold one of the ``user_id`` values, and every profile merged into them, are
deleted with what hangs off them: identifiers, attached events (references to
the event store, whose rows the data plane erased), merges, account links,
audience and trait memberships and their history. Their Profiles Insights logs
are deleted by segment id, and the CSV exports of audiences and traits of the
spaces they were in."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from engage.identity import USERS
from engage.models import ComputationExport, IdentityLog, Profile, ProfileIdentifier, Space

PROFILES_PER_TRANSACTION = 500


def erase_users(workspace_id: str, user_ids: Sequence[str]) -> dict[str, int]:
    wanted = sorted({u for u in user_ids if u})
    counts = {"profiles": 0, "identity_logs": 0}
    if not wanted:
        return counts
    spaces = list(Space.objects.filter(workspace_id=workspace_id).values_list("pk", flat=True))
    if not spaces:
        return counts
    owners = set(
        ProfileIdentifier.objects.filter(
            space_id__in=spaces, collection=USERS, type="user_id", value__in=wanted
        ).values_list("profile_id", flat=True)
    )
    # Level by level: the owners (live profiles), then what was merged into them,
    # and so on. Deleted deepest first, so that no transaction deletes a survivor
    # before the profiles merged into it (``canonical`` is SET_NULL: they would
    # show as live profiles until their own turn).
    levels = [sorted(owners)]
    seen = set(owners)
    while levels[-1]:
        merged = set(
            Profile.objects.filter(canonical_id__in=levels[-1]).values_list("pk", flat=True)
        )
        levels.append(sorted(merged - seen))
        seen |= merged
    ordered = [pk for level in reversed(levels) for pk in level]
    touched = set(
        Profile.objects.filter(pk__in=ordered).values_list("space_id", flat=True).distinct()
    )
    for start in range(0, len(ordered), PROFILES_PER_TRANSACTION):
        part = ordered[start : start + PROFILES_PER_TRANSACTION]
        with transaction.atomic():
            segment_ids = list(
                Profile.objects.filter(pk__in=part).values_list("segment_id", flat=True)
            )
            counts["identity_logs"] += IdentityLog.objects.filter(
                space_id__in=spaces, segment_id__in=segment_ids
            ).delete()[0]
            _, deleted = Profile.objects.filter(pk__in=part).delete()
            counts["profiles"] += deleted.get(Profile._meta.label, 0)
    if touched:
        # Audience / trait CSV exports are snapshots that may name them: asked again,
        # a new one is built without them.
        counts["computation_exports"] = ComputationExport.objects.filter(
            computation__space_id__in=touched
        ).delete()[0]
    return counts
