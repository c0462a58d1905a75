"""Segment's own Python library (segment-analytics-python), unmodified, pointed at a
live Switchyard: every call type arrives and is stored as the library sent it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from pytest_django.live_server_helper import LiveServer
from segment.analytics import Client
from segment.analytics import request as segment_request
from segment.analytics.request import APIError

from connections.dataplane import ingest
from connections.models import DeliveryBatch, Event
from tests.connections.tracking_support import Tracked, counts, events, make_source

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Delivery batches the server enqueued (kept off the shared broker)."""
    sent: list[int] = []
    monkeypatch.setattr(ingest, "enqueue_delivery", sent.append)
    yield sent


@pytest.fixture
def tracked(alice: User) -> Iterator[Tracked]:
    tracked = make_source(alice)
    earlier = set(threading.enumerate())
    yield tracked
    # The event table is not flushed between transactional tests (it is unmanaged).
    Event.objects.filter(source_id=tracked.source.pk).delete()
    # The library keeps its HTTP connection alive, and with it a live-server thread
    # and that thread's database connection: close it and let the thread end
    # (only threads of this test: an earlier test's stuck ones would cost 10 s each).
    segment_request._session.close()
    deadline = time.monotonic() + 10
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name and thread not in earlier:
            thread.join(max(0.0, deadline - time.monotonic()))


@pytest.mark.parametrize("gzip", [False, True])
def test_analytics_python_sends_every_call_type(
    live_server: LiveServer, tracked: Tracked, enqueued: list[int], gzip: bool
) -> None:
    errors: list[object] = []
    client = Client(
        tracked.key,
        host=live_server.url,
        sync_mode=True,
        gzip=gzip,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    when = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
    client.identify("user-1", {"email": "ada@example.com"})
    client.track("user-1", "Order Completed", {"revenue": 42.5}, timestamp=when)
    client.page("user-1", "Docs", "Pricing", {"path": "/pricing"})
    client.screen("user-1", "App", "Home")
    client.group("user-1", "group-1", {"name": "Initech"})
    client.alias("anon-1", "user-1")
    client.track(anonymous_id="anon-2", event="Viewed")
    client.flush()
    assert errors == []

    stored = events(tracked.source)
    assert [e.type for e in stored] == [
        "identify",
        "track",
        "page",
        "screen",
        "group",
        "alias",
        "track",
    ]
    identify, track, page, screen, group, alias, anonymous = stored
    assert identify.payload["traits"] == {"email": "ada@example.com"}
    assert track.event_name == "Order Completed"
    assert track.payload["properties"] == {"revenue": 42.5}
    assert track.payload["context"]["library"]["name"] == "analytics-python"
    # The library sends sentAt just after the call: the timestamp stays (about) as given.
    assert abs(track.timestamp - when) < dt.timedelta(seconds=5) or (
        track.payload["originalTimestamp"].startswith("2024-03-01T12:00:00")
    )
    assert page.event_name == "Pricing" and page.payload["category"] == "Docs"
    assert screen.event_name == "Home"
    assert group.payload["groupId"] == "group-1"
    assert alias.payload["previousId"] == "anon-1" and alias.user_id == "user-1"
    assert anonymous.anonymous_id == "anon-2" and anonymous.user_id == ""
    # The library's own messageIds are kept; every event went to a delivery batch.
    assert all(len(e.message_id) == 36 for e in stored)
    batches = DeliveryBatch.objects.filter(source_id=tracked.source.pk)
    assert sorted(i for b in batches for i in b.event_ids) == [e.pk for e in stored]
    assert sorted(enqueued) == sorted(b.pk for b in batches)
    assert counts(tracked.source) == {
        ("accepted", "identify"): 1,
        ("accepted", "track"): 2,
        ("accepted", "page"): 1,
        ("accepted", "screen"): 1,
        ("accepted", "group"): 1,
        ("accepted", "alias"): 1,
    }


def test_analytics_python_sees_a_bad_write_key(live_server: LiveServer, tracked: Tracked) -> None:
    client = Client("wrong-key", host=live_server.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as raised:
        client.track("user-1", "Signed Up")
    assert raised.value.status == 401
    assert raised.value.code == "invalid_write_key"
    assert raised.value.message == "invalid write key (unknown or revoked)"
    raised.value.response.close()
    del raised  # its traceback holds the response, and so the connection, open
    assert events(tracked.source) == []
