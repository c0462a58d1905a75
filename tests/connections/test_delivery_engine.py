"""Delivery, in process, against real local HTTP servers: outcomes, retries,
filters, triggers, the integrations object, batching, partner actions and
Segment Connections. (Celery and a killed worker: test_delivery_worker.py.)"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from connections.dataplane.delivery import backoff
from connections.dataplane.delivery.deliver import deliver_batch
from connections.dataplane.delivery.retries import deliver_retries
from connections.dataplane.delivery.sweep import sweep_deliveries
from connections.models import Delivery, DeliveryBatch, DeliveryProgress, Event, PipelineCount
from connections.services.filters import do_create_filter
from connections.services.subscriptions import do_update_subscription
from tests.connections.delivery_support import (
    Reply,
    Server,
    Setup,
    batch_of,
    delivery_counts,
    make_setup,
    track,
)
from workspace.models import Workspace

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def local_network(settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # the servers are on 127.0.0.1
    settings.DELIVERY_TIMEOUT_SECONDS = 2
    settings.DELIVERY_RETRY_BASE_SECONDS = 10


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Setup:
    return make_setup(alice, make_workspace(alice, "acme"))


def deliver(stored: Any) -> dict[str, Any]:
    return deliver_batch(batch_of(stored))


def due_now(row: Delivery) -> None:
    # A minute ago: due whatever the skew between this clock and the database's.
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - MINUTE)


def due_later(row: Delivery) -> None:
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() + HOUR)


@pytest.fixture
def lowest_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait exactly their floor (half the ceiling: 5 s after a first attempt)."""
    monkeypatch.setattr(backoff, "uniform", lambda low, high: low)


# --- outcomes ------------------------------------------------------------------------------


def test_an_event_is_delivered_once_with_its_message_id(web: Setup, server: Server) -> None:
    destination, _ = web.webhook(
        f"{server.url}/hook", headers={"X-Team": "growth"}, settings={"shared_secret": "s3cret"}
    )
    stored = web.track(track(messageId="m-1", properties={"total": 30}))

    summary = deliver(stored)

    assert (summary["attempted"], summary["delivered"]) == (1, 1)
    (request,) = server.requests
    assert request.method == "POST" and request.path == "/hook"
    body = request.json()
    assert body["messageId"] == "m-1" and body["properties"] == {"total": 30}
    assert body["receivedAt"]  # the stored event, as the Tracking API completed it
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Switchyard-Delivery/")
    assert request.headers["x-team"] == "growth"
    signature = hmac.new(b"s3cret", request.body, hashlib.sha1).hexdigest()
    assert request.headers["x-signature"] == signature
    assert delivery_counts(destination) == {("delivered", ""): 1}
    assert not DeliveryBatch.objects.exists()
    assert not Delivery.objects.exists()  # delivered records only live with their batch


def test_a_500_is_retried_with_the_same_message_id(
    web: Setup, server: Server, lowest_jitter: None
) -> None:
    destination, _ = web.webhook(server.url)
    server.reply(Reply(500, b"upstream exploded"))
    stored = web.track(track(messageId="m-500"))

    before = timezone.now()
    deliver(stored)
    after = timezone.now()

    row = Delivery.objects.get()
    assert row.status == "retrying" and row.attempts == 1
    assert row.code == "errors.awaiting-retry.5xx"
    assert row.response == {"status": 500, "body": "upstream exploded", "content_type": ""}
    assert row.next_attempt_at is not None
    floor = dt.timedelta(seconds=5)  # half the 10 s ceiling of a first retry
    assert before + floor <= row.next_attempt_at <= after + floor
    assert not DeliveryBatch.objects.exists()  # the retry row carries the rest

    due_later(row)
    assert deliver_retries([row.pk]) == {"retried": 0}  # not due yet
    due_now(row)
    assert deliver_retries([row.pk]) == {"retried": 1}

    first, second = server.requests
    assert first.json()["messageId"] == second.json()["messageId"] == "m-500"
    assert first.body == second.body
    assert not Delivery.objects.exists()
    assert delivery_counts(destination) == {
        ("retrying", "errors.awaiting-retry.5xx"): 1,
        ("delivered", ""): 1,
    }


