"""One event's error at one destination is that event's outcome there: the rest of
its batch, and the destinations after it, are delivered; a re-run does not raise
(issue 11, defect 1). Real local HTTP servers stand for the destinations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections import catalog
from connections.dataplane.delivery import outcomes
from connections.dataplane.delivery.deliver import deliver_batch
from connections.models import Delivery, DeliveryBatch, Event
from tests.connections.delivery_support import (
    Server,
    Setup,
    batch_of,
    delivery_counts,
    make_setup,
    track,
)
from workspace.models import Workspace

pytestmark = pytest.mark.django_db

# Valid ISO-8601, but UTC is 14 hours before year 1: Python's dates overflow.
BEFORE_YEAR_ONE = "0001-01-01T00:00:00+14:00"
# A JSON string holding an integer JSON encoders refuse (more than 64 bits).
HUGE = "1" * 40


@pytest.fixture(autouse=True)
def local_network(settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True
    settings.DELIVERY_TIMEOUT_SECONDS = 2


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Setup:
    return make_setup(alice, make_workspace(alice, "acme"))


def _loop_with_timestamp_from_properties(web: Setup, alice: User) -> tuple[Any, Setup]:
    """The reported setup: Segment Connections whose ``timestamp`` is a property."""
    other = make_setup(alice, web.workspace, "warehouse")
    loop = web.destination("segment-connections", {"source_write_key": other.write_key})
    definition = catalog.destination("segment-connections")
    assert definition is not None
    action = definition.action("send_track")
    assert action is not None
    mapping = {**action.default_mapping(), "timestamp": {"@path": "$.properties.when"}}
    web.mapping(loop, "send_track", mapping)
    return loop, other


def _three(**bad_properties: Any) -> list[dict[str, Any]]:
    return [
        track(messageId="good-1", properties={"when": "2026-01-01T00:00:00Z"}),
        track(messageId="bad-2", properties=bad_properties),
        track(messageId="good-3", properties={"when": "2026-01-02T00:00:00Z"}),
    ]


def _replay(batch_source_id: int, message_ids: list[str]) -> int:
    """The sweep's re-run of a batch: the same events, claimed again."""
    events = Event.objects.filter(source_id=batch_source_id, message_id__in=message_ids)
    first = events.first()
    assert first is not None
    replay = DeliveryBatch.objects.create(
        source_id=batch_source_id,
        received_at=first.received_at,
        event_ids=sorted(e.pk for e in events),
    )
    return replay.pk


def test_an_overflowing_timestamp_is_discarded_alone(
    web: Setup, alice: User, server: Server
) -> None:
    loop, other = _loop_with_timestamp_from_properties(web, alice)
    hook, _ = web.webhook(f"{server.url}/hook")  # processed after the loop
    assert hook.pk > loop.pk

    result = deliver_batch(batch_of(web.track(*_three(when=BEFORE_YEAR_ONE))))

    assert result["attempted"] == 6
    copied = Event.objects.filter(source_id=other.source.pk)
    assert sorted(copied.values_list("message_id", flat=True)) == ["good-1", "good-3"]
    received = [r.json()["messageId"] for r in server.wait_for(3)]
    assert sorted(received) == ["bad-2", "good-1", "good-3"]
    bad = Delivery.objects.get(destination=loop, message_id="bad-2")
    assert bad.status == Delivery.Status.FAILED
    # Ours (INVALID_PAYLOAD) or, once the Tracking API refuses such dates itself,
    # its refusal (MESSAGE_REJECTED): a discarded outcome either way, with why.
    assert bad.code in (outcomes.INVALID_PAYLOAD, outcomes.MESSAGE_REJECTED)
    assert "out of range" in bad.message
    assert delivery_counts(loop) == {("delivered", ""): 2, ("failed", bad.code): 1}
    assert delivery_counts(hook) == {("delivered", ""): 3}

    # The sweep's re-run of the same events does not raise either.
    deliver_batch(_replay(web.source.pk, ["good-1", "bad-2", "good-3"]))
    assert Delivery.objects.get(destination=loop, message_id="bad-2").code == bad.code


