"""Audience and computed trait syncs (engage.services.computation_sync): the §5.8
payloads field by field, the fan-out per identifier value, which profiles a first
sync and a later one send, and delivery to a real local HTTP destination through
the connections pipeline (ingest for the destination's source, deliver_batch)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from connections.dataplane.delivery.deliver import deliver_batch
from connections.dataplane.delivery.retries import deliver_retries
from connections.models import Delivery, DeliveryBatch, Event
from engage.models import Profile, ProfileIdentifier, Space
from engage.services import computation_sync as sync
from engage.services.computation_sync import Change, ComputationRef, SyncSettings
from switchyard import names
from tests.connections.delivery_support import (
    Reply,
    Server,
    Setup,
    delivery_counts,
    make_setup,
)
from workspace.models import Workspace

AT = dt.datetime(2026, 3, 1, 12, 30, 0, 250000, tzinfo=dt.UTC)
STAMP = "2026-03-01T12:30:00.250Z"
RUN = "run-7"
AUDIENCE = ComputationRef("audience", "aud_2xYz", "first_time_shopper", "spa_9Qw")
TRAIT = ComputationRef("trait", "tra_5Abc", "total_revenue_180_days", "spa_9Qw")
WEBHOOK = "Webhook (Actions)"
ONLY_WEBHOOK = {"All": False, WEBHOOK: True}

AUDIENCE_PERSONAS = {
    "computation_class": "audience",
    "computation_id": "aud_2xYz",
    "computation_key": "first_time_shopper",
    "namespace": "spa_9Qw",
    "space_id": "spa_9Qw",
}
TRAIT_PERSONAS = {
    "computation_class": "trait",
    "computation_id": "tra_5Abc",
    "computation_key": "total_revenue_180_days",
    "namespace": "spa_9Qw",
    "space_id": "spa_9Qw",
}


def build(
    ref: ComputationRef,
    settings: SyncSettings,
    change: Change,
    identifiers: list[tuple[str, str]],
    integration: str = WEBHOOK,
) -> list[dict[str, Any]]:
    return sync.build_messages(
        ref, settings, change, identifiers, integration=integration, run_id=RUN, timestamp=AT
    )


def mid(
    ref: ComputationRef,
    identifier: tuple[str, str],
    call: str,
    event: str = "",
    destination: int = 4,
    profile: int = 11,
) -> str:
    return sync.message_id(RUN, destination, ref, profile, identifier, call, event)


# --- payloads, field by field --------------------------------------------------------------


def test_audience_identify_on_entry_and_exit() -> None:
    settings = SyncSettings(destination_id=4, send_identify=True, send_track=False)
    user = ("user_id", "u123")
    entered = build(AUDIENCE, settings, Change(11, False, True), [user])
    exited = build(AUDIENCE, settings, Change(11, True, False), [user])
    assert entered == [
        {
            "messageId": mid(AUDIENCE, user, "identify"),
            "timestamp": STAMP,
            "type": "identify",
            "userId": "u123",
            "traits": {"first_time_shopper": True},
            "context": {"personas": AUDIENCE_PERSONAS},
            "integrations": ONLY_WEBHOOK,
        }
    ]
    assert exited == [
        {
            "messageId": mid(AUDIENCE, user, "identify"),
            "timestamp": STAMP,
            "type": "identify",
            "userId": "u123",
            "traits": {"first_time_shopper": False},
            "context": {"personas": AUDIENCE_PERSONAS},
            "integrations": ONLY_WEBHOOK,
        }
    ]


def test_audience_track_entered_and_exited() -> None:
    settings = SyncSettings(destination_id=4, send_identify=False, send_track=True)
    user = ("user_id", "u123")
    entered = build(AUDIENCE, settings, Change(11, False, True), [user])
    exited = build(AUDIENCE, settings, Change(11, True, False), [user])
    assert entered == [
        {
            "messageId": mid(AUDIENCE, user, "track", "Audience Entered"),
            "timestamp": STAMP,
            "type": "track",
            "userId": "u123",
            "event": "Audience Entered",
            "properties": {"audience_key": "first_time_shopper", "first_time_shopper": True},
            "context": {"personas": AUDIENCE_PERSONAS},
            "integrations": ONLY_WEBHOOK,
        }
    ]
    assert exited == [
        {
            "messageId": mid(AUDIENCE, user, "track", "Audience Exited"),
            "timestamp": STAMP,
            "type": "track",
            "userId": "u123",
            "event": "Audience Exited",
            "properties": {"audience_key": "first_time_shopper", "first_time_shopper": False},
            "context": {"personas": AUDIENCE_PERSONAS},
            "integrations": ONLY_WEBHOOK,
        }
    ]


def test_both_calls_identify_first() -> None:
    settings = SyncSettings(destination_id=4, send_identify=True, send_track=True)
    messages = build(AUDIENCE, settings, Change(11, None, True), [("user_id", "u123")])
    assert [(m["type"], m.get("event")) for m in messages] == [
        ("identify", None),
        ("track", "Audience Entered"),
    ]


def test_custom_event_names() -> None:
    settings = SyncSettings(
        destination_id=4,
        send_identify=False,
        send_track=True,
        entered_event="Became VIP",
        exited_event="Left VIP",
        trait_event="Revenue Updated",
    )
    user = ("user_id", "u123")
    (entered,) = build(AUDIENCE, settings, Change(11, False, True), [user])
    (exited,) = build(AUDIENCE, settings, Change(11, True, False), [user])
    (trait,) = build(TRAIT, settings, Change(11, 10, 450.0), [user])
    assert (entered["event"], exited["event"], trait["event"]) == (
        "Became VIP",
        "Left VIP",
        "Revenue Updated",
    )
    assert entered["messageId"] == mid(AUDIENCE, user, "track", "Became VIP")
    assert trait["properties"] == {
        "trait_key": "total_revenue_180_days",
        "total_revenue_180_days": 450.0,
    }


def test_trait_identify_and_track() -> None:
    settings = SyncSettings(destination_id=4, send_identify=True, send_track=True)
    user = ("user_id", "u123")
    assert build(TRAIT, settings, Change(11, 300.0, 450.0), [user]) == [
        {
            "messageId": mid(TRAIT, user, "identify"),
            "timestamp": STAMP,
            "type": "identify",
            "userId": "u123",
            "traits": {"total_revenue_180_days": 450.0},
            "context": {"personas": TRAIT_PERSONAS},
            "integrations": ONLY_WEBHOOK,
        },
        {
            "messageId": mid(TRAIT, user, "track", "Trait Computed"),
            "timestamp": STAMP,
            "type": "track",
            "userId": "u123",
            "event": "Trait Computed",
            "properties": {
                "trait_key": "total_revenue_180_days",
                "total_revenue_180_days": 450.0,
            },
            "context": {"personas": TRAIT_PERSONAS},
            "integrations": ONLY_WEBHOOK,
        },
    ]


def test_sql_decimals_are_sent_as_json_numbers() -> None:
    settings = SyncSettings(destination_id=4, send_identify=True)
    user = [("user_id", "u")]
    (whole,) = build(TRAIT, settings, Change(11, None, Decimal("450.00")), user)
    (part,) = build(TRAIT, settings, Change(11, None, Decimal("12.5")), user)
    assert whole["traits"] == {"total_revenue_180_days": 450.0}
    assert part["traits"] == {"total_revenue_180_days": 12.5}
    assert type(whole["traits"]["total_revenue_180_days"]) is float


def test_the_integrations_object_names_the_destination_by_its_catalog_name() -> None:
    settings = SyncSettings(destination_id=4, send_identify=True, send_track=True)
    messages = build(AUDIENCE, settings, Change(11, None, True), [("user_id", "u")], "Braze Cloud")
    assert [m["integrations"] for m in messages] == [{"All": False, "Braze Cloud": True}] * 2


# --- fan-out -------------------------------------------------------------------------------


def test_one_call_per_user_id_and_per_email_email_in_traits_or_context_traits() -> None:
    settings = SyncSettings(destination_id=4, send_identify=True, send_track=True)
    identifiers = [
        ("user_id", "u123"),
        ("email", "a@example.com"),
        ("anonymous_id", "anon-1"),
        ("email", "b@example.com"),
        ("segment_id", "use_1"),
    ]
    messages = build(AUDIENCE, settings, Change(11, False, True), identifiers)
    entered = {"audience_key": "first_time_shopper", "first_time_shopper": True}
    expected = []
    for identifier, email in (
        (("user_id", "u123"), None),
        (("email", "a@example.com"), "a@example.com"),
        (("email", "b@example.com"), "b@example.com"),
    ):
        traits: dict[str, Any] = {"first_time_shopper": True}
        context: dict[str, Any] = {"personas": AUDIENCE_PERSONAS}
        if email:
            traits["email"] = email
        expected.append(
            {
                "messageId": mid(AUDIENCE, identifier, "identify"),
                "timestamp": STAMP,
                "type": "identify",
                "userId": "u123",
                "traits": traits,
                "context": {"personas": AUDIENCE_PERSONAS},
                "integrations": ONLY_WEBHOOK,
            }
        )
        if email:
            context["traits"] = {"email": email}
        expected.append(
            {
                "messageId": mid(AUDIENCE, identifier, "track", "Audience Entered"),
                "timestamp": STAMP,
                "type": "track",
                "userId": "u123",
                "event": "Audience Entered",
                "properties": entered,
                "context": context,
                "integrations": ONLY_WEBHOOK,
            }
        )
    assert messages == expected  # anonymous_id: not without include_anonymous
    assert len({m["messageId"] for m in messages}) == 6


def test_one_call_per_anonymous_id_only_when_anonymous_users_are_included() -> None:
    identifiers = [("anonymous_id", "anon-1"), ("anonymous_id", "anon-2"), ("segment_id", "use_1")]
    left_out = SyncSettings(destination_id=4, send_identify=True, include_anonymous=False)
    assert build(TRAIT, left_out, Change(11, None, 3), identifiers) == []

    included = SyncSettings(destination_id=4, send_identify=True, include_anonymous=True)
    assert build(TRAIT, included, Change(11, None, 3), identifiers) == [
        {
            "messageId": mid(TRAIT, ("anonymous_id", anon), "identify"),
            "timestamp": STAMP,
            "type": "identify",
            "anonymousId": anon,
            "traits": {"total_revenue_180_days": 3},
            "context": {"personas": TRAIT_PERSONAS},
            "integrations": ONLY_WEBHOOK,
        }
        for anon in ("anon-1", "anon-2")
    ]


def test_anonymous_calls_of_a_known_user_carry_the_user_id_too() -> None:
    settings = SyncSettings(destination_id=4, send_identify=True, include_anonymous=True)
    messages = build(
        AUDIENCE, settings, Change(11, None, True), [("user_id", "u1"), ("anonymous_id", "a1")]
    )
    assert [(m.get("userId"), m.get("anonymousId")) for m in messages] == [
        ("u1", None),
        ("u1", "a1"),
    ]


def test_the_carrier_of_email_calls_without_a_user_id() -> None:
    settings = SyncSettings(destination_id=4, send_identify=True)
    email = ("email", "e@example.com")
    # the first anonymous id (even when anonymous calls are not sent), else the segment id
    (with_anon,) = build(
        AUDIENCE,
        settings,
        Change(11, None, True),
        [("anonymous_id", "a1"), ("anonymous_id", "a2"), email, ("segment_id", "use_1")],
    )
    (email_only,) = build(AUDIENCE, settings, Change(11, None, True), [email, ("segment_id", "u")])
    assert (with_anon["anonymousId"], "userId" in with_anon) == ("a1", False)
    assert email_only["anonymousId"] == "u"
    assert email_only["traits"] == {"first_time_shopper": True, "email": "e@example.com"}


def test_message_ids_are_deterministic_and_differ_per_run_destination_and_call() -> None:
    user = ("user_id", "u")
    settings = SyncSettings(destination_id=4, send_identify=True, send_track=True)
    first = build(AUDIENCE, settings, Change(11, None, True), [user])
    again = build(AUDIENCE, settings, Change(11, None, True), [user])
    assert [m["messageId"] for m in first] == [m["messageId"] for m in again]
    other_run = sync.build_messages(
        AUDIENCE,
        settings,
        Change(11, None, True),
        [user],
        integration=WEBHOOK,
        run_id="run-8",
        timestamp=AT,
    )
    other_destination = build(
        AUDIENCE,
        SyncSettings(5, send_identify=True, send_track=True),
        Change(11, None, True),
        [user],
    )
    ids = {m["messageId"] for m in first + other_run + other_destination}
    assert len(ids) == 6
    assert all(i.startswith("engage-") and len(i) <= 100 for i in ids)


# --- first sync and later ones -------------------------------------------------------------


def test_first_sync_sends_every_member_later_only_changes() -> None:
    assert sync.initial_changes(AUDIENCE, {3, 1, 2}) == [
        Change(1, None, True),
        Change(2, None, True),
        Change(3, None, True),
    ]
    assert sync.initial_changes(TRAIT, {2: 5, 1: None, 3: "x"}) == [
        Change(2, None, 5),
        Change(3, None, "x"),
    ]
    assert sync.audience_changes(entered=[5, 1], exited=[3]) == [
        Change(1, False, True),
        Change(3, True, False),
        Change(5, False, True),
    ]
    assert sync.trait_changes({1: 5, 2: 7, 3: 1}, {1: 5, 2: 8, 4: 2}) == [
        Change(2, 7, 8),
        Change(3, 1, None),
        Change(4, None, 2),
    ]


# --- identifiers and delivery (database) ----------------------------------------------------


@pytest.fixture
def hook() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


@pytest.fixture(autouse=True)
def local_network(settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # the server is on 127.0.0.1
    settings.DELIVERY_TIMEOUT_SECONDS = 2


@pytest.fixture
def engage_out(alice: User, make_workspace: Callable[..., Workspace]) -> tuple[Setup, Space]:
    """A space and the source its audiences' destinations are connected to."""
    setup = make_setup(alice, make_workspace(alice, "acme"), slug="engage-prod")
    space = Space.objects.create(
        workspace=setup.workspace,
        key_id=names.generate_id("spa", 24),
        slug="prod",
        display_name="Prod",
    )
    return setup, space