def test_a_400_fails_at_once_with_its_code_and_the_response(web: Setup, server: Server) -> None:
    destination, subscription = web.webhook(f"{server.url}/in")
    server.reply(Reply(400, b'{"error": "email is invalid"}' + b"x" * 5000))
    stored = web.track(track(messageId="m-400"))

    deliver(stored)

    row = Delivery.objects.get()
    assert row.status == "failed" and row.attempts == 1
    assert row.code == "errors.discarded.400"
    assert row.subscription_id == subscription.pk and row.message_id == "m-400"
    assert row.event_type == "track" and row.event_name == "Order Completed"
    assert row.request is not None and row.response is not None
    assert row.request["method"] == "POST" and row.request["url"] == f"{server.url}/in"
    assert '"messageId":"m-400"' in row.request["body"]
    assert row.response["status"] == 400
    assert row.response["body"].startswith('{"error": "email is invalid"}')
    assert len(row.response["body"]) == 2048  # an excerpt: the first 2 KB
    assert row.payload is None and row.next_attempt_at is None
    assert len(server.requests) == 1
    assert delivery_counts(destination) == {("failed", "errors.discarded.400"): 1}


@pytest.mark.parametrize(("status", "code"), [(408, "errors.awaiting-retry.408"), (429, None)])
def test_408_and_429_are_retried(web: Setup, server: Server, status: int, code: str) -> None:
    web.webhook(server.url)
    server.reply(Reply(status))
    deliver(web.track(track()))
    row = Delivery.objects.get()
    assert row.status == "retrying"
    assert row.code == (code or "errors.awaiting-retry.429")


def test_a_timeout_is_retried(web: Setup, server: Server, settings: Any) -> None:
    settings.DELIVERY_TIMEOUT_SECONDS = 0.3
    destination, _ = web.webhook(server.url)
    server.reply(Reply(200, delay=1.5))
    deliver(web.track(track(messageId="m-slow")))
    row = Delivery.objects.get()
    assert row.status == "retrying"
    assert row.code == "errors.awaiting-retry.ETIMEDOUT"
    assert row.message == "no answer within 0.3 s"
    assert delivery_counts(destination) == {("retrying", "errors.awaiting-retry.ETIMEDOUT"): 1}


def test_a_refused_connection_is_retried(web: Setup, make_server: Callable[..., Server]) -> None:
    gone = make_server()
    url = gone.url
    gone.close()
    web.webhook(url)
    deliver(web.track(track()))
    row = Delivery.objects.get()
    assert (row.status, row.code) == ("retrying", "errors.awaiting-retry.ECONNREFUSED")


def test_retry_after_seconds_sets_the_next_attempt(web: Setup, server: Server) -> None:
    web.webhook(server.url)
    server.reply(Reply(429, headers={"Retry-After": "120"}))
    before = timezone.now()
    deliver(web.track(track()))
    after = timezone.now()
    row = Delivery.objects.get()
    assert row.code == "errors.awaiting-retry.429"
    assert row.next_attempt_at is not None
    wait = dt.timedelta(seconds=120)
    assert before + wait <= row.next_attempt_at <= after + wait


def test_retry_after_as_an_http_date(web: Setup, server: Server) -> None:
    web.webhook(server.url)
    # An HTTP-date has whole seconds.
    later = (timezone.now() + dt.timedelta(minutes=30)).replace(microsecond=0)
    server.reply(Reply(503, headers={"Retry-After": email.utils.format_datetime(later, True)}))
    before = timezone.now()
    deliver(web.track(track()))
    after = timezone.now()
    row = Delivery.objects.get()
    assert row.code == "errors.awaiting-retry.5xx"
    assert row.next_attempt_at is not None
    # The wait is counted from the answer; the due time from the recording, a moment later.
    assert later <= row.next_attempt_at <= later + (after - before)


