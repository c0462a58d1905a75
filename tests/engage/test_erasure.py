"""A deletion regulation erases the user's Engage profiles (Unify's GDPR page):
in every space of the workspace, the profile holding the user_id and every profile
merged into it, with identifiers, attached events and Insights logs; other users'
profiles and other workspaces are untouched."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from connections.dataplane import erasure
from engage.models import IdentityLog, Profile, ProfileEvent, ProfileIdentifier, Space
from engage.services.resolution import resolve_events
from privacy.models import RegulationStatus
from privacy.services import regulations
from tests.engage.identity_support import make_space
from tests.engage.resolution_support import event, live
from tests.privacy.test_regulations import create
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


def people(space: Space) -> None:
    """u-1 known anonymously first (a profile merged into theirs), and u-2."""
    resolve_events(
        space,
        [
            event(anonymousId="a-9", event="Viewed"),
            event("identify", userId="u-1", anonymousId="a-1", traits={"plan": "pro"}),
            event("identify", userId="u-1", anonymousId="a-9"),
            event("identify", userId="u-2", anonymousId="a-2", traits={"plan": "free"}),
            event(userId="u-2", event="Viewed"),
        ],
    )


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


def test_the_users_profiles_and_what_hangs_off_them_are_erased_in_every_space(
    acme: Workspace,
) -> None:
    prod, dev = make_space(acme, "prod"), make_space(acme, "dev")
    people(prod)
    people(dev)
    assert Profile.objects.filter(space=prod).count() == 3  # one merged away

    counts = erasure.erase_elsewhere(str(acme.pk), ["u-1"])

    assert counts["profiles"] == 4  # survivor and merged-away profile, in each space
    assert counts["identity_logs"] > 0
    for space in (prod, dev):
        (remaining,) = live(space)
        assert Profile.objects.filter(space=space).count() == 1
        assert remaining.traits == {"plan": "free"}
        assert set(
            ProfileIdentifier.objects.filter(space=space).values_list("value", flat=True)
        ) == {"u-2", "a-2"}
        assert set(
            ProfileEvent.objects.filter(space=space).values_list("profile_id", flat=True)
        ) == {remaining.pk}
        assert (
            not IdentityLog.objects.filter(space=space)
            .exclude(segment_id__in=["", remaining.segment_id])
            .exists()
        )


def test_another_workspaces_profile_of_the_same_user_id_is_kept(
    alice: User, acme: Workspace, make_workspace: Callable[..., Workspace]
) -> None:
    other = make_space(make_workspace(alice, "other"))
    people(make_space(acme))
    people(other)
    erasure.erase_elsewhere(str(acme.pk), ["u-1", ""])
    assert len(live(other)) == 2
    assert ProfileIdentifier.objects.filter(space=other, value="u-1").exists()


def test_a_deletion_regulation_erases_profiles_and_counts_them(
    alice: User, acme: Workspace
) -> None:
    space = make_space(acme)
    people(space)
    regulation = create(alice, acme, "DELETE_ONLY", ["u-1"])
    regulations.process_regulation(regulation.pk)
    regulation.refresh_from_db()
    assert regulation.status == RegulationStatus.FINISHED, regulation.error
    assert regulation.counts["profiles"] == 2
    assert not ProfileIdentifier.objects.filter(space=space, value__in=["u-1", "a-1", "a-9"])


def test_a_suppression_without_deletion_keeps_profiles(alice: User, acme: Workspace) -> None:
    space = make_space(acme)
    people(space)
    regulation = create(alice, acme, "SUPPRESS_ONLY", ["u-1"])
    regulations.process_regulation(regulation.pk)
    assert len(live(space)) == 2
