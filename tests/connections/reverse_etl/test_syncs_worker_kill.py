# ruff: noqa: S608 - warehouse statements name generated test tables.
"""A real Celery worker killed (SIGKILL) in the middle of a sync's load: the first
page's records were delivered and recorded, the second page's first batch is in
flight. The sweeper queues the run again and a second worker finishes it from the
recorded position: no record of the first page is sent twice, every record ends
delivered and committed, so the next run sends nothing."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from connections.reverse_etl.models import RetlSync, RetlSyncRecord
from connections.reverse_etl.services import schedules, syncs
from switchyard.access import Principal
from tests.connections.delivery_support import Reply, Server
from tests.connections.reverse_etl.sync_support import make_synced
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from tests.worker_support import celery_worker, eventually
from workspace.services.workspaces import do_create_workspace

__all__ = ["warehouse"]

ROWS = 1500  # two load pages (syncs.PAGE_SIZE is 1,000)
BATCH = 100


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_load_is_resumed_without_resending_recorded_records(
    warehouse: WarehouseDb, server: Server, alice: User, settings: Any
) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # the last, in-process run
    assert syncs.PAGE_SIZE == 1000
    acme = do_create_workspace(principal=Principal(alice), slug="acme", display_name="Acme")
    synced = make_synced(
        alice,
        acme,
        warehouse,
        server,
        field_mappings={
            "url": server.url + "/hook",
            "method": "POST",
            "data": {"@path": "$."},
            "enable_batching": True,
            "batch_size": BATCH,
        },
    )
    warehouse.run(
        f"INSERT INTO {synced.table} SELECT 'k' || lpad(g::text, 5, '0'), "
        f"'u' || g || '@x.io', 'free' FROM generate_series(1, {ROWS - 3}) g"
    )
    first_page = syncs.PAGE_SIZE // BATCH  # the first page's batches: 10 requests
    in_flight = threading.Event()
    server.reply(*[Reply() for _ in range(first_page)], Reply(hold=in_flight))

    with celery_worker("retl-kill", DELIVERY_ALLOW_PRIVATE_NETWORKS="true") as first:
        sync = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)
        server.wait_for(first_page + 1)  # the second page's first batch is held
        recorded = RetlSyncRecord.objects.filter(sync=sync)
        eventually(lambda: recorded.count() == 1000)
        first.kill()  # mid-request, as an out-of-memory kill would find it
        first.wait(timeout=30)
    in_flight.set()

    sync.refresh_from_db()
    assert sync.status == "LOADING" and not sync.load_done
    assert (sync.successful, sync.failed) == (1000, 0)
    delivered_first = synced.received_ids(server.requests[:first_page])
    assert len(delivered_first) == 1000

    # The killed worker's message stays unacknowledged on the broker (for its
    # visibility timeout); the sweeper queues a run not updated for that long again.
    RetlSync.objects.filter(pk=sync.pk).update(
        update_time=timezone.now() - schedules.stale_after() - dt.timedelta(minutes=1)
    )
    with celery_worker("retl-resume", DELIVERY_ALLOW_PRIVATE_NETWORKS="true"):
        assert schedules.resume_stale_syncs() == [sync.key_id]

        def done() -> RetlSync | None:
            sync.refresh_from_db()
            return sync if sync.status not in RetlSync.ACTIVE else None

        eventually(done)

    assert sync.status == "SUCCEEDED", sync.error
    assert (sync.added, sync.successful, sync.failed) == (ROWS, ROWS, 0)
    received = synced.received_ids()
    # The first page went once; the held batch may go twice (same messageIds).
    assert len(set(received)) == ROWS
    for record_id in delivered_first:
        assert received.count(record_id) == 1, record_id
    assert len(received) - ROWS <= BATCH
    assert recorded.filter(committed=True).count() == ROWS

    server.requests.clear()
    again = syncs.do_run_now(principal=synced.principal, mapping=synced.mapping)
    syncs.run_sync(again.pk)
    again.refresh_from_db()
    assert (again.status, again.added, again.updated, again.successful) == ("SUCCEEDED", 0, 0, 0)
    assert server.requests == []