def test_retries_stop_after_the_last_attempt(web: Setup, server: Server, settings: Any) -> None:
    settings.DELIVERY_MAX_ATTEMPTS = 2
    destination, _ = web.webhook(server.url)
    server.reply(Reply(502), Reply(503, b"still down"))
    deliver(web.track(track()))
    row = Delivery.objects.get()
    due_now(row)
    deliver_retries([row.pk])
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == 2
    assert row.code == "errors.awaiting-retry.5xx"
    assert row.message.endswith("(gave up after 2 attempt(s))")
    assert row.response is not None and row.response["body"] == "still down"
    assert row.payload is None
    assert delivery_counts(destination) == {
        ("retrying", "errors.awaiting-retry.5xx"): 1,
        ("failed", "errors.awaiting-retry.5xx"): 1,
    }


def test_no_retry_past_the_window_after_receipt(web: Setup, server: Server, settings: Any) -> None:
    settings.DELIVERY_RETRY_WINDOW = 60
    web.webhook(server.url)
    server.reply(Reply(429, headers={"Retry-After": "3600"}))
    deliver(web.track(track()))
    row = Delivery.objects.get()
    assert row.status == "failed" and row.code == "errors.awaiting-retry.429"


def test_one_dead_host_is_not_waited_for_event_after_event(
    web: Setup, server: Server, settings: Any
) -> None:
    settings.DELIVERY_TIMEOUT_SECONDS = 0.3
    web.webhook(server.url)
    server.reply(Reply(200, delay=1.5))
    deliver(web.track(*[track(messageId=f"m-{i}") for i in range(5)]))
    assert len(server.requests) == 1
    rows = Delivery.objects.order_by("event_id")
    assert [r.status for r in rows] == ["retrying"] * 5
    assert len({r.next_attempt_at for r in rows}) == 1  # retried together
    assert rows[1].message.startswith("not attempted, host down")


# --- what decides whether an event goes ----------------------------------------------------


def test_filters_and_triggers_decide_with_reasons(web: Setup, server: Server) -> None:
    destination, _ = web.webhook(server.url, trigger='type = "track" and event = "Order Completed"')
    do_create_filter(
        principal=web.principal,
        destination=destination,
        title="No internal traffic",
        if_="properties.internal = true",
        actions=[{"type": "DROP"}],
    )
    stored = web.track(
        track(messageId="kept"),
        track(messageId="internal", properties={"internal": True}),
        track("Signed Up", messageId="other-event"),
        {"type": "identify", "userId": "u", "messageId": "identify", "traits": {}},
    )

    summary = deliver(stored)

    assert [r.json()["messageId"] for r in server.requests] == ["kept"]
    assert summary["filtered"] == 3
    assert delivery_counts(destination) == {
        ("delivered", ""): 1,
        ("filtered", "FILTERED_BY_RULES"): 1,
        ("filtered", "NO_MATCHING_MAPPING"): 2,
    }


def test_each_matching_mapping_sends_once(web: Setup, make_server: Callable[..., Server]) -> None:
    one, two = make_server(), make_server()
    destination, _ = web.webhook(one.url)
    mapping = {"url": two.url, "method": "POST", "data": {"name": {"@path": "$.event"}}}
    web.mapping(destination, "send", mapping)
    deliver(web.track(track()))
    assert len(one.requests) == 1
    assert two.requests[0].json() == {"name": "Order Completed"}
    assert delivery_counts(destination) == {("delivered", ""): 2}


