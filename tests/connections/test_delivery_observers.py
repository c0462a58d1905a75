"""connections.dataplane.observers: what a higher layer reads of each delivery
batch (privacy detection), once, without ever stopping delivery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from connections.dataplane import observers
from connections.dataplane.delivery.claims import claim_batch
from connections.dataplane.delivery.deliver import deliver_batch
from connections.dataplane.observers import BatchEvent
from connections.models import DeliveryBatch
from tests.connections.delivery_support import Server, Setup, batch_of, make_setup, track
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_network(settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True
    settings.DELIVERY_TIMEOUT_SECONDS = 2


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Setup:
    return make_setup(alice, make_workspace(alice, "acme"))


Seen = list[tuple[str, int, list[BatchEvent]]]


@pytest.fixture
def seen() -> Iterator[Seen]:
    calls: Seen = []

    def observe(workspace_id: str, source_id: int, events: Sequence[BatchEvent]) -> None:
        calls.append((workspace_id, source_id, list(events)))

    observers.register(observe)
    yield calls
    observers.unregister(observe)


def test_observers_read_a_batch_once_with_its_events(web: Setup, seen: Seen) -> None:
    stored = web.track(track("Signed Up", messageId="m-1", properties={"plan": "pro"}))

    deliver_batch(batch_of(stored))

    ((workspace_id, source_id, events),) = seen
    assert (workspace_id, source_id) == (web.workspace.pk, web.source.pk)  # no destination
    (event,) = events
    assert (event.type, event.event_name) == ("track", "Signed Up")
    assert event.payload["properties"] == {"plan": "pro"}


def test_a_rerun_batch_is_not_observed_again(web: Setup, seen: Seen) -> None:
    batch_id = batch_of(web.track(track(messageId="m-2")))
    assert claim_batch(batch_id) is not None  # the first worker died holding it
    DeliveryBatch.objects.filter(pk=batch_id).update(
        claim_time=timezone.now() - dt.timedelta(hours=1)
    )

    deliver_batch(batch_id)

    assert seen == []
    assert not DeliveryBatch.objects.exists()


def test_a_failing_observer_does_not_stop_delivery(
    web: Setup, server: Server, seen: Seen, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(workspace_id: str, source_id: int, events: Sequence[BatchEvent]) -> None:
        from django.db import connection

        with connection.cursor() as cursor:  # a failed statement, undone by its savepoint
            cursor.execute("SELECT 1/0")

    observers.register(broken)
    try:
        web.webhook(f"{server.url}/hook")
        summary = deliver_batch(batch_of(web.track(track(messageId="m-3"))))
    finally:
        observers.unregister(broken)

    assert summary["delivered"] == 1 and len(server.requests) == 1
    assert len(seen) == 1  # the other observers still ran
    assert "batch observer" in caplog.text
