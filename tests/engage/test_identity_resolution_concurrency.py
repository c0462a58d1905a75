"""Two resolvers on the same people at once (two database connections, as two
workers have): the locks serialize them, so no person gets two profiles and no
merge is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from engage.models import Profile, ProfileEvent, ProfileIdentifier, Space
from engage.services.resolution import ResolverEvent, resolve_events
from tests.engage.identity_support import make_space
from tests.engage.resolution_support import event
from workspace.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)
PEOPLE = 40


@pytest.fixture
def space(alice: User, make_workspace: Callable[..., Workspace]) -> Space:
    return make_space(make_workspace(alice, "acme"))


def run_together(space: Space, batches: Sequence[Sequence[ResolverEvent]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(batches))

    def work(batch: Sequence[ResolverEvent]) -> None:
        try:
            start.wait()
            for offset in range(0, len(batch), 10):
                with transaction.atomic():
                    resolve_events(space, batch[offset : offset + 10])
        except BaseException as exc:  # the test reports it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_two_workers_never_create_two_profiles_for_one_person(space: Space) -> None:
    # Each source sees every person anonymously first, then identified.
    batches = [
        [event(source_id=source, anonymousId=f"a{n}-{source}") for n in range(PEOPLE)]
        + [
            event("identify", source_id=source, userId=f"u{n}", anonymousId=f"a{n}-{source}")
            for n in range(PEOPLE)
        ]
        for source in (1, 2)
    ]

    errors = run_together(space, batches)

    assert errors == []
    live = Profile.objects.filter(space=space, canonical__isnull=True)
    assert live.count() == PEOPLE
    for n in range(PEOPLE):
        person = ProfileIdentifier.objects.get(space=space, type="user_id", value=f"u{n}").profile
        assert set(
            ProfileIdentifier.objects.filter(profile=person).values_list("value", flat=True)
        ) == {f"u{n}", f"a{n}-1", f"a{n}-2"}
        assert ProfileEvent.objects.filter(profile=person).count() == 4
    assert ProfileEvent.objects.filter(space=space).count() == 4 * PEOPLE


def test_the_same_batch_on_two_workers_attaches_each_event_once(space: Space) -> None:
    batch = [event(userId=f"u{n % 10}", anonymousId=f"a{n}") for n in range(60)]

    errors = run_together(space, [batch, batch])

    assert errors == []
    assert Profile.objects.filter(space=space, canonical__isnull=True).count() == 10
    assert ProfileEvent.objects.filter(space=space).count() == 60