def test_a_payload_json_cannot_encode_is_discarded_at_each_destination(
    web: Setup, make_server: Callable[..., Server]
) -> None:
    first, second = make_server(), make_server()
    decoded = {"@json": {"mode": "decode", "value": {"@path": "$.properties.raw"}}}
    hook, _ = web.webhook(f"{first.url}/one", data=decoded)
    # The second destination batches: the bad event must not sink its batch request.
    batched, _ = web.webhook(f"{second.url}/two", data=decoded, enable_batching=True, batch_size=10)

    stored = web.track(
        track(messageId="good-1", properties={"raw": "1"}),
        track(messageId="bad-2", properties={"raw": HUGE}),
        track(messageId="good-3", properties={"raw": "3"}),
    )
    deliver_batch(batch_of(stored))

    assert [r.json() for r in first.wait_for(2)] == [1, 3]
    (request,) = second.wait_for(1)
    assert request.json() == [1, 3]
    for destination in (hook, batched):
        bad = Delivery.objects.get(destination=destination, message_id="bad-2")
        assert (bad.status, bad.code) == (Delivery.Status.FAILED, outcomes.INVALID_PAYLOAD)
        assert "Integer exceeds 64-bit range" in bad.message
        assert delivery_counts(destination) == {
            ("delivered", ""): 2,
            ("failed", outcomes.INVALID_PAYLOAD): 1,
        }

    # Delivering the same events again does not raise: the bad one is discarded again.
    deliver_batch(_replay(web.source.pk, ["good-1", "bad-2", "good-3"]))
    assert [r.json() for r in first.wait_for(4)][2:] == [1, 3]
    assert delivery_counts(hook)[("failed", outcomes.INVALID_PAYLOAD)] == 2


def test_the_event_tester_answers_the_discarded_outcome(
    api: APIClient, web: Setup, alice: User
) -> None:
    loop, _ = _loop_with_timestamp_from_properties(web, alice)
    url = f"/v1beta/{loop.resource_name}:test"

    answer = api.post(url, {"event": track(properties={"when": BEFORE_YEAR_ONE})}, format="json")

    assert answer.status_code == 200, answer.content
    (mapping,) = answer.json()["mappings"]
    assert mapping["sent"] is True
    result = mapping["result"]
    assert result["status"] == "failed"
    assert result["code"] in (outcomes.INVALID_PAYLOAD, outcomes.MESSAGE_REJECTED)
    assert "out of range" in result["message"]


def test_the_event_tester_shows_a_payload_json_cannot_encode(
    api: APIClient, web: Setup, server: Server
) -> None:
    decoded = {"@json": {"mode": "decode", "value": {"@path": "$.properties.raw"}}}
    hook, _ = web.webhook(f"{server.url}/hook", data=decoded)
    url = f"/v1beta/{hook.resource_name}:test"

    answer = api.post(url, {"event": track(properties={"raw": HUGE})}, format="json")

    assert answer.status_code == 200, answer.content
    (mapping,) = answer.json()["mappings"]
    assert mapping["result"]["code"] == outcomes.INVALID_PAYLOAD
    assert server.requests == []


def test_a_bug_is_the_events_outcome_with_its_type_and_logged_with_its_trace(
    web: Setup, server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from connections.dataplane.delivery import actions

    broken = web.destination("actions-equals", {"url": f"{server.url}/equals"})
    web.mapping(broken, "send")
    hook, _ = web.webhook(f"{server.url}/hook")

    def buggy(ctx: Any, sends: Any) -> Any:
        raise KeyError("a performer's bug")

    monkeypatch.setitem(actions.REGISTRY, ("actions-equals", "send"), buggy)
    deliver_batch(batch_of(web.track(track(messageId="m-1"))))

    row = Delivery.objects.get(destination=broken)
    assert (row.status, row.code) == (Delivery.Status.FAILED, outcomes.INTERNAL)
    assert "KeyError" in row.message and "a performer's bug" in row.message
    (logged,) = [r for r in caplog.records if r.exc_info]
    assert logged.exc_info is not None and logged.exc_info[0] is KeyError
    assert [r.json()["messageId"] for r in server.wait_for(1)] == ["m-1"]
    assert delivery_counts(hook) == {("delivered", ""): 1}
