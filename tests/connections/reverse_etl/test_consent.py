"""Consent in Reverse ETL: the workspace's consent categories (Workspace Owners edit
them), a model's consent columns (checked against the model's query), and which
records a destination receives: unmapped destinations and models without consent
columns get everything; a mapped destination needs true for all its categories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections.reverse_etl.models import RetlSync, RetlSyncRecord
from connections.reverse_etl.services import consent, syncs
from switchyard.access import Principal
from tests.connections.delivery_support import Server, make_setup
from tests.connections.reverse_etl.alert_support import Mapped, make_mapped
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.models import AuditEntry, Membership, Workspace
from workspace.services.grants import do_create_grant

__all__ = ["warehouse"]
pytestmark = pytest.mark.django_db

RETL = "/v1beta/workspaces/acme/reverse-etl"
CATEGORIES = f"{RETL}/consent-categories"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture(autouse=True)
def _local_destinations(settings: object) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # type: ignore[attr-defined]


@pytest.fixture
def mapped(alice: User, acme: Workspace, warehouse: WarehouseDb, server: Server) -> Mapped:
    return make_mapped(alice, acme, warehouse, server)


def set_categories(client: APIClient, categories: list[dict[str, object]]) -> object:
    body = {
        "reverse_etl_consent_categories": {"categories": categories},
        "update_mask": {"paths": ["reverse_etl_consent_categories.categories"]},
    }
    return client.patch(CATEGORIES, body, format="json")


def set_columns(client: APIClient, mapped: Mapped, columns: dict[str, str]) -> object:
    body = {
        "reverse_etl_model_consent": {"columns": columns},
        "update_mask": {"paths": ["reverse_etl_model_consent.columns"]},
    }
    return client.patch(f"{RETL}/models/customers/consent", body, format="json")


def category(category_id: str, *destinations: str) -> dict[str, object]:
    return {
        "category_id": category_id,
        "display_name": category_id,
        "destinations": list(destinations),
    }


def test_owners_set_the_categories_and_members_read_them(
    alice: User,
    bob: User,
    acme: Workspace,
    api: APIClient,
    mapped: Mapped,
    token_client: Callable[..., APIClient],
) -> None:
    response = set_categories(api, [category("Advertising", mapped.destination.resource_name)])
    assert response.status_code == 200, response.json()  # type: ignore[attr-defined]
    assert response.json()["categories"] == [  # type: ignore[attr-defined]
        {
            "category_id": "Advertising",
            "display_name": "Advertising",
            "destinations": [mapped.destination.resource_name],
        }
    ]
    Membership.objects.create(workspace=acme, user=bob)
    do_create_grant(
        principal=Principal(alice), workspace=acme, grantee=bob, role="source-admin", scope="all"
    )
    member = token_client(bob)
    assert member.get(CATEGORIES).json()["categories"][0]["category_id"] == "Advertising"
    assert set_categories(member, []).status_code == 403  # type: ignore[attr-defined]
    assert AuditEntry.objects.filter(action="reverse_etl_consent_categories.updated").count() == 1


def test_bad_categories_are_refused_and_change_nothing(api: APIClient, mapped: Mapped) -> None:
    set_categories(api, [category("Analytics")])
    cases: tuple[tuple[list[dict[str, object]], str], ...] = (
        ([category("1st")], "not starting with a digit"),
        ([category("Ads"), category("Ads")], "twice"),
        ([category("Ads", "workspaces/acme/sources/web/destinations/nothere")], "not found"),
        ([{"category_id": "Ads", "display_name": "x" * 21, "destinations": []}], "display_name"),
    )
    for bad, why in cases:
        response = set_categories(api, bad)
        assert response.status_code == 400, bad  # type: ignore[attr-defined]
        assert why in response.json()["error"]  # type: ignore[attr-defined]
    assert [c.category_id for c in consent.categories(mapped.model.workspace)] == ["Analytics"]


def test_model_consent_columns_must_be_known_categories_and_columns_of_the_model(
    api: APIClient, mapped: Mapped
) -> None:
    set_categories(api, [category("Advertising"), category("Analytics")])

    unknown = set_columns(api, mapped, {"Personalization": "ads"})
    missing = set_columns(api, mapped, {"Advertising": "no_such_column"})
    saved = set_columns(api, mapped, {"Advertising": "ads", "Analytics": "analytics"})

    assert unknown.status_code == 400 and "Personalization" in unknown.json()["error"]  # type: ignore[attr-defined]
    assert missing.status_code == 400 and "no_such_column" in missing.json()["error"]  # type: ignore[attr-defined]
    assert saved.status_code == 200, saved.json()  # type: ignore[attr-defined]
    read = api.get(f"{RETL}/models/customers/consent").json()
    assert read["columns"] == {"Advertising": "ads", "Analytics": "analytics"}
    assert read["name"] == f"{mapped.model.resource_name}/consent"
    assert AuditEntry.objects.filter(action="reverse_etl_model_consent.updated").count() == 1

    one = {  # a nested path changes one category's column, the others stay
        "reverse_etl_model_consent": {"columns": {"Analytics": "ads"}},
        "update_mask": {"paths": ["reverse_etl_model_consent.columns.Analytics"]},
    }
    assert api.patch(f"{RETL}/models/customers/consent", one, format="json").status_code == 200
    after = api.get(f"{RETL}/models/customers/consent").json()["columns"]
    assert after == {"Advertising": "ads", "Analytics": "ads"}


def test_a_destination_mapped_to_categories_gets_only_records_consenting_to_all_of_them(
    alice: User, acme: Workspace, api: APIClient, mapped: Mapped, server: Server
) -> None:
    unmapped, _ = make_setup(alice, acme, slug="app").webhook(server.url + "/other")
    destination = mapped.destination.resource_name
    set_categories(api, [category("Advertising", destination), category("Analytics", destination)])
    model = mapped.model
    row = {"customer_id": "c1", "ads": True, "analytics": True}

    assert consent.allows(model, mapped.destination, row)  # no consent columns: no enforcement
    set_columns(api, mapped, {"Advertising": "ads", "Analytics": "analytics"})

    assert consent.allows(model, mapped.destination, row)
    assert not consent.allows(model, mapped.destination, {**row, "analytics": False})
    assert not consent.allows(model, mapped.destination, {**row, "ads": None})  # no consent
    assert not consent.allows(model, mapped.destination, {"customer_id": "c1"})
    assert consent.allows(model, unmapped, {**row, "ads": False})  # needs no consent
    assert consent.context_for(model, {**row, "analytics": None}) == {
        "categoryPreferences": {"Advertising": True, "Analytics": False}
    }


def test_a_category_the_model_has_no_column_for_counts_as_false(
    api: APIClient, mapped: Mapped
) -> None:
    destination = mapped.destination.resource_name
    set_categories(api, [category("Advertising"), category("Analytics", destination)])
    set_columns(api, mapped, {"Advertising": "ads"})

    check = consent.for_mapping(mapped.model, mapped.destination)

    assert check.required == ("Analytics",)
    assert not check.allows({"ads": True, "analytics": True})
    assert check.context({"ads": "true"}) == {"categoryPreferences": {"Advertising": True}}


def test_a_model_without_consent_columns_adds_no_consent_context(mapped: Mapped) -> None:
    assert consent.context_for(mapped.model, {"ads": True}) is None
    assert consent.model_consent(mapped.model).columns == {}


def test_the_consent_context_goes_on_messages_with_a_row(api: APIClient, mapped: Mapped) -> None:
    set_categories(api, [category("Advertising")])
    set_columns(api, mapped, {"Advertising": "ads"})
    check = consent.for_mapping(mapped.model, mapped.destination)
    message: dict[str, object] = {"type": "track", "context": {"reverse_etl": {}}}
    deletion: dict[str, object] = {"type": "track"}

    consent.add_context(message, check, {"ads": False})
    consent.add_context(deletion, check, None)

    assert message["context"] == {
        "reverse_etl": {},
        "consent": {"categoryPreferences": {"Advertising": False}},
    }
    assert deletion == {"type": "track"}


def run(mapped: Mapped) -> RetlSync:
    sync = syncs.do_run_now(principal=mapped.principal, mapping=mapped.mapping)
    syncs.run_sync(sync.pk)
    sync.refresh_from_db()
    return sync


def filtered(sync: RetlSync) -> list[tuple[str, str]]:
    skipped = RetlSyncRecord.objects.filter(sync=sync, outcome="skipped")
    return sorted(skipped.values_list("record_id", "reason"))


def test_a_sync_sends_a_mapped_destination_only_consenting_records_with_their_consent(
    api: APIClient, mapped: Mapped, server: Server
) -> None:
    mapped.warehouse.run(
        f"INSERT INTO {mapped.table} VALUES ('c1', 'pro', true, true), ('c2', 'pro', false, true),"  # noqa: S608
        " ('c3', 'free', null, true)"
    )
    set_categories(
        api,
        [category("Advertising", mapped.destination.resource_name), category("Analytics")],
    )
    set_columns(api, mapped, {"Advertising": "ads", "Analytics": "analytics"})

    sync = run(mapped)

    (received,) = [r.json() for r in server.requests]
    assert received["properties"]["customer_id"] == "c1"
    assert received["context"]["consent"] == {
        "categoryPreferences": {"Advertising": True, "Analytics": True}
    }
    assert (sync.status, sync.successful, sync.skipped) == ("SUCCEEDED", 1, 2)
    assert filtered(sync) == [("c2", consent.FILTERED), ("c3", consent.FILTERED)]


def test_a_run_keeps_the_consent_settings_its_load_started_with(
    api: APIClient, mapped: Mapped, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Consent is read once per run, not per page: the model's consent columns
    cleared after the first page still filter the rest of that run; the next run
    goes by the edit."""
    mapped.warehouse.run(
        f"INSERT INTO {mapped.table} VALUES ('c1', 'pro', true, true),"  # noqa: S608
        " ('c2', 'pro', false, true), ('c3', 'free', false, true)"
    )
    set_categories(api, [category("Advertising", mapped.destination.resource_name)])
    set_columns(api, mapped, {"Advertising": "ads"})
    monkeypatch.setattr(syncs, "PAGE_SIZE", 1)  # c1, c2 and c3 each a page
    deliver = syncs.deliver_mapped

    def deliver_then_clear_consent(*args: Any) -> Any:
        answers = deliver(*args)  # the real delivery (only c1's page sends anything)
        consent.do_update_model_consent(
            principal=mapped.principal, model=mapped.model, changes={"columns": {}}
        )
        return answers

    monkeypatch.setattr(syncs, "deliver_mapped", deliver_then_clear_consent)

    sync = run(mapped)

    assert consent.model_consent(mapped.model).columns == {}  # the edit was made mid-run
    assert [r.json()["properties"]["customer_id"] for r in server.requests] == ["c1"]
    assert filtered(sync) == [("c2", consent.FILTERED), ("c3", consent.FILTERED)]

    monkeypatch.setattr(syncs, "deliver_mapped", deliver)
    server.requests.clear()
    mapped.warehouse.run(f"UPDATE {mapped.table} SET plan = 'team' WHERE customer_id = 'c2'")  # noqa: S608
    following = run(mapped)

    (received,) = [r.json() for r in server.requests]  # no consent columns: not enforced
    assert received["properties"]["customer_id"] == "c2"
    assert "consent" not in received["context"]
    assert (following.successful, following.skipped) == (1, 0)
