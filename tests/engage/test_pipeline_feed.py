"""The feed: a delivery batch of a connected source is queued per space (event
references, never payloads) when the delivery worker observes it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from connections.dataplane.delivery.deliver import deliver_batch
from connections.dataplane.observers import BatchEvent
from connections.models import DeliveryBatch, Event, Source
from engage import task_names
from engage.models import (
    IdentityLog,
    InsightKind,
    PendingBatch,
    Profile,
    ProfileEvent,
    ProfileIdentifier,
    Space,
)
from engage.services import resolution
from engage.services.feed import STALLED_AFTER, drain, observe_batch, requeue_stalled
from tests.engage.pipeline_support import (
    add_source,
    add_space,
    connect,
    deliver_all,
    identify,
    ingest,
    track,
)
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


def test_a_batch_is_queued_once_per_connected_space(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "acme")
    web, other = add_source(alice, workspace, "web"), add_source(alice, workspace, "other")
    prod, dev = add_space(alice, workspace, "prod"), add_space(alice, workspace, "dev")
    connect(alice, prod, web)
    connect(alice, dev, web)

    ingest(web, identify("u-1", email="a@example.com"), track("Signed Up", "u-1"))
    ingest(other, track("Ignored", "u-2"))
    deliver_all()

    stored = list(Event.objects.filter(source_id=web.pk).order_by("id"))
    queued = PendingBatch.objects.order_by("space_id")
    assert [(p.space_id, p.source_id) for p in queued] == [(prod.pk, web.pk), (dev.pk, web.pk)]
    for pending in queued:
        assert pending.event_ids == [e.id for e in stored]
        assert pending.first_event_id == stored[0].id
        assert pending.received_at == stored[0].received_at


def test_a_source_connected_to_no_space_queues_nothing(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "acme")
    web = add_source(alice, workspace, "web")
    add_space(alice, workspace, "prod")

    ingest(web, track("Signed Up", "u-1"))
    deliver_all()

    assert not PendingBatch.objects.exists()


def _space_with_web(alice: User, workspace: Workspace) -> tuple[Space, Source]:
    space, web = add_space(alice, workspace, "prod"), add_source(alice, workspace, "web")
    connect(alice, space, web)
    return space, web


def test_a_drain_resolves_the_queue_into_profiles(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    space, web = _space_with_web(alice, make_workspace(alice, "acme"))
    ingest(web, track("Viewed", None, "a-1"), identify("u-1", "a-1", plan="pro"))
    ingest(web, track("Bought", "u-1"), track("Viewed", "u-2"))
    deliver_all()

    result = drain(space.pk, web.pk)

    assert (result["batches"], result["events"]) == (2, 4)
    assert not PendingBatch.objects.exists()
    live = Profile.objects.filter(space=space, canonical=None)
    assert live.count() == 2
    one = ProfileIdentifier.objects.get(space=space, type="user_id", value="u-1").profile
    assert one.traits == {"plan": "pro"}
    assert set(one.identifiers.values_list("type", "value")) == {
        ("user_id", "u-1"),
        ("anonymous_id", "a-1"),
    }
    assert ProfileEvent.objects.filter(profile=one).count() == 3


def test_batches_are_resolved_in_ingest_order_whatever_order_they_were_observed(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    space, web = _space_with_web(alice, make_workspace(alice, "acme"))
    first, second = identify("u-1", plan="free"), identify("u-1", plan="pro")
    first["messageId"], second["messageId"] = "m-first", "m-second"
    ingest(web, first)
    ingest(web, second)
    # Two delivery workers: the later batch observed first.
    for batch_id in DeliveryBatch.objects.order_by("-id").values_list("id", flat=True):
        deliver_batch(batch_id)

    drain(space.pk, web.pk)

    profile = Profile.objects.get(space=space, canonical=None)
    assert (profile.first_message_id, profile.last_message_id) == ("m-first", "m-second")


def test_a_batch_resolved_again_changes_nothing(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    space, web = _space_with_web(alice, make_workspace(alice, "acme"))
    ingest(web, identify("u-1", "a-1", plan="pro"), track("Bought", "u-1"))
    deliver_all()
    drain(space.pk, web.pk)
    before = _graph(space)

    stored = Event.objects.filter(source_id=web.pk).order_by("id")
    again = [BatchEvent(e.id, e.type, e.event_name, e.payload, e.received_at) for e in stored]
    observe_batch(web.workspace_id, web.pk, again)
    drain(space.pk, web.pk)

    assert _graph(space) == before
    assert not PendingBatch.objects.exists()


def test_a_backlog_is_resolved_several_batches_per_call_up_to_a_bound(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    space, web = _space_with_web(alice, make_workspace(alice, "acme"))
    for n in range(3):
        ingest(web, track("Viewed", f"u-{n}"), track("Viewed", f"u-{n}"))
    ingest(web, track("Viewed", "u-3"))
    deliver_all()

    first = drain(space.pk, web.pk, max_transactions=1, max_events=5)
    assert (first["batches"], first["events"], first["more"]) == (2, 4, True)
    second = drain(space.pk, web.pk, max_transactions=1, max_events=1)
    assert (second["batches"], second["events"]) == (1, 2)  # one batch, whatever its size
    rest = drain(space.pk, web.pk)
    assert (rest["batches"], rest["events"]) == (1, 1)
    assert not PendingBatch.objects.exists()
    assert ProfileEvent.objects.filter(space=space).count() == 7


def test_a_batch_the_resolver_fails_on_is_logged_and_does_not_block_the_queue(
    alice: User, make_workspace: Callable[..., Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    space, web = _space_with_web(alice, make_workspace(alice, "acme"))
    ingest(web, track("Poison", "u-1"))
    ingest(web, track("Viewed", "u-2"))
    deliver_all()
    real = resolution.resolve_events

    def failing_on_poison(target: Space, events: list[Any]) -> Any:
        if any(e.event_name == "Poison" for e in events):
            raise RuntimeError("a resolver bug")
        return real(target, events)

    monkeypatch.setattr(resolution, "resolve_events", failing_on_poison)
    drain(space.pk, web.pk)

    assert not PendingBatch.objects.exists()
    assert list(ProfileIdentifier.objects.filter(space=space).values_list("value", flat=True)) == [
        "u-2"
    ]
    logged = IdentityLog.objects.get(space=space, code="processing_failed")
    assert (logged.kind, logged.source_id) == (InsightKind.ERROR, web.pk)


def _graph(space: Space) -> tuple[object, ...]:
    return (
        sorted(Profile.objects.filter(space=space).values_list("id", "canonical_id", "traits")),
        sorted(ProfileIdentifier.objects.filter(space=space).values_list("profile_id", "value")),
        ProfileEvent.objects.filter(space=space).count(),
        IdentityLog.objects.filter(space=space).count(),
    )


def test_the_sweep_queues_a_drain_for_a_queue_left_behind(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "acme")
    space, web = _space_with_web(alice, workspace)
    other = add_source(alice, workspace, "other")
    connect(alice, space, other)
    ingest(web, track("Viewed", "u-1"))
    ingest(other, track("Viewed", "u-2"))
    deliver_all()
    PendingBatch.objects.filter(source_id=web.pk).update(
        create_time=timezone.now() - STALLED_AFTER - dt.timedelta(seconds=1)
    )
    broker = redis.Redis.from_url(settings.REDIS_URL)
    queue = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] + "default"
    broker.delete(queue)  # this run's own queue: nobody consumes it in this test

    assert requeue_stalled() == 1

    queued = [json.loads(raw)["headers"] for raw in broker.lrange(queue, 0, -1)]
    broker.delete(queue)
    assert [(h["task"], h["argsrepr"]) for h in queued] == [
        (task_names.DRAIN_FEED, f"[{space.pk}, {web.pk}]")
    ]
