# ruff: noqa: S608 - warehouse statements name generated test tables.
"""The load step of Reverse ETL sync runs, against a real warehouse database and
a real local HTTP server: field mappings applied, batches, retries within the run
(backoff, Retry-After, 4xx not retried), the automatic retry of failed records at
the next syncs with fresh values and its 5-syncs / 14-days bound, and the loop
through a Segment Connections destination into one of our own sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from connections.reverse_etl.models import RetlRecordRetry, RetlSync, RetlSyncRecord
from connections.reverse_etl.services import syncs
from tests.connections.delivery_support import Reply, Server, make_setup
from tests.connections.reverse_etl.sync_support import Synced, make_synced, waits
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.models import Workspace

__all__ = ["waits", "warehouse"]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_destinations(settings: object) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # type: ignore[attr-defined]


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture
def synced(alice: User, acme: Workspace, warehouse: WarehouseDb, server: Server) -> Synced:
    return make_synced(alice, acme, warehouse, server)


def run(synced: Synced) -> RetlSync:
    sync = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)
    syncs.run_sync(sync.pk)
    sync.refresh_from_db()
    return sync


def hook(server: Server, **fields: object) -> dict[str, object]:
    return {"url": server.url + "/hook", "method": "POST", "data": {"@path": "$."}, **fields}


def test_the_field_mappings_make_the_payload(
    alice: User, acme: Workspace, warehouse: WarehouseDb, server: Server
) -> None:
    data = {
        "id": {"@path": "$.properties.customer_id"},
        "contact": {"@template": "{{properties.plan}}: {{properties.email}}"},
        "kind": {"@path": "$.event"},
        "source": "warehouse",
    }
    synced = make_synced(alice, acme, warehouse, server, field_mappings=hook(server, data=data))

    assert run(synced).successful == 3

    bodies = sorted((r.json() for r in server.requests), key=lambda b: b["id"])
    assert bodies[1] == {"id": "c2", "contact": "pro: b@x.io", "kind": "new", "source": "warehouse"}


def test_a_batching_webhook_gets_one_request_per_batch(
    alice: User, acme: Workspace, warehouse: WarehouseDb, server: Server
) -> None:
    fields = hook(server, enable_batching=True, batch_size=3)
    synced = make_synced(alice, acme, warehouse, server, field_mappings=fields)
    values = ", ".join(f"('c{i}', 'u{i}@x.io', 'free')" for i in range(4, 11))
    warehouse.run(f"INSERT INTO {synced.table} VALUES {values}")  # 10 rows

    sync = run(synced)

    assert (sync.successful, sync.failed) == (10, 0)
    assert len(server.requests) == 4  # ceil(10 / 3)
    assert sorted(len(r.json()) for r in server.requests) == [1, 3, 3, 3]
    assert len(synced.received_ids()) == 10


def test_a_503_is_retried_within_the_run_after_a_short_backoff(
    synced: Synced, waits: list[float]
) -> None:
    synced.server.reply(Reply(status=503))

    sync = run(synced)

    assert (sync.status, sync.successful, sync.failed) == ("SUCCEEDED", 3, 0)
    assert len(synced.server.requests) == 4
    first, *_, last = synced.server.requests
    assert first.body == last.body  # the same record, sent again
    assert len(waits) == 1
    assert 0.005 <= waits[0] <= 0.02  # the backoff's equal jitter under the pinned cap
    assert not RetlRecordRetry.objects.exists()


def test_retry_after_is_honoured_up_to_its_cap(
    synced: Synced, waits: list[float], settings: object
) -> None:
    settings.RETL_LOAD_RETRY_AFTER_MAX_SECONDS = 30  # type: ignore[attr-defined]
    synced.server.reply(
        Reply(status=429, headers={"Retry-After": "7"}),
        Reply(status=200),
        Reply(status=200),
        Reply(status=503, headers={"Retry-After": "3600"}),
    )

    sync = run(synced)

    assert (sync.successful, sync.failed) == (3, 0)
    assert waits == [7.0, 30.0]


def test_a_record_failing_every_attempt_fails_with_the_last_reason(
    synced: Synced, waits: list[float]
) -> None:
    synced.server.default = Reply(status=503)

    sync = run(synced)

    assert (sync.status, sync.failed) == ("PARTIALLY_SUCCEEDED", 3)
    assert len(synced.server.requests) == 9  # three attempts each
    assert len(waits) == 2
    reasons = set(RetlSyncRecord.objects.filter(sync=sync).values_list("reason", flat=True))
    assert len(reasons) == 1
    assert reasons.pop().startswith("errors.awaiting-retry.5xx: HTTP 503")
    retries = RetlRecordRetry.objects.filter(mapping=synced.mapping)
    assert sorted(retries.values_list("record_id", "attempts")) == [
        ("c1", 1),
        ("c2", 1),
        ("c3", 1),
    ]


def test_a_failed_record_is_retried_next_sync_with_its_latest_values(synced: Synced) -> None:
    synced.server.default = Reply(status=400)
    first = run(synced)
    assert first.failed == 3
    synced.server.default = Reply()
    synced.server.requests.clear()
    synced.warehouse.run(f"UPDATE {synced.table} SET plan = 'team' WHERE customer_id = 'c2'")

    second = run(synced)

    assert (second.status, second.successful, second.added) == ("SUCCEEDED", 3, 3)
    plans = {m["properties"]["customer_id"]: m["properties"]["plan"] for m in synced.received()}
    assert plans["c2"] == "team"
    assert not RetlRecordRetry.objects.exists()
    synced.server.requests.clear()
    assert run(synced).added == 0
    assert synced.server.requests == []


def test_a_record_is_given_up_after_failing_five_syncs_until_it_changes_again(
    synced: Synced,
) -> None:
    synced.server.default = Reply(status=400)
    for n in range(1, 5):
        sync = run(synced)
        assert (sync.failed, sync.status) == (3, "PARTIALLY_SUCCEEDED")
        assert set(RetlRecordRetry.objects.values_list("attempts", flat=True)) == {n}
    assert len(synced.server.requests) == 12

    fifth = run(synced)

    assert fifth.failed == 3
    records = RetlSyncRecord.objects.filter(sync=fifth)
    assert all(r.given_up and r.committed for r in records)
    assert all(r.reason.startswith("gave up after 5 syncs: errors.discarded.400") for r in records)
    assert not RetlRecordRetry.objects.exists()
    synced.server.requests.clear()
    synced.server.default = Reply()
    assert (run(synced).added, synced.server.requests) == (0, [])

    synced.warehouse.run(f"UPDATE {synced.table} SET plan = 'team' WHERE customer_id = 'c1'")
    again = run(synced)

    assert (again.updated, again.successful) == (1, 1)
    (message,) = synced.received()
    assert (message["event"], message["properties"]["plan"]) == ("updated", "team")


def test_a_record_failing_for_14_days_is_given_up_without_sending_it_again(
    synced: Synced,
) -> None:
    synced.server.default = Reply(status=400)
    run(synced)
    RetlRecordRetry.objects.filter(record_id="c1").update(
        first_failure_time=timezone.now() - dt.timedelta(days=14, minutes=1)
    )
    synced.server.requests.clear()

    sync = run(synced)

    assert synced.received_ids() == ["c2", "c3"]
    given_up = RetlSyncRecord.objects.get(sync=sync, record_id="c1")
    assert (given_up.outcome, given_up.given_up, given_up.committed) == ("failed", True, True)
    assert given_up.reason.startswith("gave up after 14 days: errors.discarded.400")
    assert sorted(RetlRecordRetry.objects.values_list("record_id", "attempts")) == [
        ("c2", 2),
        ("c3", 2),
    ]


def test_rows_become_identify_calls_in_one_of_our_sources_debugger(
    alice: User, acme: Workspace, warehouse: WarehouseDb, server: Server
) -> None:
    crm = make_setup(alice, acme, slug="crm")
    synced = make_synced(alice, acme, warehouse, server)
    loop = make_setup(alice, acme, slug="loop").destination(
        "segment-connections", {"source_write_key": crm.write_key}
    )
    synced.mapping.destination = loop
    synced.mapping.action = "send_identify"
    synced.mapping.field_mappings = {
        "user_id": {"@path": "$.properties.customer_id"},
        "traits": {
            "email": {"@path": "$.properties.email"},
            "plan": {"@path": "$.properties.plan"},
        },
    }
    synced.mapping.save()

    sync = run(synced)

    assert (sync.status, sync.successful) == ("SUCCEEDED", 3)
    api = APIClient()
    api.force_authenticate(alice)
    listed = api.get("/v1beta/workspaces/acme/sources/crm/events?type=identify")
    assert listed.status_code == 200, listed.json()
    events = {e["payload"]["userId"]: e["payload"] for e in listed.json()["events"]}
    assert sorted(events) == ["c1", "c2", "c3"]
    assert events["c2"]["traits"] == {"email": "b@x.io", "plan": "pro"}
    assert events["c2"]["messageId"] == f"retl-{sync.key_id}-{synced.mapping.key_id}-c2"
    assert server.requests == []


def test_pages_and_reads_of_several_pages_send_every_record_once(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(syncs, "PAGE_SIZE", 2)
    monkeypatch.setattr(syncs, "PAGES_PER_READ", 2)
    values = ", ".join(f"('c{i}', 'u{i}@x.io', 'free')" for i in range(4, 9))
    synced.warehouse.run(f"INSERT INTO {synced.table} VALUES {values}")  # 8 rows: 2 reads

    sync = run(synced)

    assert (sync.successful, sync.load_after) == (8, "c8")
    assert synced.received_ids() == [f"c{i}" for i in range(1, 9)]
