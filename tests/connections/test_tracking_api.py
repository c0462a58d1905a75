"""The Tracking API through Django's test client: every call type through each auth
form, validation, limits, dedupe, disabled sources, gzip, CORS, clock skew and the
delivery outbox."""

from __future__ import annotations

import datetime as dt
import gzip
from typing import Any
from unittest import mock

import orjson
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from connections.dataplane import ingest
from connections.dataplane.tracking.validation import BATCH_BODY_LIMIT, MESSAGE_LIMIT
from connections.models import DeliveryBatch, Event, EventMessage, WriteKey
from tests.connections.tracking_support import Tracked, counts, events, make_source, post

pytestmark = pytest.mark.django_db

CALLS: dict[str, dict[str, Any]] = {
    "identify": {"userId": "u-1", "traits": {"email": "a@example.com", "plan": "pro"}},
    "track": {"userId": "u-1", "event": "Order Completed", "properties": {"revenue": 9.5}},
    "page": {"anonymousId": "a-1", "name": "Pricing", "properties": {"path": "/pricing"}},
    "screen": {"anonymousId": "a-1", "name": "Home", "properties": {"tab": "feed"}},
    "group": {"userId": "u-1", "groupId": "g-1", "traits": {"name": "Initech"}},
    "alias": {"userId": "u-2", "previousId": "a-1"},
}
NAMES = {"track": "Order Completed", "page": "Pricing", "screen": "Home"}
SHORT = {"identify": "i", "track": "t", "page": "p", "screen": "s", "group": "g", "alias": "a"}


@pytest.fixture
def tracked(alice: User) -> Tracked:
    return make_source(alice)


def error_of(response: Any) -> str:
    body = response.json()
    assert body["success"] is False
    return str(body["error"])


# -- every call type, every auth form ------------------------------------------------


@pytest.mark.parametrize("kind", list(CALLS))
@pytest.mark.parametrize("auth", ["basic", "body"])
def test_each_call_type_is_stored_through_each_auth_form(
    client: Client, tracked: Tracked, kind: str, auth: str
) -> None:
    body = dict(CALLS[kind], messageId=f"m-{kind}")
    if auth == "body":
        response = post(client, f"/v1/{kind}", dict(body, writeKey=tracked.key))
    else:
        response = post(client, f"/v1/{kind}", body, key=tracked.key)
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True}
    (event,) = events(tracked.source)
    assert event.type == kind
    assert event.message_id == f"m-{kind}"
    assert event.workspace_id == tracked.source.workspace_id
    assert event.event_name == NAMES.get(kind, "")
    assert event.user_id == body.get("userId", "")
    assert event.anonymous_id == body.get("anonymousId", "")
    assert event.payload["type"] == kind
    assert "writeKey" not in event.payload
    for field, value in CALLS[kind].items():
        assert event.payload[field] == value
    assert counts(tracked.source) == {("accepted", kind): 1}  # counted per event type


@pytest.mark.parametrize("kind", list(CALLS))
def test_analytics_js_short_paths_and_text_plain(
    client: Client, tracked: Tracked, kind: str
) -> None:
    body = dict(CALLS[kind], writeKey=tracked.key)
    response = post(client, f"/v1/{SHORT[kind]}", body, content_type="text/plain")
    assert response.status_code == 200, response.content
    assert [e.type for e in events(tracked.source)] == [kind]


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/import", "/v1/b"])
def test_batch_stores_every_type_in_order(client: Client, tracked: Tracked, path: str) -> None:
    batch = [dict(body, type=kind) for kind, body in CALLS.items()]
    response = post(client, path, {"batch": batch, "writeKey": tracked.key})
    assert response.status_code == 200, response.content
    assert [e.type for e in events(tracked.source)] == list(CALLS)


def test_batch_context_and_integrations_merge_under_each_message(
    client: Client, tracked: Tracked
) -> None:
    body = {
        "batch": [
            {"type": "track", "userId": "u", "event": "A", "context": {"ip": "10.0.0.1"}},
            {"type": "track", "userId": "u", "event": "B", "integrations": {"All": True}},
        ],
        "context": {"library": {"name": "analytics-python"}, "ip": "8.8.8.8"},
        "integrations": {"All": False},
    }
    assert post(client, "/v1/batch", body, key=tracked.key).status_code == 200
    first, second = (e.payload for e in events(tracked.source))
    assert first["context"] == {"library": {"name": "analytics-python"}, "ip": "10.0.0.1"}
    assert first["integrations"] == {"All": False}
    assert second["context"] == {"library": {"name": "analytics-python"}, "ip": "8.8.8.8"}
    assert second["integrations"] == {"All": True}


