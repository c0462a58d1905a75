"""The Reverse ETL mappings and sync runs API: mapping CRUD and duplicate, a run
started, refused while active (409), canceled, its counts and failures shown, and
a reset."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections.reverse_etl.models import RetlMapping, RetlSync
from connections.reverse_etl.services import syncs
from tests.connections.delivery_support import Reply, Server
from tests.connections.reverse_etl.sync_support import Synced, make_synced
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.models import AuditEntry, Workspace

__all__ = ["warehouse"]
pytestmark = pytest.mark.django_db

MAPPINGS = "/v1beta/workspaces/acme/reverse-etl/mappings"


@pytest.fixture(autouse=True)
def _local_destinations(settings: object) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # type: ignore[attr-defined]


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture
def synced(alice: User, acme: Workspace, warehouse: WarehouseDb, server: Server) -> Synced:
    return make_synced(alice, acme, warehouse, server)


@pytest.fixture
def api(alice: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


def test_a_mapping_is_created_read_updated_and_deleted(api: APIClient, synced: Synced) -> None:
    body = {
        "model": synced.model.resource_name,
        "destination": synced.mapping.destination.resource_name,
        "display_name": "Plans as track",
        "event_type": "track",
        "event_name": "Plan Synced",
        "columns": {"properties.plan": "plan"},
        "send_deleted": True,
    }
    created = api.post(MAPPINGS, {"reverse_etl_mapping": body}, format="json")
    assert created.status_code == 200, created.json()
    item = created.json()
    assert item["event_type"] == "track"
    assert item["columns"] == {"properties.plan": "plan"}
    assert (item["send_added"], item["send_updated"], item["send_deleted"]) == (True, True, True)
    url = f"{MAPPINGS}/{item['id']}"
    assert api.get(url).json()["name"] == item["name"]

    patched = api.patch(
        url,
        {
            "reverse_etl_mapping": {"send_updated": False},
            "update_mask": {"paths": ["reverse_etl_mapping.send_updated"]},
        },
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["send_updated"] is False
    assert AuditEntry.objects.filter(action="reverse_etl_mapping.updated").count() == 1

    assert api.delete(url).status_code == 200
    assert not RetlMapping.objects.filter(key_id=item["id"]).exists()


def test_a_track_mapping_without_an_event_name_is_refused(api: APIClient, synced: Synced) -> None:
    body = {
        "model": synced.model.resource_name,
        "destination": synced.mapping.destination.resource_name,
        "display_name": "No name",
        "event_type": "track",
    }
    refused = api.post(MAPPINGS, {"reverse_etl_mapping": body}, format="json")
    assert refused.status_code == 400
    assert "event_name" in refused.json()["error"]
    assert RetlMapping.objects.count() == 1


def test_a_column_mapped_outside_the_event_types_root_is_refused(
    api: APIClient, synced: Synced
) -> None:
    url = f"{MAPPINGS}/{synced.mapping.key_id}"
    refused = api.patch(
        url,
        {
            "reverse_etl_mapping": {"columns": {"properties.plan": "plan"}},
            "update_mask": {"paths": ["reverse_etl_mapping.columns"]},
        },
        format="json",
    )
    assert refused.status_code == 400
    assert "traits.<name>" in refused.json()["error"]
    synced.mapping.refresh_from_db()
    assert synced.mapping.columns == {"traits.email": "email", "traits.plan": "plan"}


def test_the_event_type_cannot_change(api: APIClient, synced: Synced) -> None:
    refused = api.patch(
        f"{MAPPINGS}/{synced.mapping.key_id}",
        {
            "reverse_etl_mapping": {"event_type": "track"},
            "update_mask": {"paths": ["reverse_etl_mapping.event_type"]},
        },
        format="json",
    )
    assert refused.status_code == 400


def test_duplicate_answers_a_disabled_copy(api: APIClient, synced: Synced) -> None:
    copied = api.post(f"{MAPPINGS}/{synced.mapping.key_id}:duplicate")
    assert copied.status_code == 200, copied.json()
    assert copied.json()["id"] != synced.mapping.key_id
    assert copied.json()["enabled"] is False
    assert copied.json()["display_name"] == "Customers to the hook (copy)"


def test_run_answers_a_queued_sync_and_a_second_run_is_a_conflict(
    api: APIClient, synced: Synced
) -> None:
    syncs_url = f"{MAPPINGS}/{synced.mapping.key_id}/syncs"

    started = api.post(f"{syncs_url}:run")
    assert started.status_code == 200, started.json()
    assert started.json()["status"] == "QUEUED"

    again = api.post(f"{syncs_url}:run")
    assert again.status_code == 409
    assert "already running" in again.json()["error"]
    assert api.post(f"{syncs_url}:reset").status_code == 409

    canceled = api.post(f"{syncs_url}/{started.json()['id']}:cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "CANCELED"
    assert api.post(f"{syncs_url}:reset").status_code == 200
    listed = api.get(syncs_url).json()["reverse_etl_syncs"]
    assert [s["id"] for s in listed] == [started.json()["id"]]


def test_a_finished_sync_shows_its_extraction_and_load_results(
    api: APIClient, synced: Synced
) -> None:
    synced.server.reply(Reply(status=400, body=b'{"error": "bad email"}'))
    started = api.post(f"{MAPPINGS}/{synced.mapping.key_id}/syncs:run").json()
    syncs.run_sync(RetlSync.objects.get(key_id=started["id"]).pk)

    shown = api.get(f"{MAPPINGS}/{synced.mapping.key_id}/syncs/{started['id']}").json()

    assert shown["status"] == "PARTIALLY_SUCCEEDED"
    assert shown["extraction"]["added"] == 3
    assert (shown["load"]["successful"], shown["load"]["failed"]) == (2, 1)
    assert (shown["load"]["new"], shown["load"]["updated"]) == (2, 0)
    (sample,) = shown["load"]["failed_samples"]
    assert sample["reason"]
    assert sample["payload"]["type"] == "identify"


def test_syncs_of_a_mapping_in_another_workspace_are_not_found(
    api: APIClient, synced: Synced, bob: User, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(bob, "other")
    other = APIClient()
    other.force_authenticate(bob)
    url = f"/v1beta/workspaces/acme/reverse-etl/mappings/{synced.mapping.key_id}/syncs:run"
    assert other.post(url).status_code == 404
    assert not RetlSync.objects.exists()
