"""Reverse ETL mapping pages: the picker (a destination, then its catalog actions),
field rows (model column, value, JSON directive, not mapped), sync behavior and
enabled, edit, duplicate, delete, and who may do what."""

from __future__ import annotations

from typing import Any

import pytest

from connections.models import Destination
from connections.reverse_etl.models import RetlMapping, RetlModel
from connections.reverse_etl.services.mappings import do_create_mapping
from switchyard.access import Principal
from tests.connections.delivery_support import make_setup
from tests.connections.reverse_etl.view_support import (
    UI,
    People,
    customers_table,
    make_model,
    make_source,
    people,
)
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse

__all__ = ["people", "warehouse"]
pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example/retl"


@pytest.fixture
def model(people: People, warehouse: WarehouseDb) -> RetlModel:
    return make_model(people, make_source(people, warehouse), customers_table(warehouse))


@pytest.fixture
def webhook(people: People) -> Destination:
    return make_setup(people.owner, people.workspace).destination("actions-webhook")


def rows(**fields: tuple[str, str]) -> dict[str, str]:
    """The form's field rows: {field: (kind, text)}; the others not mapped."""
    data = {}
    for key in ("url", "method", "headers", "data", "enable_batching", "batch_size"):
        kind, text = fields.get(key, ("none", ""))
        data[f"f_{key}_kind"] = kind
        data[f"f_{key}_value"] = text
    return data


def create_form(destination: Destination, **extra: Any) -> dict[str, Any]:
    return {
        "destination": destination.key_id,
        "action": "send",
        "display_name": "",
        "record_selection": "ADDED_OR_UPDATED",
        "enabled": "on",
        **rows(
            url=("value", HOOK),
            method=("value", "POST"),
            data=("json", '{"plan": {"@path": "$.properties.plan"}}'),
        ),
        **extra,
    }


def a_mapping(people: People, model: RetlModel, destination: Destination) -> RetlMapping:
    return do_create_mapping(
        principal=Principal(people.owner),
        model=model,
        destination=destination,
        action="send",
        display_name="Customers to the hook",
        field_mappings={"url": HOOK, "method": "POST", "data": {"@path": "$.properties.plan"}},
    )


def test_the_picker_offers_destinations_then_their_actions_then_the_fields(
    people: People, model: RetlModel, webhook: Destination
) -> None:
    owner = people.client(people.owner)
    url = f"{UI}/models/customers/mappings/new/"
    response = owner.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'value="{webhook.key_id}"' in page and 'id="mapping-form"' not in page
    assert "is-invalid" not in page
    page = owner.get(url, {"destination": webhook.key_id}).content.decode()
    assert '<option value="send">Send</option>' in page and 'id="mapping-form"' not in page
    page = owner.get(url, {"destination": webhook.key_id, "action": "send"}).content.decode()
    assert 'id="mapping-form"' in page
    for key in ("url", "method", "headers", "data", "enable_batching", "batch_size"):
        assert f'data-field="{key}"' in page
    # The action's defaults fill the rows, and the model's columns are offered.
    assert 'name="f_method_value" id="id_f_method_value" value="POST"' in page
    # A required field without a default starts as a value to type.
    assert '<select name="f_url_kind" class="form-select" id="id_f_url_kind">' in page
    url_kind = page[page.index('id="id_f_url_kind"') :]
    assert url_kind.index('value="value" selected') < url_kind.index("</select>")
    assert '<option value="customer_id">' in page and '<option value="plan">' in page


def test_create_a_mapping_from_the_rows(
    people: People, model: RetlModel, webhook: Destination
) -> None:
    owner = people.client(people.owner)
    form = create_form(
        webhook,
        **rows(
            url=("value", HOOK),
            method=("value", "PUT"),
            data=("column", "plan"),
            batch_size=("value", "50"),
        ),
    )
    response = owner.post(f"{UI}/models/customers/mappings/new/", form)
    assert response.status_code == 302, response.content.decode()
    mapping = RetlMapping.objects.get()
    assert response["Location"] == f"{UI}/mappings/{mapping.key_id}/"
    assert mapping.display_name == "Send"  # the action's name by default
    assert mapping.field_mappings == {
        "url": HOOK,
        "method": "PUT",
        "data": {"@path": "$.properties.plan"},
        "batch_size": 50,
    }
    assert (mapping.record_selection, mapping.enabled) == ("ADDED_OR_UPDATED", True)


def test_a_missing_required_field_is_shown_and_nothing_is_created(
    people: People, model: RetlModel, webhook: Destination
) -> None:
    form = create_form(webhook, **rows(method=("value", "POST")))
    response = people.client(people.owner).post(f"{UI}/models/customers/mappings/new/", form)
    assert response.status_code == 400
    assert "field &#x27;URL&#x27; (url) is required" in response.content.decode()
    assert not RetlMapping.objects.exists()