def add_profile(space: Space, *identifiers: tuple[str, str]) -> Profile:
    now = timezone.now()
    profile = Profile.objects.create(
        space=space,
        segment_id=names.generate_id("use_", 24),
        create_time=now,
        update_time=now,
    )
    for n, (kind, value) in enumerate(identifiers):
        seen = now + dt.timedelta(seconds=n)
        ProfileIdentifier.objects.create(
            space=space, type=kind, value=value, profile=profile, first_seen=seen, last_seen=seen
        )
    return profile


@pytest.mark.django_db
def test_load_identifiers_in_seen_order_with_the_segment_id_last(
    engage_out: tuple[Setup, Space],
) -> None:
    _, space = engage_out
    one = add_profile(
        space,
        ("anonymous_id", "a1"),
        ("email", "e@example.com"),
        ("user_id", "u1"),
        ("phone", "+1555"),
    )
    two = add_profile(space)
    assert sync.load_identifiers(space.pk, [one.pk, two.pk, 999_999]) == {
        one.pk: [
            ("anonymous_id", "a1"),
            ("email", "e@example.com"),
            ("user_id", "u1"),
            ("segment_id", one.segment_id),
        ],
        two.pk: [("segment_id", two.segment_id)],
    }


def deliver_all() -> None:
    for batch_id in DeliveryBatch.objects.order_by("id").values_list("id", flat=True):
        deliver_batch(batch_id)