def test_numbers_as_ids_are_stored_as_strings(client: Client, tracked: Tracked) -> None:
    body = {"userId": 42, "groupId": 7}
    assert post(client, "/v1/group", body, key=tracked.key).status_code == 200
    (event,) = events(tracked.source)
    assert event.user_id == "42"
    assert event.payload["userId"] == "42"
    assert event.payload["groupId"] == "7"


# -- write keys ----------------------------------------------------------------------


def test_missing_unknown_and_revoked_keys_are_401_and_store_nothing(
    client: Client, tracked: Tracked
) -> None:
    body = {"userId": "u", "event": "E"}
    response = post(client, "/v1/track", body)
    assert response.status_code == 401
    assert "missing write key" in error_of(response)

    response = post(client, "/v1/track", body, key="not-a-key")
    assert response.status_code == 401
    assert error_of(response) == "invalid write key (unknown or revoked)"

    WriteKey.objects.filter(secret=tracked.key).update(revoke_time=timezone.now())
    response = post(client, "/v1/track", body, key=tracked.key)
    assert response.status_code == 401
    response = post(client, "/v1/track", dict(body, writeKey=tracked.key))
    assert response.status_code == 401
    assert events(tracked.source) == []
    assert counts(tracked.source) == {}


def test_revocation_applies_to_the_very_next_request(client: Client, tracked: Tracked) -> None:
    body = {"userId": "u", "event": "E"}
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200
    WriteKey.objects.filter(secret=tracked.key).update(revoke_time=timezone.now())
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 401
    assert len(events(tracked.source)) == 1


def test_basic_auth_wins_over_the_body_key(client: Client, tracked: Tracked) -> None:
    body = {"userId": "u", "event": "E", "writeKey": "stale-key"}
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200


# -- validation ----------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("track", {"event": "E"}, "track needs a userId or an anonymousId"),
    ("identify", {"userId": "", "anonymousId": None}, "identify needs a userId or an anonymousId"),
    ("track", {"userId": "u"}, "track needs an event name"),
    ("track", {"userId": "u", "event": ""}, "track needs an event name"),
    ("track", {"userId": "u", "event": 5}, "event must be a string"),
    ("track", {"userId": ["u"], "event": "E"}, "userId must be a string"),
    ("track", {"anonymousId": {"a": 1}, "event": "E"}, "anonymousId must be a string"),
    ("track", {"userId": "u" * 257, "event": "E"}, "userId is longer than 256 characters"),
    ("track", {"userId": "u", "event": "E", "properties": []}, "properties must be an object"),
    ("identify", {"userId": "u", "traits": "x"}, "traits must be an object"),
    ("track", {"userId": "u", "event": "E", "context": 1}, "context must be an object"),
    ("track", {"userId": "u", "event": "E", "integrations": "x"}, "integrations must be an object"),
    ("page", {"userId": "u", "name": 3}, "name must be a string"),
    ("page", {"userId": "u", "category": []}, "category must be a string"),
    ("screen", {"userId": "u", "name": True}, "name must be a string"),
    ("group", {"userId": "u"}, "group needs a groupId"),
    ("group", {"userId": "u", "groupId": {"id": 1}}, "groupId must be a string"),
    ("alias", {"previousId": "a"}, "alias needs a userId (the new id)"),
    ("alias", {"userId": "u"}, "alias needs a previousId"),
    ("track", {"userId": "u", "event": "E", "messageId": 12}, "messageId must be a string"),
    (
        "track",
        {"userId": "u", "event": "E", "messageId": "m" * 101},
        "messageId is longer than 100 characters",
    ),
    (
        "track",
        {"userId": "u", "event": "E", "timestamp": "yesterday"},
        'timestamp "yesterday" is not an ISO-8601 date',
    ),
    (
        "track",
        {"userId": "u", "event": "E", "sentAt": 1700000000},
        "sentAt must be an ISO-8601 date string",
    ),
    (
        "track",
        {"userId": "u", "event": "E\x00"},
        "the message contains a NUL character (\\u0000), which cannot be stored",
    ),
]