@pytest.mark.parametrize(
    ("integrations", "sent"),
    [
        ({"All": False}, False),
        ({"All": False, "Webhook (Actions)": True}, True),
        ({"All": False, "Webhook (Actions)": {"option": 1}}, True),
        ({"Webhook (Actions)": False}, False),
        ({"Equals": False}, True),
        ({"webhook (actions)": False}, True),  # names are case-sensitive
        ({}, True),
    ],
)
def test_the_integrations_object(
    web: Setup, server: Server, integrations: dict[str, Any], sent: bool
) -> None:
    destination, _ = web.webhook(server.url)
    deliver(web.track(track(integrations=integrations)))
    assert len(server.requests) == (1 if sent else 0)
    expected = ("delivered", "") if sent else ("filtered", "FILTERED_BY_INTEGRATIONS_OBJECT")
    assert delivery_counts(destination) == {expected: 1}


def test_disabled_destinations_mappings_and_sources_send_nothing(
    web: Setup, server: Server
) -> None:
    off, _ = web.webhook(server.url)
    off.enabled = False
    off.save()
    idle, subscription = web.webhook(server.url)
    do_update_subscription(
        principal=web.principal, subscription=subscription, changes={"enabled": False}
    )
    deliver(web.track(track()))
    assert server.requests == []
    assert delivery_counts(off) == {}
    assert delivery_counts(idle) == {("filtered", "NO_MATCHING_MAPPING"): 1}

    idle_sub = idle.subscriptions.get()
    do_update_subscription(
        principal=web.principal, subscription=idle_sub, changes={"enabled": True}
    )
    stored = web.track(track())
    web.source.enabled = False
    web.source.save()
    assert deliver(stored)["skipped"] == "source disabled or deleted"
    assert server.requests == []
    assert not DeliveryBatch.objects.exists()


# --- actions -------------------------------------------------------------------------------


def test_webhook_batching_sends_arrays_up_to_the_batch_size(web: Setup, server: Server) -> None:
    destination, _ = web.webhook(
        f"{server.url}/bulk", enable_batching=True, batch_size=3, method="PUT"
    )
    deliver(web.track(*[track(messageId=f"m-{i}") for i in range(7)]))
    assert [r.method for r in server.requests] == ["PUT"] * 3
    bodies = [r.json() for r in server.requests]
    assert [len(b) for b in bodies] == [3, 3, 1]
    assert [e["messageId"] for b in bodies for e in b] == [f"m-{i}" for i in range(7)]
    assert delivery_counts(destination) == {("delivered", ""): 7}


def test_a_failed_batch_request_fails_each_of_its_events(web: Setup, server: Server) -> None:
    web.webhook(server.url, enable_batching=True, batch_size=10)
    server.reply(Reply(503))
    deliver(web.track(*[track(messageId=f"m-{i}") for i in range(4)]))
    rows = Delivery.objects.all()
    assert len(server.requests) == 1
    assert [r.status for r in rows] == ["retrying"] * 4
    Delivery.objects.update(next_attempt_at=timezone.now() - MINUTE)
    deliver_retries([r.pk for r in rows])
    assert len(server.requests) == 2
    assert [e["messageId"] for e in server.requests[1].json()] == [f"m-{i}" for i in range(4)]
    assert not Delivery.objects.exists()


def test_a_mapping_missing_a_required_field_is_rejected(web: Setup, server: Server) -> None:
    destination, _ = web.webhook(server.url)
    web.mapping(destination, "send", {"url": {"@path": "$.properties.hook"}, "method": "POST"})
    deliver(web.track(track()))
    rejected = Delivery.objects.get()
    assert rejected.code == "errors.discarded.MESSAGE_REJECTED"
    assert "url" in rejected.message
    assert len(server.requests) == 1  # the other mapping went out


def test_equals_posts_the_mapped_data_to_its_url(web: Setup, server: Server) -> None:
    destination = web.destination("actions-equals", {"url": f"{server.url}/equals/xyz"})
    web.mapping(destination, "send")  # the default mapping: the whole event
    deliver(web.track(track(messageId="eq-1")))
    (request,) = server.requests
    assert request.path == "/equals/xyz" and request.json()["messageId"] == "eq-1"