@pytest.mark.django_db
def test_sent_through_delivery_to_a_local_destination_byte_for_byte(
    engage_out: tuple[Setup, Space], hook: Server
) -> None:
    setup, space = engage_out
    destination, _ = setup.webhook(
        f"{hook.url}/engage", trigger='type = "identify" or type = "track"'
    )
    profile = add_profile(space, ("user_id", "u123"), ("email", "a@example.com"))
    ref = ComputationRef("audience", "aud_1", "first_time_shopper", space.key_id)
    settings = SyncSettings(destination.pk, send_identify=True, send_track=True)
    identifiers = sync.load_identifiers(space.pk, [profile.pk])
    messages = sync.messages_for(
        ref,
        settings,
        sync.initial_changes(ref, {profile.pk}),
        identifiers,
        run_id="backfill-1",
        timestamp=AT,
    )
    assert len(messages) == 4

    stored = sync.send(space, [destination.pk], messages)
    deliver_all()

    assert [s.stored for s in stored] == [4]
    received = [r.json() for r in hook.wait_for(4)]
    assert len(received) == 4
    events = {e.message_id: e for e in Event.objects.filter(source_id=setup.source.pk)}
    # What the destination got is the message as built, completed as the Tracking
    # API completes any stored message (receivedAt, originalTimestamp).
    expected = [
        {
            **m,
            "originalTimestamp": STAMP,
            "receivedAt": events[m["messageId"]].payload["receivedAt"],
        }
        for m in messages
    ]
    assert sorted(received, key=lambda b: b["messageId"]) == sorted(
        expected, key=lambda b: b["messageId"]
    )
    assert all(r.path == "/engage" for r in hook.requests)
    assert delivery_counts(destination) == {("delivered", ""): 4}

    # A retried sync (same run): the messageIds are known, nothing is sent again.
    again = sync.send(space, [destination.pk], messages)
    deliver_all()
    assert [s.stored for s in again] == [0]
    assert len(hook.requests) == 4


