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
from tests.connections.delivery_support import Reply, Server, make_setup
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
        "display_name": "Plans to the hook",
        "action": "send",
        "field_mappings": {
            "url": synced.server.url + "/plans",
            "data": {"plan": {"@path": "$.properties.plan"}},
        },
        "record_selection": "DELETED",
    }
    created = api.post(MAPPINGS, {"reverse_etl_mapping": body}, format="json")
    assert created.status_code == 200, created.json()
    item = created.json()
    assert item["action"] == "send"
    assert item["field_mappings"]["data"] == {"plan": {"@path": "$.properties.plan"}}
    assert item["record_selection"] == "DELETED"
    url = f"{MAPPINGS}/{item['id']}"
    assert api.get(url).json()["name"] == item["name"]

    patched = api.patch(
        url,
        {
            "reverse_etl_mapping": {
                "record_selection": "ADDED",
                "field_mappings": {"data": {"email": {"@path": "$.properties.email"}}},
            },
            "update_mask": {
                "paths": [
                    "reverse_etl_mapping.record_selection",
                    "reverse_etl_mapping.field_mappings.data",
                ]
            },
        },
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["record_selection"] == "ADDED"
    mappings = patched.json()["field_mappings"]
    assert mappings["data"] == {"email": {"@path": "$.properties.email"}}
    assert mappings["url"] == synced.server.url + "/plans"  # a masked member: the rest stays
    assert AuditEntry.objects.filter(action="reverse_etl_mapping.updated").count() == 1

    assert api.delete(url).status_code == 200
    assert not RetlMapping.objects.filter(key_id=item["id"]).exists()


def test_a_mapping_without_field_mappings_or_name_takes_the_actions_defaults(
    api: APIClient, synced: Synced, alice: User, acme: Workspace
) -> None:
    setup = make_setup(alice, acme, slug="crm")
    other = setup.destination("segment-connections", {"source_write_key": setup.write_key})
    body = {
        "model": synced.model.resource_name,
        "destination": other.resource_name,
        "action": "send_identify",
    }
    created = api.post(MAPPINGS, {"reverse_etl_mapping": body}, format="json")
    assert created.status_code == 200, created.json()
    item = created.json()
    assert item["display_name"] == "Send Identify"
    assert item["field_mappings"]["traits"] == {"@path": "$.traits"}
    assert item["record_selection"] == "ADDED_OR_UPDATED"


def test_an_unknown_action_is_refused_naming_the_offered_ones(
    api: APIClient, synced: Synced
) -> None:
    body = {
        "model": synced.model.resource_name,
        "destination": synced.mapping.destination.resource_name,
        "action": "send_identify",
    }
    refused = api.post(MAPPINGS, {"reverse_etl_mapping": body}, format="json")
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert "send_identify" in error
    assert "send" in error.split("offers:")[1]
    assert RetlMapping.objects.count() == 1


def test_invalid_field_mappings_are_refused_and_change_nothing(
    api: APIClient, synced: Synced
) -> None:
    url = f"{MAPPINGS}/{synced.mapping.key_id}"
    for bad in (
        {"data": {"@path": 3}},  # a directive the mapping kit refuses
        {"colour": "blue"},  # not a field of the action
        {"method": "POST"},  # the required url missing
    ):
        refused = api.patch(
            url,
            {
                "reverse_etl_mapping": {"field_mappings": bad},
                "update_mask": {"paths": ["reverse_etl_mapping.field_mappings"]},
            },
            format="json",
        )
        assert refused.status_code == 400, bad
        assert "invalid field mappings" in refused.json()["error"]
    body = {
        "model": synced.model.resource_name,
        "destination": synced.mapping.destination.resource_name,
        "action": "send",  # the Webhook's defaults have no URL: it must be given
    }
    assert api.post(MAPPINGS, {"reverse_etl_mapping": body}, format="json").status_code == 400
    synced.mapping.refresh_from_db()
    assert synced.mapping.field_mappings["data"] == {"@path": "$."}
    assert RetlMapping.objects.count() == 1


def test_an_unknown_record_selection_is_refused(api: APIClient, synced: Synced) -> None:
    refused = api.patch(
        f"{MAPPINGS}/{synced.mapping.key_id}",
        {
            "reverse_etl_mapping": {"record_selection": "EVERYTHING"},
            "update_mask": {"paths": ["reverse_etl_mapping.record_selection"]},
        },
        format="json",
    )
    assert refused.status_code == 400
    assert "record_selection" in refused.json()["error"]


def test_the_action_cannot_change(api: APIClient, synced: Synced) -> None:
    refused = api.patch(
        f"{MAPPINGS}/{synced.mapping.key_id}",
        {
            "reverse_etl_mapping": {"action": "send"},
            "update_mask": {"paths": ["reverse_etl_mapping.action"]},
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
    assert copied.json()["action"] == "send"
    assert copied.json()["field_mappings"] == synced.mapping.field_mappings


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


def test_cancel_keeps_the_users_reason_and_a_bad_reason_changes_nothing(
    api: APIClient, synced: Synced
) -> None:
    syncs_url = f"{MAPPINGS}/{synced.mapping.key_id}/syncs"
    started = api.post(f"{syncs_url}:run").json()
    cancel_url = f"{syncs_url}/{started['id']}:cancel"

    too_long = api.post(cancel_url, {"reason": "x" * 501}, format="json")
    assert too_long.status_code == 400
    assert "at most 500 characters" in too_long.json()["error"]
    not_text = api.post(cancel_url, {"reason": 7}, format="json")
    assert not_text.status_code == 400
    assert RetlSync.objects.get(key_id=started["id"]).status == "QUEUED"

    canceled = api.post(cancel_url, {"reason": "  wrong model query  "}, format="json")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "CANCELED"
    assert canceled.json()["cancel_reason"] == "wrong model query"
    shown = api.get(f"{syncs_url}/{started['id']}").json()
    assert shown["cancel_reason"] == "wrong model query"


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
    assert sample["payload"]["event"] == "new"


def test_syncs_of_a_mapping_in_another_workspace_are_not_found(
    api: APIClient, synced: Synced, bob: User, make_workspace: Callable[..., Workspace]
) -> None:
    make_workspace(bob, "other")
    other = APIClient()
    other.force_authenticate(bob)
    url = f"/v1beta/workspaces/acme/reverse-etl/mappings/{synced.mapping.key_id}/syncs:run"
    assert other.post(url).status_code == 404
    assert not RetlSync.objects.exists()