def test_connect_and_userengage_post_to_their_endpoints(
    web: Setup, server: Server, settings: Any
) -> None:
    settings.DELIVERY_ENDPOINTS = {
        "connect": f"{server.url}/connect",
        "userengage": f"{server.url}/userengage",
    }
    connect = web.destination("connect", {"api_key": "ck_live_1234"})
    web.mapping(connect, "identify_user", trigger='type = "identify"')
    userengage = web.destination("userengage", {"api_key": "ue_key_5678"})
    web.mapping(userengage, "track_event", trigger='type = "track"')
    identify = {
        "type": "identify",
        "userId": "019mr8mf4r",
        "messageId": "id-1",
        "traits": {"name": "Michael Bolton", "email": "mb@example.com", "phone": "123"},
        "context": {"device": {"type": "ios", "token": "XXXYYYZZZ"}},
    }
    deliver(web.track(identify, track("Signed Up", messageId="tr-1", properties={"plan": "a"})))

    by_path = {r.path: r for r in server.requests}
    sent = by_path["/connect"]
    assert sent.headers["authorization"] == "Bearer ck_live_1234"
    assert sent.json()["type"] == "identify" and sent.json()["userId"] == "019mr8mf4r"
    assert sent.json()["attributes"] == {
        "first_name": "Michael",
        "last_name": "Bolton",
        "email": "mb@example.com",
        "phone_number": "123",
        "apns": "XXXYYYZZZ",
    }
    engaged = by_path["/userengage"]
    assert engaged.headers["authorization"] == "Token ue_key_5678"
    assert engaged.json()["type"] == "track" and engaged.json()["event_name"] == "Signed Up"
    assert engaged.json()["messageId"] == "tr-1" and engaged.json()["user_key"] == "user-1"


def test_a_partner_without_an_endpoint_fails_with_invalid_settings(
    web: Setup, settings: Any
) -> None:
    settings.DELIVERY_ENDPOINTS = {}
    connect = web.destination("connect", {"api_key": "ck"})
    web.mapping(connect, "track_event")
    deliver(web.track(track()))
    assert Delivery.objects.get().code == "errors.discarded.INVALID_SETTINGS"


def test_segment_connections_stores_the_event_in_another_source(web: Setup, alice: User) -> None:
    other = make_setup(alice, web.workspace, "warehouse")
    loop = web.destination("segment-connections", {"source_write_key": other.write_key})
    web.mapping(loop, "send_track")
    stored = web.track(
        track("Order Completed", messageId="loop-1", properties={"total": 12}, userId="u-9")
    )

    deliver(stored)

    copy = Event.objects.get(source_id=other.source.pk)
    assert copy.message_id == "loop-1" and copy.type == "track"
    assert copy.event_name == "Order Completed" and copy.user_id == "u-9"
    assert copy.payload["properties"] == {"total": 12}
    assert DeliveryBatch.objects.filter(source_id=other.source.pk).count() == 1
    assert delivery_counts(loop) == {("delivered", ""): 1}

    # The same message again (a retry, a replay) is a duplicate there: stored once.
    original = Event.objects.get(source_id=web.source.pk)
    replay = DeliveryBatch.objects.create(
        source_id=web.source.pk, received_at=original.received_at, event_ids=[original.pk]
    )
    deliver_batch(replay.pk)
    assert Event.objects.filter(source_id=other.source.pk).count() == 1
    assert delivery_counts(loop) == {("delivered", ""): 2}


def test_segment_connections_with_a_bad_write_key_fails(web: Setup) -> None:
    loop = web.destination("segment-connections", {"source_write_key": "nope"})
    web.mapping(loop, "send_track")
    deliver(web.track(track()))
    row = Delivery.objects.get()
    assert (row.status, row.code) == ("failed", "errors.discarded.INVALID_SETTINGS")


# --- claims, re-runs and the sweep --------------------------------------------------------


def test_a_batch_claimed_by_a_live_worker_is_skipped(web: Setup, server: Server) -> None:
    web.webhook(server.url)
    batch_id = batch_of(web.track(track()))
    DeliveryBatch.objects.filter(pk=batch_id).update(claim_time=timezone.now())
    assert "skipped" in deliver_batch(batch_id)
    assert server.requests == []


