# ruff: noqa: S608 - warehouse statements name generated test tables.
"""A sync run started through the API runs on a real Celery worker: extract from the
warehouse database, every row delivered to a local HTTP destination, the snapshot
committed, so the next run sends only what changed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections.reverse_etl.models import RetlSync
from switchyard.access import Principal
from tests.connections.delivery_support import Server
from tests.connections.reverse_etl.sync_support import Synced, make_synced
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from tests.worker_support import celery_worker, eventually
from workspace.services.workspaces import do_create_workspace

__all__ = ["warehouse"]


@pytest.fixture(scope="module")
def worker(django_db_setup: None) -> Iterator[subprocess.Popen[bytes]]:
    with celery_worker("retl-sync", DELIVERY_ALLOW_PRIVATE_NETWORKS="true") as process:
        yield process


def finished(key: str) -> RetlSync | None:
    sync = RetlSync.objects.get(key_id=key)
    return sync if sync.status not in RetlSync.ACTIVE else None


@pytest.mark.django_db(transaction=True)
def test_run_now_syncs_on_the_worker_and_the_next_run_sends_only_changes(
    worker: subprocess.Popen[bytes], warehouse: WarehouseDb, server: Server, alice: User
) -> None:
    acme = do_create_workspace(principal=Principal(alice), slug="acme", display_name="Acme")
    synced: Synced = make_synced(alice, acme, warehouse, server)
    api = APIClient()
    api.force_authenticate(alice)
    url = f"/v1beta/workspaces/acme/reverse-etl/mappings/{synced.mapping.key_id}/syncs:run"

    first = api.post(url)
    assert first.status_code == 200, first.json()
    done = eventually(lambda: finished(first.json()["id"]))

    assert done.status == "SUCCEEDED", done.error
    assert (done.added, done.successful) == (3, 3)
    assert synced.received_ids(server.wait_for(3)) == ["c1", "c2", "c3"]

    server.requests.clear()
    warehouse.run(f"UPDATE {synced.table} SET plan = 'enterprise' WHERE customer_id = 'c2'")
    second = api.post(url)
    done = eventually(lambda: finished(second.json()["id"]))

    assert (done.status, done.updated, done.successful) == ("SUCCEEDED", 1, 1)
    assert synced.received_ids() == ["c2"]