@pytest.mark.parametrize(("kind", "body", "message"), INVALID)
def test_invalid_messages_are_400_naming_the_problem(
    client: Client, tracked: Tracked, kind: str, body: dict[str, Any], message: str
) -> None:
    response = post(client, f"/v1/{kind}", body, key=tracked.key)
    assert response.status_code == 400
    assert error_of(response) == message
    batch = {"batch": [{"type": "track", "userId": "u", "event": "ok"}, dict(body, type=kind)]}
    response = post(client, "/v1/batch", batch, key=tracked.key)
    assert response.status_code == 400
    assert error_of(response) == f"batch[1]: {message}"
    # The whole request is refused: the valid first message was not stored either.
    assert events(tracked.source) == []
    assert EventMessage.objects.count() == 0


BAD_BATCHES: list[tuple[Any, str]] = [
    ({"batch": {"type": "track"}}, "batch must be a list of messages"),
    ({}, "batch must be a list of messages"),
    ({"batch": []}, "batch is empty"),
    ({"batch": ["x"]}, "batch[0]: a message must be a JSON object"),
    (
        {"batch": [{"userId": "u"}]},
        "batch[0]: type is required (one of identify, track, page, screen, group, alias)",
    ),
    (
        {"batch": [{"type": "ping", "userId": "u"}]},
        'batch[0]: unknown type "ping"; expected one of identify, track, page, screen, '
        "group, alias",
    ),
    (
        {"batch": [{"type": "page", "userId": "u"}], "sentAt": "x"},
        'batch: sentAt "x" is not an ISO-8601 date',
    ),
    (
        {"batch": [{"type": "page", "userId": "u"}], "context": []},
        "batch: context must be an object",
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD_BATCHES)
def test_invalid_batches_are_400(client: Client, tracked: Tracked, body: Any, message: str) -> None:
    response = post(client, "/v1/batch", body, key=tracked.key)
    assert response.status_code == 400
    assert error_of(response) == message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the body is empty; send a JSON object"),
        (b"[1, 2]", "the body must be a JSON object"),
        (b'{"userId": ', "the body is not valid JSON"),
        (b"\xff\xfe", "the body is not valid JSON"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_400(
    client: Client, tracked: Tracked, raw: bytes, message: str
) -> None:
    response = post(client, "/v1/track", None, raw=raw, key=tracked.key)
    assert response.status_code == 400
    assert error_of(response).startswith(message)


def test_a_message_type_in_the_body_does_not_override_the_endpoint(
    client: Client, tracked: Tracked
) -> None:
    body = {"type": "identify", "userId": "u", "event": "E"}
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200
    assert events(tracked.source)[0].type == "track"


def test_get_is_405(client: Client) -> None:
    response = client.get("/v1/track")
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"


# -- size limits -----------------------------------------------------------------------


def padded(size: int, **fields: Any) -> dict[str, Any]:
    """A track message whose JSON is ``size`` bytes."""
    message = {"userId": "u", "event": "E", "properties": {"pad": ""}, **fields}
    message["properties"]["pad"] = "x" * (size - len(orjson.dumps(message)))
    assert len(orjson.dumps(message)) == size
    return message


def test_a_single_call_over_32_kb_is_400(client: Client, tracked: Tracked) -> None:
    body = padded(MESSAGE_LIMIT + 1, writeKey=tracked.key)
    response = post(client, "/v1/track", body)
    assert response.status_code == 400
    assert error_of(response) == "the message is larger than the 32 KB limit"
    assert post(client, "/v1/track", padded(MESSAGE_LIMIT, writeKey=tracked.key)).status_code == 200
    assert len(events(tracked.source)) == 1


def test_a_batch_message_over_32_kb_is_400(client: Client, tracked: Tracked) -> None:
    small = dict(padded(100), type="track")
    big = dict(padded(MESSAGE_LIMIT + 1 - len(',"type":"track"')), type="track")
    assert len(orjson.dumps(big)) == MESSAGE_LIMIT + 1
    response = post(client, "/v1/batch", {"batch": [small, big]}, key=tracked.key)
    assert response.status_code == 400
    assert error_of(response) == "batch[1]: the message is larger than the 32 KB limit"
    exact = dict(padded(MESSAGE_LIMIT - len(',"type":"track"')), type="track")
    assert len(orjson.dumps(exact)) == MESSAGE_LIMIT
    assert post(client, "/v1/batch", {"batch": [exact]}, key=tracked.key).status_code == 200


def test_a_batch_request_over_500_kb_is_400(client: Client, tracked: Tracked) -> None:
    message = dict(padded(20_000), type="track")
    body = {"batch": [message] * 26}  # ~520 KB
    assert len(orjson.dumps(body)) > BATCH_BODY_LIMIT
    response = post(client, "/v1/batch", body, key=tracked.key)
    assert response.status_code == 400
    assert error_of(response) == "the batch request is larger than the 500 KB limit"
    body = {"batch": [message] * 25}  # ~500,000 bytes: under 500 KiB
    assert post(client, "/v1/batch", body, key=tracked.key).status_code == 200


def test_a_batch_of_more_than_2500_events_is_400(client: Client, tracked: Tracked) -> None:
    one = {"type": "track", "userId": "u", "event": "E"}
    response = post(client, "/v1/batch", {"batch": [one] * 2501}, key=tracked.key)
    assert response.status_code == 400
    assert error_of(response) == "batch has 2,501 messages; the limit is 2,500 messages per request"
    many = [dict(one, messageId=f"m{i}") for i in range(2500)]
    assert post(client, "/v1/batch", {"batch": many}, key=tracked.key).status_code == 200
    assert Event.objects.filter(source_id=tracked.source.pk).count() == 2500


# -- dedupe ------------------------------------------------------------------------------


def test_the_same_message_id_twice_in_a_request_is_stored_once(
    client: Client, tracked: Tracked
) -> None:
    one = {"type": "track", "userId": "u", "event": "First", "messageId": "dup"}
    batch = [one, dict(one, event="Second"), dict(one, messageId="other")]
    assert post(client, "/v1/batch", {"batch": batch}, key=tracked.key).status_code == 200
    stored = events(tracked.source)
    assert [(e.message_id, e.event_name) for e in stored] == [("dup", "First"), ("other", "First")]
    assert counts(tracked.source) == {("accepted", "track"): 2, ("duplicate", ""): 1}


def test_the_same_message_id_across_requests_is_stored_once(
    client: Client, tracked: Tracked
) -> None:
    body = {"userId": "u", "event": "E", "messageId": "m-1"}
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200
    assert len(events(tracked.source)) == 1
    assert counts(tracked.source) == {("accepted", "track"): 1, ("duplicate", ""): 1}
    assert DeliveryBatch.objects.filter(source_id=tracked.source.pk).count() == 1


def test_a_message_id_older_than_24_hours_is_stored_again(client: Client, tracked: Tracked) -> None:
    body = {"userId": "u", "event": "E", "messageId": "m-old"}
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200
    EventMessage.objects.filter(message_id="m-old").update(
        received_at=timezone.now() - dt.timedelta(hours=25)
    )
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200
    assert len(events(tracked.source)) == 2


def test_message_ids_are_per_source(client: Client, tracked: Tracked, bob: User) -> None:
    other = make_source(bob, "globex")
    body = {"userId": "u", "event": "E", "messageId": "shared"}
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200
    assert post(client, "/v1/track", body, key=other.key).status_code == 200
    assert len(events(tracked.source)) == len(events(other.source)) == 1


def test_a_missing_message_id_is_generated(client: Client, tracked: Tracked) -> None:
    body = {"userId": "u", "event": "E"}
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200
    first, second = events(tracked.source)
    assert first.message_id.startswith("sy-") and len(first.message_id) == 35
    assert first.message_id != second.message_id
    assert first.payload["messageId"] == first.message_id


# -- disabled sources ------------------------------------------------------------------


def test_a_disabled_source_answers_200_stores_nothing_and_counts_the_drop(
    client: Client, tracked: Tracked
) -> None:
    type(tracked.source).objects.filter(pk=tracked.source.pk).update(enabled=False)
    batch = [{"type": "track", "userId": "u", "event": "E", "messageId": f"m{i}"} for i in range(3)]
    response = post(client, "/v1/batch", {"batch": batch}, key=tracked.key)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert events(tracked.source) == []
    assert EventMessage.objects.count() == 0
    assert DeliveryBatch.objects.count() == 0
    assert counts(tracked.source) == {("dropped", "source_disabled"): 3}


# -- gzip and CORS -----------------------------------------------------------------------


def test_gzip_bodies_are_accepted(client: Client, tracked: Tracked) -> None:
    body = {"batch": [{"type": "identify", "userId": "u", "traits": {"a": 1}}]}
    raw = gzip.compress(orjson.dumps(body))
    response = post(
        client, "/v1/batch", None, raw=raw, key=tracked.key, HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 200, response.content
    assert [e.type for e in events(tracked.source)] == ["identify"]


def test_broken_and_oversized_gzip_bodies_are_400(client: Client, tracked: Tracked) -> None:
    gz = {"HTTP_CONTENT_ENCODING": "gzip"}
    response = post(client, "/v1/track", None, raw=b"not gzip", key=tracked.key, **gz)
    assert response.status_code == 400
    assert error_of(response) == "the body is not valid gzip"
    truncated = gzip.compress(orjson.dumps({"userId": "u", "event": "E"}))[:-8]
    response = post(client, "/v1/track", None, raw=truncated, key=tracked.key, **gz)
    assert response.status_code == 400
    # A small gzip stream that inflates past the limit (a "zip bomb") stops at the limit.
    bomb = gzip.compress(b'{"userId": "u", "event": "' + b"x" * (10 * BATCH_BODY_LIMIT) + b'"}')
    assert len(bomb) < 10_000
    response = post(client, "/v1/batch", None, raw=bomb, key=tracked.key, **gz)
    assert response.status_code == 400
    assert error_of(response) == "the batch request is larger than the 500 KB limit"
    response = post(client, "/v1/track", {}, key=tracked.key, HTTP_CONTENT_ENCODING="br")
    assert response.status_code == 400
    assert events(tracked.source) == []


def test_cors_preflight_and_headers(client: Client, tracked: Tracked) -> None:
    origin = "https://shop.example.com"
    response = client.options(
        "/v1/t",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,authorization",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == origin
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = response["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "authorization" in allowed
    body = {"userId": "u", "event": "E", "writeKey": tracked.key}
    response = post(client, "/v1/t", body, content_type="text/plain", HTTP_ORIGIN=origin)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == origin
    response = post(client, "/v1/t", {}, HTTP_ORIGIN=origin)  # errors are readable too
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == origin
    assert post(client, "/v1/t", body)["Access-Control-Allow-Origin"] == "*"


# -- timestamps --------------------------------------------------------------------------


def stored_times(event: Event) -> tuple[dt.datetime, dt.datetime]:
    received = dt.datetime.fromisoformat(event.payload["receivedAt"])
    return received, dt.datetime.fromisoformat(event.payload["timestamp"])


def test_clock_skew_is_corrected_with_sent_at(client: Client, tracked: Tracked) -> None:
    # The device's clock is a day and an hour behind; the event happened 10 s before sending.
    body = {
        "userId": "u",
        "event": "E",
        "timestamp": "2020-01-01T10:00:00.000Z",
        "sentAt": "2020-01-01T10:00:10.000Z",
    }
    assert post(client, "/v1/track", body, key=tracked.key).status_code == 200
    (event,) = events(tracked.source)
    received, timestamp = stored_times(event)
    assert received - timestamp == dt.timedelta(seconds=10)
    assert event.timestamp == timestamp
    assert event.received_at == received
    assert event.payload["originalTimestamp"] == "2020-01-01T10:00:00.000Z"
    assert event.payload["sentAt"] == "2020-01-01T10:00:10.000Z"
    assert abs(timezone.now() - received) < dt.timedelta(minutes=1)


def test_a_batch_sent_at_corrects_each_message(client: Client, tracked: Tracked) -> None:
    batch = [
        {"type": "track", "userId": "u", "event": "A", "timestamp": "2020-01-01T09:59:00+00:00"},
        {"type": "track", "userId": "u", "event": "B", "timestamp": "2020-01-01T11:00:00+01:00"},
    ]
    body = {"batch": batch, "sentAt": "2020-01-01T10:01:00Z"}
    assert post(client, "/v1/batch", body, key=tracked.key).status_code == 200
    first, second = events(tracked.source)
    assert first.received_at == second.received_at  # one receivedAt per request
    assert first.received_at - first.timestamp == dt.timedelta(minutes=2)
    assert second.received_at - second.timestamp == dt.timedelta(minutes=1)


def test_timestamps_without_sent_at_are_kept_and_default_to_received_at(
    client: Client, tracked: Tracked
) -> None:
    historical = {"userId": "u", "event": "Old", "timestamp": "2019-05-01T12:00:00"}
    assert post(client, "/v1/track", historical, key=tracked.key).status_code == 200
    assert (
        post(client, "/v1/track", {"userId": "u", "event": "Now"}, key=tracked.key).status_code
        == 200
    )
    old, now = events(tracked.source)
    assert old.timestamp == dt.datetime(2019, 5, 1, 12, tzinfo=dt.UTC)
    assert old.payload["timestamp"] == "2019-05-01T12:00:00.000Z"
    assert now.timestamp == now.received_at
    assert "originalTimestamp" not in now.payload


# -- the delivery outbox -------------------------------------------------------------------


def test_new_events_get_a_delivery_batch_enqueued_after_commit(
    client: Client, tracked: Tracked, django_capture_on_commit_callbacks: Any
) -> None:
    batch = [{"type": "track", "userId": "u", "event": "E", "messageId": f"m{i}"} for i in range(3)]
    with mock.patch("switchyard.celery.app.send_task") as send_task:
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, "/v1/batch", {"batch": batch}, key=tracked.key)
        assert response.status_code == 200
        (outbox,) = DeliveryBatch.objects.filter(source_id=tracked.source.pk)
        assert outbox.event_ids == [e.pk for e in events(tracked.source)]
        assert outbox.received_at == events(tracked.source)[0].received_at
        send_task.assert_called_once_with(ingest.DELIVER_TASK, args=[outbox.pk], queue="default")

        # Only duplicates: no new events, no batch, nothing enqueued.
        send_task.reset_mock()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert post(client, "/v1/batch", {"batch": batch}, key=tracked.key).status_code == 200
        assert callbacks == []
        send_task.assert_not_called()
    assert DeliveryBatch.objects.filter(source_id=tracked.source.pk).count() == 1


def test_a_broker_failure_does_not_fail_the_request(
    client: Client, tracked: Tracked, django_capture_on_commit_callbacks: Any
) -> None:
    # The enqueue runs after the commit and is robust: its error is logged, the
    # stored events and their batch stand (the sweeper enqueues the batch later).
    down = mock.patch("switchyard.celery.app.send_task", side_effect=ConnectionError("down"))
    with down as send_task, django_capture_on_commit_callbacks(execute=True):
        response = post(client, "/v1/track", {"userId": "u", "event": "E"}, key=tracked.key)
    assert response.status_code == 200
    send_task.assert_called_once()
    assert DeliveryBatch.objects.filter(source_id=tracked.source.pk).count() == 1


# -- the tracking-only entry point ---------------------------------------------------------


def test_the_tracking_only_urlconf_serves_the_api_and_nothing_else(
    client: Client, tracked: Tracked, settings: Any
) -> None:
    import switchyard.tracking_settings as tracking_settings

    assert tracking_settings.ROOT_URLCONF == "connections.dataplane.tracking.service_urls"
    settings.ROOT_URLCONF = tracking_settings.ROOT_URLCONF
    settings.MIDDLEWARE = tracking_settings.MIDDLEWARE
    response = post(client, "/v1/track", {"userId": "u", "event": "E"}, key=tracked.key)
    assert response.status_code == 200
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    assert client.get("/login").status_code == 404
    missing = client.get("/v1beta/workspaces")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_analytics_js_settings_name_this_host(client: Client, tracked: Tracked) -> None:
    response = client.get(f"/v1/projects/{tracked.key}/settings", HTTP_ORIGIN="https://a.example")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://a.example"
    segment_io = response.json()["integrations"]["Segment.io"]
    assert segment_io == {
        "apiKey": tracked.key,
        "apiHost": "testserver/v1",
        "protocol": "http",
        "addBundledMetadata": True,
    }
    assert client.get("/v1/projects/nope/settings").status_code == 404
    WriteKey.objects.filter(secret=tracked.key).update(revoke_time=timezone.now())
    assert client.get(f"/v1/projects/{tracked.key}/settings").status_code == 404