@pytest.mark.django_db
def test_other_destinations_of_the_source_get_nothing(
    engage_out: tuple[Setup, Space], hook: Server
) -> None:
    setup, space = engage_out
    other = Server()
    try:
        connected, _ = setup.webhook(f"{hook.url}/in", trigger='type = "identify"')
        equals = setup.destination("actions-equals", {"url": f"{hook.url}/equals"})
        ref = ComputationRef("trait", "tra_1", "visits", space.key_id)
        profile = add_profile(space, ("user_id", "u9"))
        messages = sync.messages_for(
            ref,
            SyncSettings(connected.pk),
            [Change(profile.pk, 1, 2)],
            sync.load_identifiers(space.pk, [profile.pk]),
            run_id="r",
            timestamp=AT,
        )
        sync.send(space, [connected.pk], messages)
        deliver_all()
        (body,) = [r.json() for r in hook.wait_for(1)]
        assert body["traits"] == {"visits": 2}
        assert delivery_counts(equals) == {("filtered", "FILTERED_BY_INTEGRATIONS_OBJECT"): 1}

        # A second webhook on that source could not be told apart by the
        # integrations object: refused before anything is stored.
        setup.webhook(f"{other.url}/in", trigger='type = "identify"')
        with pytest.raises(sync.AmbiguousDestination):
            sync.send(space, [connected.pk], messages)
        assert other.requests == []
    finally:
        other.close()


