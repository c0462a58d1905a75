# ruff: noqa: S608 - model queries are SQL text by design; table names are generated here.
"""Reverse ETL model pages: the SQL editor with Preview (first rows, whether the
identifier is unique and non-null), create and edit with the warehouse's errors
on the form, delete, and read-only access."""

from __future__ import annotations

import pytest

from connections.reverse_etl.models import RetlModel
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


def model_form(table: str, **extra: str) -> dict[str, str]:
    return {
        "display_name": "Customers",
        "slug": "customers",
        "description": "",
        "query": f"SELECT customer_id, plan FROM {table}",
        "identifier_column": "customer_id",
        "enabled": "on",
        "intent": "save",
        **extra,
    }


def test_the_editor_is_a_monospace_textarea(people: People, warehouse: WarehouseDb) -> None:
    make_source(people, warehouse)
    page = people.client(people.owner).get(f"{UI}/sources/dwh/models/new/").content.decode()
    assert 'class="font-monospace form-control"' in page
    assert 'name="intent" value="preview"' in page


def test_preview_shows_the_first_rows_and_saves_nothing(
    people: People, warehouse: WarehouseDb
) -> None:
    make_source(people, warehouse)
    table = customers_table(warehouse)
    response = people.client(people.owner).post(
        f"{UI}/sources/dwh/models/new/", model_form(table, intent="preview")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="preview-rows"' in page
    assert "<th>customer_id</th><th>plan</th>" in page
    assert "<td>c1</td><td>free</td>" in page and "<td>c2</td><td>pro</td>" in page
    assert "identifier unique and non-null" in page
    assert not RetlModel.objects.exists()


def test_preview_says_when_the_identifier_repeats_or_is_null(
    people: People, warehouse: WarehouseDb
) -> None:
    make_source(people, warehouse)
    owner = people.client(people.owner)
    repeated = customers_table(warehouse, "('c1', 'free'), ('c1', 'pro')")
    page = owner.post(
        f"{UI}/sources/dwh/models/new/", model_form(repeated, intent="preview")
    ).content.decode()
    assert "identifier not unique" in page
    nulls = customers_table(warehouse, "('c1', 'free'), (NULL, 'pro')")
    page = owner.post(
        f"{UI}/sources/dwh/models/new/", model_form(nulls, intent="preview")
    ).content.decode()
    assert "identifier has nulls" in page


def test_a_query_that_fails_is_an_error_on_the_editor(
    people: People, warehouse: WarehouseDb
) -> None:
    make_source(people, warehouse)
    owner = people.client(people.owner)
    for intent in ("save", "preview"):
        response = owner.post(
            f"{UI}/sources/dwh/models/new/",
            model_form("no_such_table", intent=intent),
        )
        assert response.status_code == 400
        assert "no_such_table" in response.content.decode()
    assert not RetlModel.objects.exists()


def test_an_identifier_not_in_the_result_is_an_error_on_its_field(
    people: People, warehouse: WarehouseDb
) -> None:
    make_source(people, warehouse)
    table = customers_table(warehouse)
    response = people.client(people.owner).post(
        f"{UI}/sources/dwh/models/new/", model_form(table, identifier_column="id")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not in the query&#x27;s result" in page
    assert 'id="id_identifier_column" required aria-invalid' in page or "is-invalid" in page
    assert not RetlModel.objects.exists()


def test_create_then_edit_the_query(people: People, warehouse: WarehouseDb) -> None:
    make_source(people, warehouse)
    table = customers_table(warehouse)
    owner = people.client(people.owner)
    response = owner.post(f"{UI}/sources/dwh/models/new/", model_form(table))
    assert response["Location"] == f"{UI}/models/customers/"
    model = RetlModel.objects.get(slug="customers")
    assert model.identifier_column == "customer_id"
    edited = model_form(table, query=f"SELECT customer_id FROM {table}")
    del edited["slug"]
    assert owner.post(f"{UI}/models/customers/", edited).status_code == 302
    model.refresh_from_db()
    assert model.query == f"SELECT customer_id FROM {table}"
    # An edited query is previewed before it is saved.
    page = owner.post(
        f"{UI}/models/customers/",
        {
            **edited,
            "query": f"SELECT customer_id, plan, 1 AS one FROM {table}",
            "intent": "preview",
        },
    ).content.decode()
    assert "<th>one</th>" in page
    model.refresh_from_db()
    assert "one" not in model.query


def test_delete_a_model(people: People, warehouse: WarehouseDb) -> None:
    source = make_source(people, warehouse)
    make_model(people, source, customers_table(warehouse))
    response = people.client(people.owner).post(f"{UI}/models/customers/", {"intent": "delete"})
    assert response["Location"] == f"{UI}/sources/dwh/"
    assert not RetlModel.objects.exists()


def test_a_reader_previews_the_saved_query_but_cannot_edit(
    people: People, warehouse: WarehouseDb
) -> None:
    source = make_source(people, warehouse)
    table = customers_table(warehouse)
    make_model(people, source, table)
    reader = people.client(people.reader)
    page = reader.get(f"{UI}/models/customers/").content.decode()
    assert 'id="read-only-note"' in page
    assert 'name="query"' not in page and 'id="delete-model"' not in page
    assert f"SELECT customer_id, plan FROM {table}" in page
    preview = reader.post(f"{UI}/models/customers/", {"intent": "preview"}).content.decode()
    assert "<td>c1</td><td>free</td>" in preview
    changed = model_form("pg_class", intent="save")
    assert reader.post(f"{UI}/models/customers/", changed).status_code == 403
    assert reader.post(f"{UI}/models/customers/", {"intent": "delete"}).status_code == 403
    assert reader.get(f"{UI}/sources/dwh/models/new/").status_code == 403
    assert RetlModel.objects.get().query == f"SELECT customer_id, plan FROM {table}"


def test_someone_outside_the_workspace_finds_no_model(
    people: People, warehouse: WarehouseDb
) -> None:
    source = make_source(people, warehouse)
    make_model(people, source, customers_table(warehouse))
    outsider = people.client(people.outsider)
    assert outsider.get(f"{UI}/models/customers/").status_code == 404
    assert outsider.post(f"{UI}/models/customers/", {"intent": "preview"}).status_code == 404
