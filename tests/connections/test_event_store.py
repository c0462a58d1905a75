"""Day partitions of the event table: created ahead, rows never refused, expired days dropped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from connections.dataplane import event_store
from connections.models import Event, EventMessage

pytestmark = pytest.mark.django_db

FAR = dt.date(2031, 3, 10)


def store(at: dt.datetime, message_id: str) -> Event:
    return Event.objects.create(
        received_at=at,
        workspace_id=1,
        source_id=1,
        message_id=message_id,
        type="track",
        timestamp=at,
        payload={"type": "track", "messageId": message_id},
    )


def partition_of(message_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM connections_event WHERE message_id = %s",
            [message_id],
        )
        return cursor.fetchone()[0]


def test_partitions_are_created_ahead() -> None:
    created = event_store.ensure_partitions(2, today=FAR)
    assert created == [
        "connections_event_p20310310",
        "connections_event_p20310311",
        "connections_event_p20310312",
    ]
    assert event_store.ensure_partitions(2, today=FAR) == []  # idempotent


def test_an_event_without_a_partition_lands_in_default_and_moves_later() -> None:
    at = dt.datetime(2031, 3, 10, 12, tzinfo=dt.UTC)
    store(at, "early")
    assert partition_of("early") == "connections_event_default"
    event_store.ensure_partitions(0, today=FAR)
    assert partition_of("early") == "connections_event_p20310310"
    assert Event.objects.filter(message_id="early").count() == 1


def test_expired_days_are_dropped() -> None:
    event_store.ensure_partitions(1, today=FAR)
    store(dt.datetime(2031, 3, 10, 1, tzinfo=dt.UTC), "old")
    store(dt.datetime(2031, 3, 11, 1, tzinfo=dt.UTC), "kept")
    dropped = event_store.drop_expired_partitions(30, today=FAR + dt.timedelta(days=31))
    assert "connections_event_p20310310" in dropped
    assert "connections_event_p20310311" not in dropped
    assert list(
        Event.objects.filter(message_id__in=["old", "kept"]).values_list("message_id", flat=True)
    ) == ["kept"]


def test_message_ids_are_forgotten_after_a_day() -> None:
    now = dt.datetime(2031, 3, 10, 12, tzinfo=dt.UTC)
    EventMessage.objects.create(
        source_id=1, message_id="old", received_at=now - dt.timedelta(hours=25)
    )
    EventMessage.objects.create(
        source_id=1, message_id="new", received_at=now - dt.timedelta(hours=1)
    )
    assert event_store.forget_old_messages(now) == 1
    assert list(EventMessage.objects.values_list("message_id", flat=True)) == ["new"]
