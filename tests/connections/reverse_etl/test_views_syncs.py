"""Reverse ETL sync overview, a mapping's sync history (Sync now, Reset sync with
its confirmation) and a sync's detail (status, duration, extraction and load
results, failed records with reason and sample payload, paginated; Cancel sync)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from connections.reverse_etl.models import RetlMapping, RetlSync, RetlSyncRecord
from connections.reverse_etl.services import syncs as sync_service
from switchyard import names
from tests.connections.delivery_support import Server
from tests.connections.reverse_etl.sync_support import waits
from tests.connections.reverse_etl.view_support import (
    UI,
    People,
    make_mapping,
    people,
)
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.models import AuditEntry

__all__ = ["people", "waits", "warehouse"]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_destinations(settings: Any, waits: list[float]) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def mapping(people: People, warehouse: WarehouseDb, server: Server) -> RetlMapping:
    return make_mapping(people, warehouse, server.url + "/hook", data={"@path": "$."})


def a_sync(mapping: RetlMapping, status: str, **values: Any) -> RetlSync:
    return RetlSync.objects.create(
        key_id=names.generate_id("rsyn"), mapping=mapping, status=status, **values
    )


def test_the_overview_lists_mappings_with_the_documented_columns(
    people: People, mapping: RetlMapping
) -> None:
    owner = people.client(people.owner)
    page = owner.get(f"{UI}/").content.decode()
    for column in ("Latest sync", "Mapping", "Model", "Action", "Mapping status"):
        assert f"<th>{column}</th>" in page
    assert f'data-mapping="{mapping.key_id}"' in page
    assert "Never synced" in page and "Customers to the hook" in page
    assert "<td>Send</td>" in page  # the action's catalog name
    a_sync(mapping, "SUCCEEDED", finish_time=timezone.now())
    assert ">Successful<" in owner.get(f"{UI}/").content.decode()
    a_sync(mapping, "LOADING")
    page = owner.get(f"{UI}/").content.decode()
    assert ">In progress<" in page and "(loading)" in page


def test_the_latest_failed_sync_shows_failed(people: People, mapping: RetlMapping) -> None:
    a_sync(mapping, "FAILED", error="warehouse down", finish_time=timezone.now())
    assert ">Failed<" in people.client(people.owner).get(f"{UI}/").content.decode()


def test_sync_now_runs_and_the_history_and_detail_show_its_results(
    people: People, mapping: RetlMapping, server: Server
) -> None:
    owner = people.client(people.owner)
    response = owner.post(f"{UI}/mappings/{mapping.key_id}/syncs/", {"intent": "run"})
    sync = RetlSync.objects.get(mapping=mapping)
    assert response["Location"] == f"{UI}/mappings/{mapping.key_id}/syncs/{sync.key_id}/"
    # The worker's part, run here (the task is only enqueued after a commit).
    sync_service.run_sync(sync.pk)
    history = owner.get(f"{UI}/mappings/{mapping.key_id}/syncs/").content.decode()
    assert f'data-sync="{sync.key_id}"' in history
    assert ">Successful<" in history and "2 / 0 / 0" in history
    detail = owner.get(f"{UI}/mappings/{mapping.key_id}/syncs/{sync.key_id}/").content.decode()
    assert 'data-count="added">2<' in detail
    assert 'data-count="new">2<' in detail
    assert "No failed records." in detail
    assert 'id="cancel-sync"' not in detail
    assert len(server.requests) == 2


def test_sync_now_while_a_sync_runs_says_so(people: People, mapping: RetlMapping) -> None:
    a_sync(mapping, "EXTRACTING")
    owner = people.client(people.owner)
    page = owner.get(f"{UI}/mappings/{mapping.key_id}/syncs/").content.decode()
    assert "A sync is in progress." in page
    response = owner.post(f"{UI}/mappings/{mapping.key_id}/syncs/", {"intent": "run"}, follow=True)
    assert "already running" in response.content.decode()
    assert RetlSync.objects.filter(mapping=mapping).count() == 1


def test_reset_needs_the_confirmation_ticked(people: People, mapping: RetlMapping) -> None:
    owner = people.client(people.owner)
    url = f"{UI}/mappings/{mapping.key_id}/syncs/"
    page = owner.get(url).content.decode()
    assert "I understand what happens when I reset a sync state" in page
    response = owner.post(url, {"intent": "reset"})
    assert response.status_code == 400
    assert "Tick the box to confirm the reset." in response.content.decode()
    assert not AuditEntry.objects.filter(action="reverse_etl_mapping.reset").exists()
    response = owner.post(url, {"intent": "reset", "confirm": "on"}, follow=True)
    assert "Sync state reset" in response.content.decode()
    assert AuditEntry.objects.filter(action="reverse_etl_mapping.reset").count() == 1


def test_the_detail_drills_into_failed_records_page_by_page(
    people: People, mapping: RetlMapping
) -> None:
    start = timezone.now() - datetime.timedelta(minutes=2, seconds=5)
    sync = a_sync(
        mapping,
        "PARTIALLY_SUCCEEDED",
        extracted=40,
        added=40,
        successful=10,
        failed=30,
        finish_time=start + datetime.timedelta(minutes=2, seconds=5),
    )
    RetlSync.objects.filter(pk=sync.pk).update(create_time=start)
    for i in range(30):
        RetlSyncRecord.objects.create(
            sync=sync,
            record_id=f"c{i:02d}",
            change="added",
            outcome="failed",
            reason=f"HTTP 400 from the hook for c{i:02d}",
            payload={"properties": {"customer_id": f"c{i:02d}", "plan": "<pro>"}},
        )
    for i in range(10):
        RetlSyncRecord.objects.create(
            sync=sync, record_id=f"ok{i}", change="added", outcome="successful"
        )
    owner = people.client(people.owner)
    url = f"{UI}/mappings/{mapping.key_id}/syncs/{sync.key_id}/"
    page = owner.get(url).content.decode()
    assert "Partially successful" in page
    assert "2 min 5 s" in page
    assert 'data-count="extracted">40<' in page
    assert 'data-count="new">10<' in page and 'data-count="failed">30<' in page
    assert 'data-record="c00"' in page and "HTTP 400 from the hook for c00" in page
    assert "&quot;plan&quot;: &quot;&lt;pro&gt;&quot;" in page  # the payload, escaped
    assert 'data-record="c25"' not in page and "Page 1 of 2" in page
    second = owner.get(url + "?page=2").content.decode()
    assert 'data-record="c25"' in second and 'data-record="c00"' not in second


def test_cancel_a_running_sync(people: People, mapping: RetlMapping) -> None:
    sync = a_sync(mapping, "QUEUED")
    owner = people.client(people.owner)
    url = f"{UI}/mappings/{mapping.key_id}/syncs/{sync.key_id}/"
    assert 'id="cancel-sync"' in owner.get(url).content.decode()
    response = owner.post(url, {"intent": "cancel", "reason": "paused the campaign"}, follow=True)
    sync.refresh_from_db()
    assert sync.status == "CANCELED"
    assert sync.cancel_reason == "paused the campaign"
    page = response.content.decode()
    assert "Cancel requested" in page and 'id="cancel-sync"' not in page
    assert "Canceled because: paused the campaign" in page


def test_a_reader_sees_history_but_no_sync_controls(people: People, mapping: RetlMapping) -> None:
    sync = a_sync(mapping, "LOADING")
    reader = people.client(people.reader)
    assert f'data-mapping="{mapping.key_id}"' in reader.get(f"{UI}/").content.decode()
    history = reader.get(f"{UI}/mappings/{mapping.key_id}/syncs/").content.decode()
    assert f'data-sync="{sync.key_id}"' in history
    assert 'id="sync-now"' not in history and 'id="reset-sync"' not in history
    detail_url = f"{UI}/mappings/{mapping.key_id}/syncs/{sync.key_id}/"
    assert 'id="cancel-sync"' not in reader.get(detail_url).content.decode()
    url = f"{UI}/mappings/{mapping.key_id}/syncs/"
    assert reader.post(url, {"intent": "run"}).status_code == 403
    assert reader.post(url, {"intent": "reset", "confirm": "on"}).status_code == 403
    assert reader.post(detail_url, {"intent": "cancel"}).status_code == 403
    sync.refresh_from_db()
    assert sync.status == "LOADING"
    assert RetlSync.objects.filter(mapping=mapping).count() == 1


def test_someone_outside_the_workspace_finds_no_sync(people: People, mapping: RetlMapping) -> None:
    sync = a_sync(mapping, "SUCCEEDED")
    outsider = people.client(people.outsider)
    assert outsider.get(f"{UI}/").status_code == 404
    assert outsider.get(f"{UI}/mappings/{mapping.key_id}/syncs/").status_code == 404
    detail = f"{UI}/mappings/{mapping.key_id}/syncs/{sync.key_id}/"
    assert outsider.get(detail).status_code == 404
    assert outsider.post(detail, {"intent": "cancel"}).status_code == 404
