"""The pipeline with real Celery worker processes on the real broker: events sent
through the Tracking API are delivered, observed, queued and resolved by two
workers at once, and a replay runs as queued tasks."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from engage.models import (
    IdentityLog,
    PendingBatch,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    ProfileMerge,
    SpaceSource,
)
from engage.services.replay import ReplayStatus, start_replay
from tests.engage.pipeline_support import (
    add_source,
    add_space,
    connect,
    identify,
    ingest,
    track,
)
from tests.worker_support import celery_worker, eventually
from workspace.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = 40


@pytest.fixture
def two_workers() -> Iterator[tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    with celery_worker("engage-1") as first, celery_worker("engage-2") as second:
        yield first, second


def test_two_workers_never_split_a_person_or_lose_a_merge(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    """Each person reaches the space through two sources at once: the web source
    knows them anonymously first, the server source by userId first, so whichever
    worker runs first creates a profile the other's identify must merge. Everything
    is ingested before the workers start, so both find a backlog and resolve the
    two sources' queues side by side."""
    workspace = make_workspace(alice, "acme")
    space = add_space(alice, workspace)
    web, server = add_source(alice, workspace, "web"), add_source(alice, workspace, "server")
    connect(alice, space, web)
    connect(alice, space, server)
    for n in range(PEOPLE):
        ingest(web, track("Viewed", None, f"a-{n}"))
        ingest(server, track("Bought", f"u-{n}"))
    for n in range(PEOPLE):
        ingest(web, identify(f"u-{n}", f"a-{n}"))
        ingest(server, identify(f"u-{n}", email=f"p{n}@example.com"))

    def settled() -> bool:
        attached = ProfileEvent.objects.filter(space=space).count()
        return attached == 4 * PEOPLE and not PendingBatch.objects.filter(space=space).exists()

    with celery_worker("engage-1"), celery_worker("engage-2"):
        eventually(settled, timeout=180)

    owners = dict(ProfileIdentifier.objects.filter(space=space).values_list("value", "profile_id"))
    live = set(Profile.objects.filter(space=space, canonical=None).values_list("id", flat=True))
    for n in range(PEOPLE):
        person = {owners[f"u-{n}"], owners[f"a-{n}"], owners[f"p{n}@example.com"]}
        assert len(person) == 1, n
        assert person <= live, n
    assert len(live) == PEOPLE
    assert not IdentityLog.objects.filter(space=space, code="processing_failed").exists()
    # Every profile merged away says into which, and that one is live (no chain lost).
    merged = Profile.objects.filter(space=space).exclude(canonical=None)
    recorded = dict(ProfileMerge.objects.filter(space=space).values_list("merged_id", "into_id"))
    for profile in merged:
        assert profile.canonical_id in live
        assert profile.pk in recorded


def test_a_replay_runs_on_a_worker(
    alice: User,
    make_workspace: Callable[..., Workspace],
    two_workers: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]],
) -> None:
    workspace = make_workspace(alice, "acme")
    web = add_source(alice, workspace)
    for n in range(5):
        ingest(web, identify(f"u-{n}", f"a-{n}"), track("Viewed", f"u-{n}"))
    space = add_space(alice, workspace)

    with transaction.atomic():
        connected = connect(alice, space, web)
        start_replay(connected)

    def finished() -> SpaceSource | None:
        row = SpaceSource.objects.get(pk=connected.pk)
        return row if row.replay_status == ReplayStatus.FINISHED else None

    row = eventually(finished, timeout=120)
    assert row.replayed == 10
    assert Profile.objects.filter(space=space, canonical=None).count() == 5
    assert ProfileEvent.objects.filter(space=space).count() == 10