def test_bad_json_and_a_column_without_a_name_are_row_errors(
    people: People, model: RetlModel, webhook: Destination
) -> None:
    form = create_form(
        webhook, **rows(url=("value", HOOK), data=("json", "{nope"), headers=("column", ""))
    )
    response = people.client(people.owner).post(f"{UI}/models/customers/mappings/new/", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Not valid JSON." in page and "Name the model column." in page
    assert not RetlMapping.objects.exists()


def test_a_destination_the_picker_does_not_offer_is_refused(
    people: People, model: RetlModel, webhook: Destination
) -> None:
    form = {**create_form(webhook), "destination": "dst_unknown"}
    response = people.client(people.owner).post(f"{UI}/models/customers/mappings/new/", form)
    assert response.status_code == 400
    assert "Choose a destination and one of its actions." in response.content.decode()
    assert not RetlMapping.objects.exists()


def test_edit_shows_the_stored_rows_and_saves_changes(
    people: People, model: RetlModel, webhook: Destination
) -> None:
    mapping = a_mapping(people, model, webhook)
    owner = people.client(people.owner)
    url = f"{UI}/mappings/{mapping.key_id}/"
    page = owner.get(url).content.decode()
    assert 'name="f_data_value" id="id_f_data_value" value="plan"' in page
    assert '<option value="column" selected>' in page
    form = {
        "intent": "save",
        "display_name": "Renamed",
        "record_selection": "DELETED",
        **rows(url=("value", HOOK), method=("value", "PATCH"), data=("column", "customer_id")),
    }
    assert owner.post(url, form).status_code == 302
    mapping.refresh_from_db()
    assert (mapping.display_name, mapping.record_selection, mapping.enabled) == (
        "Renamed",
        "DELETED",
        False,
    )
    assert mapping.field_mappings == {
        "url": HOOK,
        "method": "PATCH",
        "data": {"@path": "$.properties.customer_id"},
    }
    bad = {**form, **rows(url=("value", HOOK), method=("value", "GET"))}
    response = owner.post(url, bad)
    assert response.status_code == 400
    assert "must be one of" in response.content.decode()
    mapping.refresh_from_db()
    assert mapping.field_mappings["method"] == "PATCH"


def test_duplicate_and_delete(people: People, model: RetlModel, webhook: Destination) -> None:
    mapping = a_mapping(people, model, webhook)
    owner = people.client(people.owner)
    response = owner.post(f"{UI}/mappings/{mapping.key_id}/", {"intent": "duplicate"})
    copy = RetlMapping.objects.exclude(pk=mapping.pk).get()
    assert response["Location"] == f"{UI}/mappings/{copy.key_id}/"
    assert (copy.display_name, copy.enabled) == ("Customers to the hook (copy)", False)
    assert copy.field_mappings == mapping.field_mappings
    response = owner.post(f"{UI}/mappings/{copy.key_id}/", {"intent": "delete"})
    assert response["Location"] == f"{UI}/models/customers/"
    assert list(RetlMapping.objects.all()) == [mapping]


def test_a_reader_sees_the_mapping_but_no_controls(
    people: People, model: RetlModel, webhook: Destination
) -> None:
    mapping = a_mapping(people, model, webhook)
    reader = people.client(people.reader)
    page = reader.get(f"{UI}/mappings/{mapping.key_id}/").content.decode()
    assert 'id="read-only-note"' in page and 'data-field="url"' in page
    for control in ('id="mapping-form"', 'id="duplicate-mapping"', 'id="delete-mapping"'):
        assert control not in page
    assert 'id="add-mapping"' not in reader.get(f"{UI}/models/customers/").content.decode()
    url = f"{UI}/mappings/{mapping.key_id}/"
    for intent in ("save", "duplicate", "delete"):
        assert reader.post(url, {"intent": intent}).status_code == 403
    assert reader.get(f"{UI}/models/customers/mappings/new/").status_code == 403
    assert RetlMapping.objects.count() == 1


def test_someone_outside_the_workspace_finds_no_mapping(
    people: People, model: RetlModel, webhook: Destination
) -> None:
    mapping = a_mapping(people, model, webhook)
    outsider = people.client(people.outsider)
    assert outsider.get(f"{UI}/mappings/{mapping.key_id}/").status_code == 404
    assert (
        outsider.post(f"{UI}/mappings/{mapping.key_id}/", {"intent": "delete"}).status_code == 404
    )
    assert outsider.get(f"{UI}/models/customers/mappings/new/").status_code == 404
