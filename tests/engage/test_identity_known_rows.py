"""The resolver remembers known identifier rows between calls (a process-level
guess that skips the database lookup); these tests make the guess wrong the way
another worker or a rollback would, and check the resolution stays right."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from engage.models import Profile, ProfileEvent, ProfileIdentifier, Space
from engage.services import resolution
from engage.services.erasure import erase_users
from engage.services.resolution import forget_known_identifiers, resolve_events
from tests.engage.identity_support import make_space
from tests.engage.resolution_support import event, live, owner
from workspace.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_memory() -> Iterator[None]:
    forget_known_identifiers()
    yield
    forget_known_identifiers()


@pytest.fixture
def space(alice: User, make_workspace: Callable[..., Workspace]) -> Space:
    return make_space(make_workspace(alice, "acme"))


def remembered(space: Space) -> dict[str, int]:
    """{value: profile id} of what the resolver remembers for the space."""
    return {i.value: row[1] for i, row in resolution._KNOWN.get(space.pk, {}).items()}


def test_known_rows_are_remembered_once_committed_and_reused(space: Space) -> None:
    resolve_events(space, [event("identify", userId="u1", anonymousId="a1")])
    person = owner(space, "user_id", "u1")
    resolve_events(space, [event(userId="u1")])

    assert remembered(space) == {"u1": person.pk, "a1": person.pk}
    resolve_events(space, [event(userId="u1")])
    assert ProfileEvent.objects.filter(profile=person).count() == 3


def test_values_a_chunk_adds_are_remembered_with_their_rows(space: Space) -> None:
    resolve_events(space, [event(anonymousId="a1")])
    resolve_events(
        space,
        [
            event("identify", userId="u1", anonymousId="a1", traits={"email": "u1@example.com"}),
            event("identify", userId="u2", traits={"email": "u2@example.com"}),
        ],
    )
    first, second = owner(space, "user_id", "u1"), owner(space, "user_id", "u2")

    assert remembered(space) == {
        "a1": first.pk,
        "u1": first.pk,
        "u1@example.com": first.pk,
        "u2": second.pk,
        "u2@example.com": second.pk,
    }
    rows = {i.value: row for i, row in resolution._KNOWN[space.pk].items()}
    for stored in ProfileIdentifier.objects.filter(space=space):
        assert rows[stored.value] == (stored.pk, stored.profile_id, stored.last_seen)
    # The next call finds them all remembered: no lookup in the database.
    with CaptureQueriesContext(connection) as queries:
        resolve_events(
            space,
            [
                event(userId="u2", message_id="later-u2"),
                event(anonymousId="a1", message_id="later-a1"),
            ],
        )
    assert not [q for q in queries.captured_queries if "k(c text, t text, v text)" in q["sql"]]
    attached = ProfileEvent.objects.filter(space=space, message_id__startswith="later-")
    assert dict(attached.values_list("message_id", "profile_id")) == {
        "later-u2": second.pk,
        "later-a1": first.pk,
    }


def test_a_profile_merged_away_by_another_worker_is_not_attached_to(space: Space) -> None:
    resolve_events(space, [event("identify", userId="u1")])
    resolve_events(space, [event(anonymousId="a9")])
    resolve_events(space, [event(userId="u1"), event(anonymousId="a9")])
    first = owner(space, "user_id", "u1")
    # What this worker remembers before another worker merges the two.
    stale = copy.deepcopy(resolution._KNOWN)
    resolve_events(space, [event("identify", userId="u1", anonymousId="a9")])
    resolution._KNOWN.clear()
    resolution._KNOWN.update(stale)

    resolve_events(space, [event(anonymousId="a9", message_id="after")])

    survivor = owner(space, "anonymous_id", "a9")
    assert [p.pk for p in live(space)] == [survivor.pk]
    attached = ProfileEvent.objects.get(space=space, message_id="after")
    assert attached.profile_id == survivor.pk
    assert first.pk == survivor.pk or Profile.objects.get(pk=first.pk).canonical_id is not None


def test_a_deleted_profile_is_not_attached_to(space: Space) -> None:
    resolve_events(space, [event("identify", userId="u1")])
    resolve_events(space, [event(userId="u1")])
    gone = owner(space, "user_id", "u1")
    assert remembered(space) == {"u1": gone.pk}

    erase_users(space.workspace_id, ["u1"])  # as a deletion regulation does
    resolve_events(space, [event(userId="u1", message_id="after")])

    again = owner(space, "user_id", "u1")
    assert again.pk != gone.pk
    assert not Profile.objects.filter(pk=gone.pk).exists()
    assert ProfileEvent.objects.get(space=space, message_id="after").profile_id == again.pk


def test_rows_read_in_a_rolled_back_transaction_are_not_remembered(space: Space) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        resolve_events(space, [event("identify", userId="u1")])
        resolve_events(space, [event(userId="u1")])  # reads the uncommitted row
        raise Abort

    assert remembered(space) == {}
    resolve_events(space, [event(userId="u1", message_id="after")])
    person = owner(space, "user_id", "u1")
    assert ProfileIdentifier.objects.filter(space=space, value="u1").count() == 1
    assert ProfileEvent.objects.get(space=space, message_id="after").profile_id == person.pk


def test_last_seen_never_moves_back_when_a_remembered_time_is_old(space: Space) -> None:
    late = event(userId="u1")
    resolve_events(space, [event("identify", userId="u1")])
    resolve_events(space, [event(userId="u1")])
    stale = copy.deepcopy(resolution._KNOWN)
    newest = event(userId="u1", at=late.received_at.replace(year=2027))
    resolve_events(space, [newest])
    resolution._KNOWN.clear()
    resolution._KNOWN.update(stale)

    resolve_events(space, [event(userId="u1", at=late.received_at.replace(year=2026, month=12))])

    row = ProfileIdentifier.objects.get(space=space, value="u1")
    assert row.last_seen == newest.received_at
