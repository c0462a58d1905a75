"""Crafted Tracking API input gets the documented JSON answer, never a 500: the
write key is checked before the body (401 first), and every body the API cannot
store is a 400 naming why. Chunked and multi-member gzip bodies are read whole."""

from __future__ import annotations

import base64
import gzip
import http.client
import io
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from connections.dataplane import ingest
from connections.dataplane.tracking.validation import BATCH_BODY_LIMIT
from connections.models import Event
from tests.connections.tracking_support import (
    Tracked,
    events,
    make_source,
    post,
    tracking_server,
)

pytestmark = pytest.mark.django_db

TRACK = {"userId": "u", "event": "E"}


@pytest.fixture
def tracked(alice: User) -> Tracked:
    return make_source(alice)


def refused(response: Any, status: int = 400) -> str:
    """The error of a documented JSON refusal."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["success"] is False
    assert body["message"] == body["error"]
    assert body["code"] == {400: "invalid_request", 401: "invalid_write_key"}[status]
    return str(body["error"])


def basic_header(username: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:".encode()).decode()


# -- timestamps out of Python's range ---------------------------------------------------

OUT_OF_RANGE = [
    {"timestamp": "0001-01-01T00:00:00+14:00"},
    {"timestamp": "9999-12-31T23:59:59-14:00"},
    {"timestamp": "9999-12-31T00:00:00Z", "sentAt": "0001-01-01T00:00:00Z"},
    {"timestamp": "0001-01-02T00:00:00Z", "sentAt": "9999-12-31T00:00:00Z"},
    {"originalTimestamp": "0001-01-01T00:00:00+14:00"},
]


@pytest.mark.parametrize("dates", OUT_OF_RANGE)
def test_timestamps_out_of_range_after_correction_are_400(
    client: Client, tracked: Tracked, dates: dict[str, str]
) -> None:
    error = refused(post(client, "/v1/track", dict(TRACK, **dates), key=tracked.key))
    assert error.startswith("timestamp is out of range")
    batch = {"batch": [dict(TRACK, type="track", **dates)]}
    error = refused(post(client, "/v1/batch", batch, key=tracked.key))
    assert error.startswith("batch[0]: timestamp is out of range")
    assert events(tracked.source) == []


def test_a_batch_sent_at_far_from_now_is_400(client: Client, tracked: Tracked) -> None:
    batch = {
        "batch": [dict(TRACK, type="track", timestamp="9000-01-01T00:00:00Z")],
        "sentAt": "0100-01-01T00:00:00Z",
    }
    error = refused(post(client, "/v1/batch", batch, key=tracked.key))
    assert error.startswith("batch[0]: timestamp is out of range")


def test_timestamps_at_the_ends_of_the_range_are_stored(client: Client, tracked: Tracked) -> None:
    for stamp in ("0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00"):
        response = post(client, "/v1/track", dict(TRACK, timestamp=stamp), key=tracked.key)
        assert response.status_code == 200, response.content
    assert [e.payload["timestamp"][:4] for e in events(tracked.source)] == ["0001", "9999"]


# -- message shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", [{}, [], 1, True, ["track"]])
def test_a_type_that_is_not_a_string_is_400(client: Client, tracked: Tracked, kind: Any) -> None:
    batch = {"batch": [dict(TRACK, type=kind)]}
    error = refused(post(client, "/v1/batch", batch, key=tracked.key))
    assert error.startswith("batch[0]: type must be a string")


def nested(levels: int) -> bytes:
    """A track message whose properties hold arrays: ``levels`` levels in all."""
    inner = b"[" * (levels - 2) + b"]" * (levels - 2)
    return b'{"userId": "u", "event": "E", "properties": {"deep": ' + inner + b"}}"


@pytest.mark.parametrize("levels", [255, 600, 1023])
def test_nesting_orjson_cannot_write_is_400_naming_the_limit(
    client: Client, tracked: Tracked, levels: int
) -> None:
    response = post(client, "/v1/track", None, raw=nested(levels), key=tracked.key)
    assert refused(response) == "the message is nested deeper than the 254 levels limit"
    assert events(tracked.source) == []


def test_the_deepest_message_orjson_can_write_is_stored(client: Client, tracked: Tracked) -> None:
    response = post(client, "/v1/track", None, raw=nested(254), key=tracked.key)
    assert response.status_code == 200, response.content
    assert len(events(tracked.source)) == 1


@pytest.mark.parametrize(
    "number", ["18446744073709551616", "-9223372036854775809", "123456789012345678901234567890"]
)
def test_integers_wider_than_64_bits_are_400(client: Client, tracked: Tracked, number: str) -> None:
    raw = b'{"userId": "u", "event": "E", "properties": {"n": ' + number.encode() + b"}}"
    error = refused(post(client, "/v1/track", None, raw=raw, key=tracked.key))
    assert error.startswith(f"the integer {number} is outside the 64-bit range")
    assert error.endswith("send it as a string")
    assert events(tracked.source) == []


def test_64_bit_integers_and_long_digit_strings_are_stored_exactly(
    client: Client, tracked: Tracked
) -> None:
    properties = {
        "max": 2**64 - 1,
        "min": -(2**63),
        "digits": "123456789012345678901234567890",
        "float": 0.5,
    }
    response = post(client, "/v1/track", dict(TRACK, properties=properties), key=tracked.key)
    assert response.status_code == 200, response.content
    assert events(tracked.source)[0].payload["properties"] == properties


# -- write keys: checked first, NUL is no key ----------------------------------------------

BAD_BODIES: list[tuple[str, bytes]] = [
    ("/v1/track", b'{"userId": '),
    ("/v1/track", b'{"event": "E"}'),
    ("/v1/track", orjson.dumps(dict(TRACK, timestamp="0001-01-01T00:00:00+14:00"))),
    ("/v1/track", nested(600)),
    ("/v1/track", b'{"userId": "u", "event": "E", "properties": {"n": 18446744073709551616}}'),
    ("/v1/batch", orjson.dumps({"batch": [dict(TRACK, type={})]})),
]


@pytest.mark.parametrize(("path", "raw"), BAD_BODIES)
def test_an_unknown_key_is_401_before_the_body_is_validated(
    client: Client, tracked: Tracked, path: str, raw: bytes
) -> None:
    for key in ("not-a-key", "x", "\x00"):
        response = post(client, path, None, raw=raw, key=key)
        assert refused(response, 401) == "invalid write key (unknown or revoked)"
    # The right key gets the 400 that names the problem.
    refused(post(client, path, None, raw=raw, key=tracked.key), 400)


def test_an_unknown_body_write_key_is_401_before_the_messages_are_validated(
    client: Client, tracked: Tracked
) -> None:
    body = {"writeKey": "not-a-key", "batch": [dict(TRACK, type={})]}
    assert refused(post(client, "/v1/batch", body), 401).startswith("invalid write key")


@pytest.mark.parametrize("key", ["\x00", "a\x00b"])
def test_a_nul_in_the_write_key_is_401(client: Client, tracked: Tracked, key: str) -> None:
    response = post(client, "/v1/track", TRACK, key=key)
    assert refused(response, 401) == "invalid write key (unknown or revoked)"
    response = post(client, "/v1/track", dict(TRACK, writeKey=key))
    assert refused(response, 401) == "invalid write key (unknown or revoked)"
    response = post(client, "/v1/batch", {"writeKey": key, "batch": [dict(TRACK, type="track")]})
    assert refused(response, 401) == "invalid write key (unknown or revoked)"
    assert events(tracked.source) == []


def test_a_basic_header_that_is_not_ascii_is_no_key(client: Client, tracked: Tracked) -> None:
    response = post(client, "/v1/track", TRACK, HTTP_AUTHORIZATION="Basic é")
    assert refused(response, 401).startswith("missing write key")
    response = post(
        client, "/v1/track", dict(TRACK, writeKey=tracked.key), HTTP_AUTHORIZATION="Basic é"
    )
    assert response.status_code == 200, response.content


# -- gzip members ------------------------------------------------------------------------


def test_every_gzip_member_is_read(client: Client, tracked: Tracked) -> None:
    raw = orjson.dumps({"batch": [dict(TRACK, type="track", messageId="m-1")]})
    half = len(raw) // 2
    members = gzip.compress(raw[:half]) + gzip.compress(raw[half:])
    gz = {"HTTP_CONTENT_ENCODING": "gzip"}
    response = post(client, "/v1/batch", None, raw=members, key=tracked.key, **gz)
    assert response.status_code == 200, response.content
    assert [e.message_id for e in events(tracked.source)] == ["m-1"]


def test_gzip_members_together_stop_at_the_size_limit(client: Client, tracked: Tracked) -> None:
    gz = {"HTTP_CONTENT_ENCODING": "gzip"}
    # Each member alone is under the limit; together they are over it.
    part = b" " * (BATCH_BODY_LIMIT // 2 + 1)
    raw = gzip.compress(b'{"batch": []' + part) + gzip.compress(part + b"}")
    assert len(raw) < 10_000
    response = post(client, "/v1/batch", None, raw=raw, key=tracked.key, **gz)
    assert refused(response) == "the batch request is larger than the 500 KB limit"
    many = gzip.compress(b"{}") * 50 + gzip.compress(part) * 2
    response = post(client, "/v1/batch", None, raw=many, key=tracked.key, **gz)
    assert refused(response) == "the batch request is larger than the 500 KB limit"


def test_a_broken_second_gzip_member_is_400(client: Client, tracked: Tracked) -> None:
    gz = {"HTTP_CONTENT_ENCODING": "gzip"}
    raw = gzip.compress(orjson.dumps(TRACK)) + b"garbage"
    response = post(client, "/v1/track", None, raw=raw, key=tracked.key, **gz)
    assert refused(response) == "the body is not valid gzip"
    raw = gzip.compress(orjson.dumps(TRACK)) + gzip.compress(b" ")[:-4]
    response = post(client, "/v1/track", None, raw=raw, key=tracked.key, **gz)
    assert refused(response) == "the body is not valid gzip (truncated)"


# -- chunked bodies, through gunicorn (the test client cannot send them) ---------------------


@pytest.fixture(name="tracking_server")
def serving_tracking() -> Iterator[int]:
    with tracking_server() as port:
        yield port


@pytest.fixture
def served(alice: User) -> Iterator[Tracked]:
    tracked = make_source(alice)
    yield tracked
    # The event table is not flushed between transactional tests (it is unmanaged).
    Event.objects.filter(source_id=tracked.source.pk).delete()


def send_chunked(port: int, path: str, chunks: list[bytes], key: str, **headers: str) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": basic_header(key), "Content-Type": "application/json", **headers}
    conn.request("POST", path, body=iter(chunks), headers=headers, encode_chunked=True)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, orjson.loads(body)


@pytest.mark.django_db(transaction=True)
def test_chunked_bodies_are_read(tracking_server: int, served: Tracked) -> None:
    raw = orjson.dumps({"batch": [dict(TRACK, type="track", messageId="m-chunked")]})
    chunks = [raw[i : i + 7] for i in range(0, len(raw), 7)]
    status, body = send_chunked(tracking_server, "/v1/batch", chunks, served.key)
    assert (status, body) == (200, {"success": True})
    assert [e.message_id for e in events(served.source)] == ["m-chunked"]

    raw = gzip.compress(orjson.dumps(dict(TRACK, messageId="m-gzip")))
    status, body = send_chunked(
        tracking_server,
        "/v1/track",
        [raw[:10], raw[10:]],
        served.key,
        **{"Content-Encoding": "gzip"},
    )
    assert (status, body) == (200, {"success": True})
    assert [e.message_id for e in events(served.source)] == ["m-chunked", "m-gzip"]


@pytest.mark.django_db(transaction=True)
def test_a_chunked_gzip_bomb_stops_at_the_limit(tracking_server: int, served: Tracked) -> None:
    bomb = gzip.compress(b'{"batch": [' + b" " * (2 * BATCH_BODY_LIMIT) + b"]}")
    chunks = [bomb[i : i + 512] for i in range(0, len(bomb), 512)]
    gz = {"Content-Encoding": "gzip"}
    status, body = send_chunked(tracking_server, "/v1/batch", chunks, served.key, **gz)
    assert status == 400
    assert body["error"] == "the batch request is larger than the 500 KB limit"
    status, body = send_chunked(tracking_server, "/v1/batch", chunks, "not-a-key", **gz)
    assert status == 401
    assert events(served.source) == []


@pytest.mark.parametrize(("size", "status"), [(BATCH_BODY_LIMIT, 200), (BATCH_BODY_LIMIT + 1, 400)])
def test_a_chunked_body_is_read_up_to_the_limit(
    client: Client, tracked: Tracked, size: int, status: int
) -> None:
    # Through the test client, with the server's de-chunked input stream and no
    # Content-Length, as gunicorn passes it (over the limit over real HTTP, the
    # server closes on a body it did not read and the client may see a reset).
    body = {"batch": [dict(TRACK, type="track")], "pad": ""}
    body["pad"] = "x" * (size - len(orjson.dumps(body)))
    raw = orjson.dumps(body)
    assert len(raw) == size
    response = client.generic(
        "POST",
        "/v1/batch",
        b"",
        HTTP_AUTHORIZATION=basic_header(tracked.key),
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_TYPE="application/json",
        **{"wsgi.input": io.BytesIO(raw)},
    )
    assert response.status_code == status, response.content[:200]


def test_ingest_refuses_a_nul_key_without_asking_postgresql() -> None:
    # Asking would raise: PostgreSQL text cannot hold NUL.
    assert ingest.ingest("\x00", [], received_at=timezone.now()) is None