@pytest.mark.django_db
def test_a_failed_sync_call_is_retried_by_delivery_with_its_message_id(
    engage_out: tuple[Setup, Space], hook: Server
) -> None:
    setup, space = engage_out
    destination, _ = setup.webhook(hook.url, trigger='type = "identify"')
    hook.reply(Reply(503, b"busy"))
    profile = add_profile(space, ("user_id", "u1"))
    ref = ComputationRef("audience", "aud_1", "vip", space.key_id)
    messages = sync.messages_for(
        ref,
        SyncSettings(destination.pk),
        sync.audience_changes(entered=[], exited=[profile.pk]),
        sync.load_identifiers(space.pk, [profile.pk]),
        run_id="r2",
        timestamp=AT,
    )
    sync.send(space, [destination.pk], messages)
    deliver_all()

    row = Delivery.objects.get(destination=destination)
    assert (row.status, row.message_id) == ("retrying", messages[0]["messageId"])
    Delivery.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert deliver_retries([row.pk]) == {"retried": 1}

    first, second = hook.wait_for(2)
    assert first.body == second.body
    assert second.json()["traits"] == {"vip": False}
    assert delivery_counts(destination) == {
        ("retrying", "errors.awaiting-retry.5xx"): 1,
        ("delivered", ""): 1,
    }