def test_a_rerun_does_not_resend_what_was_delivered(
    web: Setup, make_server: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = make_server(), make_server()
    first, _ = web.webhook(one.url)
    web.destination("actions-equals", {"url": two.url})
    equals = web.source.destinations.get(definition="actions-equals")
    web.mapping(equals, "send")
    batch_id = batch_of(web.track(track(messageId="m-1")))

    from connections.dataplane.delivery import actions

    def crash(ctx: Any, sends: Any) -> Any:
        raise SystemExit("the worker dies here")  # not an event's error: nothing catches it

    monkeypatch.setitem(actions.REGISTRY, ("actions-equals", "send"), crash)
    with pytest.raises(SystemExit):
        deliver_batch(batch_id)
    assert len(one.requests) == 1
    assert DeliveryBatch.objects.get(pk=batch_id).attempts == 1
    (progress,) = DeliveryProgress.objects.filter(batch_id=batch_id)
    assert progress.destination_id == first.pk and len(progress.event_ids) == 1
    monkeypatch.undo()

    assert "skipped" in deliver_batch(batch_id)  # the claim is still fresh
    past = timezone.now() - dt.timedelta(hours=1)
    DeliveryBatch.objects.filter(pk=batch_id).update(claim_time=past)
    deliver_batch(batch_id)

    assert len(one.requests) == 1  # not sent twice
    assert two.requests[0].json()["messageId"] == "m-1"
    assert delivery_counts(first) == {("delivered", ""): 1}
    assert not DeliveryBatch.objects.exists()
    assert not DeliveryProgress.objects.exists()


def test_the_sweep_queues_stalled_batches_and_due_retries(
    web: Setup, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchyard.celery import app

    queued: list[tuple[str, Any]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **kw: queued.append((name, args)))
    web.webhook(server.url)
    server.reply(Reply(500))
    deliver(web.track(track()))
    retry = Delivery.objects.get()
    fresh = batch_of(web.track(track()))
    lost = batch_of(web.track(track()))
    dead = batch_of(web.track(track()))
    long_ago = timezone.now() - dt.timedelta(hours=1)
    DeliveryBatch.objects.filter(pk=lost).update(create_time=long_ago)
    DeliveryBatch.objects.filter(pk=dead).update(create_time=long_ago, claim_time=long_ago)
    due_now(retry)
    old_failure = Delivery.objects.create(
        workspace_id=web.workspace.pk,
        source_id=web.source.pk,
        destination=retry.destination,
        subscription=retry.subscription,
        event_id=0,
        event_received_at=long_ago,
        message_id="old",
        status="failed",
        update_time=timezone.now() - dt.timedelta(days=31),
    )
    queued.clear()

    assert sweep_deliveries() == {"batches": 2, "retry_tasks": 1, "pruned": 1}
    assert sorted(queued, key=repr) == sorted(
        [
            ("connections.deliver_batch", [lost]),
            ("connections.deliver_batch", [dead]),
            ("connections.deliver_retries", [[retry.pk]]),
        ],
        key=repr,
    )
    assert fresh not in [args[0] for name, args in queued if name.endswith("batch")]
    assert not Delivery.objects.filter(pk=old_failure.pk).exists()


def test_the_sweep_is_scheduled_every_minute() -> None:
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="connections.sweep_deliveries")
    assert task.interval is not None
    assert (task.interval.every, task.interval.period) == (1, "minutes")


def test_counters_are_per_destination_and_minute(web: Setup, server: Server) -> None:
    destination, _ = web.webhook(server.url)
    deliver(web.track(track(), track()))
    (row,) = PipelineCount.objects.filter(stage="delivery")
    assert (row.workspace_id, row.source_id, row.destination_id) == (
        web.workspace.pk,
        web.source.pk,
        destination.pk,
    )
    assert row.bucket.second == 0 and row.count == 2
