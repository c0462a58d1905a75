"""Destinations connected to audiences and computed traits: the Config API (connect,
update the settings by mask, disconnect; bad input changes nothing; the same
access as editing the audience), §5.5's NOT_COMPUTING for batch computations
without destinations and the beat skipping them, and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connections.models import Destination
from engage.models import (
    Computation,
    ComputationDestination,
    ComputationRun,
    ComputationStatus,
    SpaceSource,
    SyncState,
)
from engage.services import computation_runs
from tests.connections.delivery_support import Setup, make_setup
from tests.engage.compute_support import NOW, did, within
from tests.engage.spaces_support import Acme, make_acme
from tests.engage.test_computations_api import AUDIENCES, COUNTER, TRAITS, audience
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db

BUYERS = audience(did("Order Completed", window=within(7)))
BETWEEN = {
    "type": "between",
    "start": {"value": 1, "unit": "days"},
    "end": {"value": 9, "unit": "days"},
}
LAPSED = audience(did("Order Completed", window=BETWEEN))  # batch


@pytest.fixture
def acme() -> Acme:
    acme = make_acme()
    acme.space("main")
    return acme


@pytest.fixture
def webhook(acme: Acme) -> Destination:
    return make_setup(acme.owner, acme.workspace, slug="engage-out").destination()


def create(acme: Acme, name: str, definition: Any, **extra: Any) -> dict[str, Any]:
    body = {"audience": {"display_name": name, "definition": definition, **extra}}
    answer = acme.client().post(AUDIENCES, body, format="json")
    assert answer.status_code == 200, answer.json()
    return dict(answer.json())


def connect(acme: Acme, key: str, destination: str, **settings: Any) -> Any:
    body = {"destination": {"destination_id": destination, **settings}}
    return acme.client().post(f"{AUDIENCES}/{key}/destinations", body, format="json")


def test_connect_list_update_and_disconnect(acme: Acme, webhook: Destination) -> None:
    create(acme, "Buyers", BUYERS)
    api = acme.client()
    answer = connect(acme, "buyers", webhook.key_id, send_track=True, entered_event="VIP In")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (
        body["name"]
        == f"workspaces/acme/spaces/main/audiences/buyers/destinations/{webhook.key_id}"
    )
    assert body["destination_id"] == webhook.key_id
    assert (body["send_identify"], body["send_track"], body["include_anonymous"]) == (
        True,
        True,
        False,
    )
    assert (body["entered_event"], body["exited_event"]) == ("VIP In", "Audience Exited")
    assert body["sync_status"]["state"] == "PENDING"
    assert body["sync_status"]["backfilled"] is False
    listed = api.get(f"{AUDIENCES}/buyers/destinations").json()["destinations"]
    assert [d["destination_id"] for d in listed] == [webhook.key_id]
    entry = AuditEntry.objects.get(action="audience_destination.connected")
    assert entry.resource_name == body["name"]

    url = f"{AUDIENCES}/buyers/destinations/{webhook.key_id}"
    patch = {
        "destination": {"send_identify": False, "exited_event": "VIP Out"},
        "update_mask": {"paths": ["destination.send_identify", "destination.exited_event"]},
    }
    updated = api.patch(url, patch, format="json")
    assert updated.status_code == 200, updated.json()
    assert (updated.json()["send_identify"], updated.json()["exited_event"]) == (False, "VIP Out")
    row = ComputationDestination.objects.get()
    assert (row.send_identify, row.send_track, row.exited_event) == (False, True, "VIP Out")
    assert AuditEntry.objects.filter(action="audience_destination.updated").count() == 1

    assert api.delete(url).status_code == 200
    assert not ComputationDestination.objects.exists()
    assert AuditEntry.objects.filter(action="audience_destination.disconnected").count() == 1
    assert api.get(url).status_code == 404


def test_computed_traits_have_destinations_too(acme: Acme, webhook: Destination) -> None:
    api = acme.client()
    body = {"computed_trait": {"display_name": "Orders 30d", "definition": COUNTER}}
    assert api.post(TRAITS, body, format="json").status_code == 200
    answer = api.post(
        f"{TRAITS}/orders_30d/destinations",
        {"destination": {"destination_id": webhook.key_id, "trait_event": "Orders Counted"}},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["trait_event"] == "Orders Counted"
    assert AuditEntry.objects.filter(action="computed_trait_destination.connected").count() == 1
    assert api.get(f"{AUDIENCES}/orders_30d/destinations").status_code == 404


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        ComputationDestination.objects.order_by("pk").values_list(
            "destination_id", "send_identify", "send_track", "entered_event", "sync_state"
        )
    )


def test_bad_input_changes_nothing(acme: Acme, webhook: Destination) -> None:
    create(acme, "Buyers", BUYERS)
    api = acme.client()
    url = f"{AUDIENCES}/buyers/destinations"
    unknown = connect(acme, "buyers", "des_nope")
    assert unknown.status_code == 404
    assert "des_nope" in unknown.json()["error"]
    neither = connect(acme, "buyers", webhook.key_id, send_identify=False)
    assert neither.status_code == 400
    assert "send_identify or send_track" in neither.json()["error"]
    wrong_type = connect(acme, "buyers", webhook.key_id, send_track="yes")
    assert wrong_type.status_code == 400
    assert not ComputationDestination.objects.exists()

    assert connect(acme, "buyers", webhook.key_id).status_code == 200
    before = snapshot()
    again = connect(acme, "buyers", webhook.key_id)
    assert again.status_code == 409
    one = f"{url}/{webhook.key_id}"
    for patch in (
        {
            "destination": {"send_identify": False},
            "update_mask": {"paths": ["destination.send_identify"]},
        },
        {
            "destination": {"entered_event": ""},
            "update_mask": {"paths": ["destination.entered_event"]},
        },
        {
            "destination": {"destination_id": "x"},
            "update_mask": {"paths": ["destination.destination_id"]},
        },
        {"destination": {"sync_status": {}}, "update_mask": {"paths": ["destination.sync_status"]}},
    ):
        answer = api.patch(one, patch, format="json")
        assert answer.status_code == 400, (patch, answer.json())
    assert snapshot() == before
    assert AuditEntry.objects.filter(action="audience_destination.updated").count() == 0


def test_a_destination_of_a_source_feeding_a_space_is_refused(
    acme: Acme, webhook: Destination
) -> None:
    create(acme, "Buyers", BUYERS)
    space = acme.workspace.spaces.get(slug="main")
    SpaceSource.objects.create(space=space, source=webhook.source)
    answer = connect(acme, "buyers", webhook.key_id)
    assert answer.status_code == 400
    assert "connected to a space" in answer.json()["error"]
    assert not ComputationDestination.objects.exists()


def test_a_destination_sharing_its_source_with_one_of_its_type_is_refused(
    acme: Acme, webhook: Destination
) -> None:
    create(acme, "Buyers", BUYERS)
    twin = Setup(acme.owner, acme.workspace, webhook.source).destination()
    answer = connect(acme, "buyers", webhook.key_id)
    assert answer.status_code == 400
    assert f"shares its source with {twin.key_id}" in answer.json()["error"]
    assert not ComputationDestination.objects.exists()


def test_engage_users_connect_read_only_roles_cannot(acme: Acme, webhook: Destination) -> None:
    create(acme, "Buyers", BUYERS)
    body = {"destination": {"destination_id": webhook.key_id}}
    url = f"{AUDIENCES}/buyers/destinations"
    reader = acme.client(acme.member("unify-and-engage-read-only"))
    assert reader.post(url, body, format="json").status_code == 403
    assert not ComputationDestination.objects.exists()
    engage_user = acme.client(acme.member("unify-read-only-engage-user"))
    assert engage_user.post(url, body, format="json").status_code == 200
    assert reader.get(url).status_code == 200
    assert reader.delete(f"{url}/{webhook.key_id}").status_code == 403
    assert ComputationDestination.objects.count() == 1
    stranger = acme.client(acme.member())
    assert stranger.get(url).status_code == 404


# --- NOT_COMPUTING (§5.5) -------------------------------------------------------------------


def test_a_batch_audience_without_destinations_is_not_computing(
    acme: Acme, webhook: Destination
) -> None:
    body = create(acme, "Lapsed", LAPSED, compute_without_destinations=False)
    assert (body["compute_mode"], body["status"]) == ("batch", "NOT_COMPUTING")
    assert body["compute_without_destinations"] is False
    assert not ComputationRun.objects.exists()
    lapsed = Computation.objects.get(key="lapsed")
    assert computation_runs.schedule_due(NOW) == []

    # Connecting a destination makes it compute: a run now, and the beat's later.
    assert connect(acme, "lapsed", webhook.key_id).status_code == 200
    lapsed.refresh_from_db()
    assert lapsed.status == ComputationStatus.PREPARING
    (run,) = ComputationRun.objects.filter(computation=lapsed)
    computation_runs.execute(run.pk, now=NOW)
    Computation.objects.filter(pk=lapsed.pk).update(last_run_time=NOW - dt.timedelta(days=1))
    assert len(computation_runs.schedule_due(NOW)) == 1

    # Disconnected again: NOT_COMPUTING, and the beat skips it.
    ComputationRun.objects.all().delete()
    url = f"{AUDIENCES}/lapsed/destinations/{webhook.key_id}"
    assert acme.client().delete(url).status_code == 200
    lapsed.refresh_from_db()
    assert lapsed.status == ComputationStatus.NOT_COMPUTING
    assert computation_runs.schedule_due(NOW) == []

    # The flag turned on: it computes without destinations.
    patch = {
        "audience": {"compute_without_destinations": True},
        "update_mask": {"paths": ["audience.compute_without_destinations"]},
    }
    answer = acme.client().patch(f"{AUDIENCES}/lapsed", patch, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "PREPARING"
    assert ComputationRun.objects.filter(computation=lapsed).count() == 1
    entry = AuditEntry.objects.filter(action="audience.updated").latest("pk")
    assert entry.after == {"compute_without_destinations": True}


def test_real_time_ones_compute_without_destinations(acme: Acme) -> None:
    body = create(acme, "Buyers", BUYERS, compute_without_destinations=False)
    assert (body["compute_mode"], body["status"]) == ("realtime", "PREPARING")
    assert ComputationRun.objects.count() == 1


def test_sync_state_starts_pending(acme: Acme, webhook: Destination) -> None:
    create(acme, "Buyers", BUYERS)
    connect(acme, "buyers", webhook.key_id)
    assert ComputationDestination.objects.get().sync_state == SyncState.PENDING


def test_the_openapi_schema_publishes_the_destinations() -> None:
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    space = "/v1beta/workspaces/{workspace}/spaces/{space}"
    for parent in ("audiences/{audience}", "computed-traits/{computed_trait}"):
        assert f"{space}/{parent}/destinations" in document["paths"]
        one = document["paths"][f"{space}/{parent}/destinations/{{destination}}"]
        assert {"get", "patch", "delete"} <= set(one)
    schemas = document["components"]["schemas"]
    assert {"send_identify", "send_track", "sync_status"} <= set(
        schemas["ComputationDestination"]["properties"]
    )
    assert "ConnectAudienceDestinationRequest" in schemas


def test_a_run_queued_before_it_stopped_computing_leaves_it_not_computing(acme: Acme) -> None:
    create(acme, "Lapsed", LAPSED)
    (run,) = ComputationRun.objects.all()
    patch = {
        "audience": {"compute_without_destinations": False},
        "update_mask": {"paths": ["audience.compute_without_destinations"]},
    }
    answer = acme.client().patch(f"{AUDIENCES}/lapsed", patch, format="json")
    assert answer.json()["status"] == "NOT_COMPUTING"
    computation_runs.execute(run.pk, now=NOW)
    lapsed = Computation.objects.get(key="lapsed")
    assert lapsed.status == ComputationStatus.NOT_COMPUTING
    assert lapsed.last_success_time is not None
