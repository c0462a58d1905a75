"""Audience and computed trait syncs end to end, on a real Celery worker and the
real broker, to destinations whose endpoint is a real local HTTP server: the
first sync sends every member (Identify and Track, one call per identifier
value), a later run only what changed, a real-time update its change; the
payloads as the destination receives them, whole; the sync status recorded."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone

from connections.models import Destination, Event
from engage.models import (
    Computation,
    ComputationChange,
    ComputationDestination,
    ComputationRun,
    RunStatus,
    Space,
    SyncState,
)
from engage.services import computation_runs
from engage.services import computation_sync as sync
from engage.services.computation_destinations import do_connect_destination
from engage.services.computations import do_create_computation, do_request_run
from tests.connections.delivery_support import Server, make_setup
from tests.engage.compute_support import World, audience, trait, within
from tests.engage.spaces_support import Acme, make_acme
from tests.worker_support import celery_worker, eventually

WEBHOOK = "Webhook (Actions)"
CALLS = 'type = "identify" or type = "track"'


@pytest.fixture(scope="module")
def worker(django_db_setup: None) -> Iterator[subprocess.Popen[bytes]]:
    """One worker for the module's tests, started once the test database exists
    (it reads that database)."""
    with celery_worker("engage-sync", DELIVERY_ALLOW_PRIVATE_NETWORKS="true") as process:
        yield process


@pytest.fixture
def hook() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


def finished_run(computation: Computation) -> None:
    def done() -> bool:
        runs = ComputationRun.objects.filter(computation=computation)
        return runs.exists() and not runs.exclude(status=RunStatus.SUCCEEDED).exists()

    eventually(done, timeout=120)


def synced(connection: ComputationDestination) -> Callable[[], bool]:
    def check() -> bool:
        connection.refresh_from_db()
        newest = (
            ComputationChange.objects.filter(computation_id=connection.computation_id)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
        return connection.sync_state == SyncState.SYNCED and (
            newest is None or (connection.synced_change_id or 0) >= newest
        )

    return check


def received(hook: Server, count: int) -> list[dict[str, Any]]:
    """The first ``count`` bodies, once exactly that many arrived (and no more)."""
    bodies = [r.json() for r in hook.wait_for(count, timeout=120)]
    assert len(bodies) == count, [b.get("messageId") for b in bodies]
    return bodies


def as_delivered(messages: list[dict[str, Any]], source_id: int) -> list[dict[str, Any]]:
    """What the destination gets for built messages: the message, completed as the
    Tracking API completes any stored message (receivedAt, originalTimestamp)."""
    stored = {
        e.message_id: e.payload
        for e in Event.objects.filter(
            source_id=source_id, message_id__in=[m["messageId"] for m in messages]
        )
    }
    return [
        {
            **m,
            "originalTimestamp": m["timestamp"],
            "receivedAt": stored[m["messageId"]]["receivedAt"],
        }
        for m in messages
    ]


def by_id(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(bodies, key=lambda b: str(b["messageId"]))


def personas(c: Computation) -> dict[str, str]:
    return {
        "computation_class": c.kind,
        "computation_id": c.key_id,
        "computation_key": c.key,
        "namespace": c.space.key_id,
        "space_id": c.space.key_id,
    }


def expected(
    c: Computation,
    destination: Destination,
    seed: str,
    pid: int,
    identifier: tuple[str, str],
    call: str,
    body: dict[str, Any],
    timestamp: str,
    event: str = "",
) -> dict[str, Any]:
    ref = sync.ComputationRef(c.kind, c.key_id, c.key, c.space.key_id)  # type: ignore[arg-type]
    context: dict[str, Any] = {"personas": personas(c)}
    if identifier[0] == "email" and call == "track":
        context["traits"] = {"email": identifier[1]}
    return {
        "messageId": sync.message_id(seed, destination.pk, ref, pid, identifier, call, event),
        "timestamp": timestamp,
        "type": call,
        **body,
        "context": context,
        "integrations": {"All": False, WEBHOOK: True},
    }


def stamp(at: Any) -> str:
    return str(sync.validation.iso(at))


@pytest.mark.django_db(transaction=True)
def test_first_sync_every_member_then_only_changes_and_real_time_ones(
    worker: subprocess.Popen[bytes], hook: Server
) -> None:
    acme: Acme = make_acme()
    space: Space = acme.space("main")
    world = World(space)
    now = timezone.now()
    world.identify("u1", at=now, plan="pro", email="one@example.com")
    world.identify("u2", at=now, plan="pro")
    world.identify("u3", at=now, plan="basic")
    u1, u2, u3 = world.pid("u1"), world.pid("u2"), world.pid("u3")
    pros = do_create_computation(
        principal=acme.principal,
        space=space,
        kind="audience",
        display_name="Pros",
        definition=audience(trait("plan", "eq", "pro")),
    )
    finished_run(pros)
    pros = Computation.objects.select_related("space").get(pk=pros.pk)

    setup = make_setup(acme.owner, acme.workspace, slug="engage-out")
    destination, _ = setup.webhook(f"{hook.url}/pros", trigger=CALLS)
    connection = do_connect_destination(
        principal=acme.principal,
        computation=pros,
        destination=destination.key_id,
        settings={"send_identify": True, "send_track": True},
    )

    # First sync: every member, one call per identifier value, Identify then Track.
    eventually(synced(connection), timeout=120)
    first = received(hook, 6)
    backfill = f"backfill-{connection.pk}-{connection.synced_change_id}"
    at = first[0]["timestamp"]
    entered = {"event": "Audience Entered"}
    props = {"properties": {"audience_key": "pros", "pros": True}}
    built = [
        expected(pros, destination, backfill, u1, ("user_id", "u1"), "identify",
                 {"userId": "u1", "traits": {"pros": True}}, at),
        expected(pros, destination, backfill, u1, ("user_id", "u1"), "track",
                 {"userId": "u1", **entered, **props}, at, "Audience Entered"),
        expected(pros, destination, backfill, u1, ("email", "one@example.com"), "identify",
                 {"userId": "u1", "traits": {"pros": True, "email": "one@example.com"}}, at),
        expected(pros, destination, backfill, u1, ("email", "one@example.com"), "track",
                 {"userId": "u1", **entered, **props}, at, "Audience Entered"),
        expected(pros, destination, backfill, u2, ("user_id", "u2"), "identify",
                 {"userId": "u2", "traits": {"pros": True}}, at),
        expected(pros, destination, backfill, u2, ("user_id", "u2"), "track",
                 {"userId": "u2", **entered, **props}, at, "Audience Entered"),
    ]  # fmt: skip
    assert by_id(first) == by_id(as_delivered(built, setup.source.pk))
    assert all(r.path == "/pros" for r in hook.requests)
    connection.refresh_from_db()
    assert (connection.profiles_synced, connection.messages_sent) == (2, 6)
    assert connection.backfill_time is not None and connection.last_error == ""

    # A later run: only who entered (u3) and exited (u2).
    world.identify("u3", at=timezone.now(), plan="pro")
    world.identify("u2", at=timezone.now(), plan="basic")
    run = do_request_run(principal=acme.principal, computation=pros)
    finished_run(pros)
    eventually(synced(connection), timeout=120)
    later = received(hook, 10)[6:]
    history = ComputationChange.objects.filter(run=run).values_list("profile_id", "time")
    when = {pid: stamp(t) for pid, t in history}
    seed = f"run-{run.pk}"
    exited = {"event": "Audience Exited", "properties": {"audience_key": "pros", "pros": False}}
    built = [
        expected(pros, destination, seed, u3, ("user_id", "u3"), "identify",
                 {"userId": "u3", "traits": {"pros": True}}, when[u3]),
        expected(pros, destination, seed, u3, ("user_id", "u3"), "track",
                 {"userId": "u3", **entered, **props}, when[u3], "Audience Entered"),
        expected(pros, destination, seed, u2, ("user_id", "u2"), "identify",
                 {"userId": "u2", "traits": {"pros": False}}, when[u2]),
        expected(pros, destination, seed, u2, ("user_id", "u2"), "track",
                 {"userId": "u2", **exited}, when[u2], "Audience Exited"),
    ]  # fmt: skip
    assert by_id(later) == by_id(as_delivered(built, setup.source.pk))

    # A real-time update (the feed's re-evaluation of a touched profile) is synced too.
    world.identify("u1", at=timezone.now(), plan="basic")
    computation_runs.reevaluate_profiles(space.pk, [u1])
    change = ComputationChange.objects.get(computation=pros, run=None, profile_id=u1)
    eventually(synced(connection), timeout=120)
    live = received(hook, 14)[10:]
    seed, at = f"change-{change.pk}", stamp(change.time)
    built = [
        expected(pros, destination, seed, u1, ("user_id", "u1"), "identify",
                 {"userId": "u1", "traits": {"pros": False}}, at),
        expected(pros, destination, seed, u1, ("user_id", "u1"), "track",
                 {"userId": "u1", **exited}, at, "Audience Exited"),
        expected(pros, destination, seed, u1, ("email", "one@example.com"), "identify",
                 {"userId": "u1", "traits": {"pros": False, "email": "one@example.com"}}, at),
        expected(pros, destination, seed, u1, ("email", "one@example.com"), "track",
                 {"userId": "u1", **exited}, at, "Audience Exited"),
    ]  # fmt: skip
    assert by_id(live) == by_id(as_delivered(built, setup.source.pk))
    connection.refresh_from_db()
    assert (connection.sync_state, connection.profiles_synced, connection.messages_sent) == (
        SyncState.SYNCED,
        5,
        14,
    )


@pytest.mark.django_db(transaction=True)
def test_a_computed_trait_sends_trait_computed(
    worker: subprocess.Popen[bytes], hook: Server
) -> None:
    acme = make_acme()
    space = acme.space("main")
    world = World(space)
    now = timezone.now()
    world.identify("u1", at=now)
    world.track("u1", "Order Completed", at=now)
    world.track("u1", "Order Completed", at=now)
    u1 = world.pid("u1")
    counter = {
        "version": 1,
        "type": "users",
        "kind": "event_counter",
        "event": "Order Completed",
        "where": None,
        "window": within(30),
    }
    orders = do_create_computation(
        principal=acme.principal, space=space, kind="trait", display_name="Orders",
        definition=counter,
    )  # fmt: skip
    finished_run(orders)
    orders = Computation.objects.select_related("space").get(pk=orders.pk)
    setup = make_setup(acme.owner, acme.workspace, slug="engage-traits")
    destination, _ = setup.webhook(f"{hook.url}/traits", trigger=CALLS)
    connection = do_connect_destination(
        principal=acme.principal,
        computation=orders,
        destination=destination.key_id,
        settings={"send_identify": False, "send_track": True, "trait_event": "Orders Counted"},
    )
    eventually(synced(connection), timeout=120)
    (body,) = received(hook, 1)
    seed = f"backfill-{connection.pk}-{connection.synced_change_id}"
    built = expected(
        orders, destination, seed, u1, ("user_id", "u1"), "track",
        {"userId": "u1", "event": "Orders Counted",
         "properties": {"trait_key": "orders", "orders": 2}},
        body["timestamp"], "Orders Counted",
    )  # fmt: skip
    assert body == as_delivered([built], setup.source.pk)[0]
