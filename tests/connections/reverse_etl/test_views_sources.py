"""Connections > Reverse ETL > Sources pages: the list with the warehouse catalog,
the PostgreSQL form, Test connection (each check and where bookkeeping lives),
edit and delete, and who sees which controls."""

from __future__ import annotations

import pytest

from connections.reverse_etl import credentials
from connections.reverse_etl.models import RetlSource
from tests.connections.reverse_etl.view_support import (
    PASSWORD,
    UI,
    People,
    customers_table,
    make_source,
    people,
    source_form,
)
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse

__all__ = ["people", "warehouse"]
pytestmark = pytest.mark.django_db


def test_the_list_offers_the_documented_warehouses_and_marks_the_unbuilt_ones(
    people: People,
) -> None:
    page = people.client(people.owner).get(f"{UI}/sources/").content.decode()
    assert f'href="{UI}/sources/new/postgres/"' in page
    for slug in ("azure", "bigquery", "databricks", "redshift", "snowflake"):
        assert f'data-warehouse="{slug}"' in page
        assert f"{UI}/sources/new/{slug}/" not in page
    assert page.count("not available yet") == 5
    # The sidebar's Connections section links here.
    assert f'href="{UI}/"' in page and "Reverse ETL" in page


def test_an_unbuilt_warehouse_says_not_available_yet_and_an_unknown_one_is_404(
    people: People,
) -> None:
    owner = people.client(people.owner)
    response = owner.get(f"{UI}/sources/new/bigquery/")
    assert response.status_code == 501
    assert "not available yet" in response.content.decode()
    assert owner.post(f"{UI}/sources/new/bigquery/", {"display_name": "x"}).status_code == 501
    assert owner.get(f"{UI}/sources/new/oracle/").status_code == 404
    assert not RetlSource.objects.exists()


def test_create_a_postgres_source_stores_the_password_encrypted(
    people: People, warehouse: WarehouseDb
) -> None:
    owner = people.client(people.owner)
    assert 'name="ssl_mode"' in owner.get(f"{UI}/sources/new/postgres/").content.decode()
    response = owner.post(f"{UI}/sources/new/postgres/", source_form(warehouse, password=PASSWORD))
    assert response.status_code == 302
    assert response["Location"] == f"{UI}/sources/dwh/"
    source = RetlSource.objects.get(slug="dwh")
    assert source.warehouse == "postgres"
    assert PASSWORD not in source.password_encrypted
    assert credentials.decrypt(source.password_encrypted) == PASSWORD
    page = owner.get(f"{UI}/sources/dwh/").content.decode()
    assert PASSWORD not in page
    assert "not decided yet: the first Test connection or sync decides" in page


def test_a_source_without_a_dsn_or_host_is_a_form_error_and_nothing_is_created(
    people: People, warehouse: WarehouseDb
) -> None:
    response = people.client(people.owner).post(
        f"{UI}/sources/new/postgres/", source_form(warehouse, host="", database="")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "give a dsn, or host, database and username" in page
    assert "is-invalid" in page
    assert not RetlSource.objects.exists()


def test_a_taken_slug_is_shown_on_the_slug_field(people: People, warehouse: WarehouseDb) -> None:
    make_source(people, warehouse)
    response = people.client(people.owner).post(
        f"{UI}/sources/new/postgres/", source_form(warehouse)
    )
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert RetlSource.objects.count() == 1


def test_a_source_by_dsn_only(people: People, warehouse: WarehouseDb) -> None:
    s = warehouse.settings()
    dsn = f"host={s.host} port={s.port} dbname={s.database} user={s.username}"
    response = people.client(people.owner).post(
        f"{UI}/sources/new/postgres/",
        source_form(warehouse, host="", database="", username="", password="", dsn=dsn),
    )
    assert response.status_code == 302
    source = RetlSource.objects.get(slug="dwh")
    assert (source.host, source.dsn_set) == ("", True)


def test_test_connection_shows_each_check_and_bookkeeping_in_the_warehouse(
    people: People, warehouse: WarehouseDb
) -> None:
    customers_table(warehouse)  # something to read
    make_source(people, warehouse)
    response = people.client(people.owner).post(f"{UI}/sources/dwh/", {"intent": "test"})
    assert response.status_code == 200
    page = response.content.decode()
    for check in ("connect", "read", "bookkeeping"):
        assert f'data-check="{check}" data-passed="true"' in page
    assert "PASSED" in page and "FAILED" not in page
    assert 'data-bookkeeping="WAREHOUSE"' in page
    assert "in the warehouse (schema __switchyard_retl)" in page
    # The source keeps where its snapshots live once decided, and its page says so.
    later = people.client(people.owner).get(f"{UI}/sources/dwh/").content.decode()
    assert '<dd class="col-8" id="kept-bookkeeping">in the warehouse' in later


def test_a_user_without_create_schema_is_told_bookkeeping_lives_in_switchyard(
    people: People, warehouse: WarehouseDb
) -> None:
    role = warehouse.make_role(
        f"GRANT CONNECT ON DATABASE {warehouse.dbname} TO {{role}}",
        "GRANT USAGE ON SCHEMA public TO {role}",
        "REVOKE CREATE ON DATABASE " + warehouse.dbname + " FROM PUBLIC",
    )
    owner = people.client(people.owner)
    owner.post(f"{UI}/sources/new/postgres/", source_form(warehouse, username=role, password="pw"))
    page = owner.post(f"{UI}/sources/dwh/", {"intent": "test"}).content.decode()
    assert 'data-check="connect" data-passed="true"' in page
    assert 'data-check="bookkeeping" data-passed="false"' in page
    assert 'data-bookkeeping="SWITCHYARD"' in page
    assert '<dd class="col-8" id="kept-bookkeeping">in Switchyard' in page
    assert "in Switchyard&#x27;s own database" in page


def test_a_failed_connect_check_says_why(people: People, warehouse: WarehouseDb) -> None:
    # The test server trusts local connections: a role that does not exist is refused.
    owner = people.client(people.owner)
    owner.post(f"{UI}/sources/new/postgres/", source_form(warehouse, username="no_such_role_x1"))
    page = owner.post(f"{UI}/sources/dwh/", {"intent": "test"}).content.decode()
    assert 'data-check="connect" data-passed="false"' in page
    assert "Connection failed." in page
    assert "no_such_role_x1" in page


def test_edit_keeps_the_stored_password_unless_a_new_one_or_clear_is_given(
    people: People, warehouse: WarehouseDb
) -> None:
    source = make_source(people, warehouse)
    owner = people.client(people.owner)
    stored = source.password_encrypted
    page = owner.get(f"{UI}/sources/dwh/edit/").content.decode()
    assert "A password is stored" in page and stored not in page
    form = {**source_form(warehouse), "display_name": "Renamed", "password": ""}
    del form["slug"]
    assert owner.post(f"{UI}/sources/dwh/edit/", form).status_code == 302
    source.refresh_from_db()
    assert (source.display_name, source.password_encrypted) == ("Renamed", stored)
    owner.post(f"{UI}/sources/dwh/edit/", {**form, "clear_password": "on"})
    source.refresh_from_db()
    assert not source.password_set


def test_edit_errors_are_shown_and_change_nothing(people: People, warehouse: WarehouseDb) -> None:
    source = make_source(people, warehouse)
    form = {**source_form(warehouse), "port": "70000"}
    response = people.client(people.owner).post(f"{UI}/sources/dwh/edit/", form)
    assert response.status_code == 400
    assert "65535" in response.content.decode()
    source.refresh_from_db()
    assert source.port != 70000


def test_delete_needs_the_slug_typed(people: People, warehouse: WarehouseDb) -> None:
    make_source(people, warehouse)
    owner = people.client(people.owner)
    owner.post(f"{UI}/sources/dwh/", {"intent": "delete", "confirm": "wrong"})
    assert RetlSource.objects.filter(slug="dwh").exists()
    response = owner.post(f"{UI}/sources/dwh/", {"intent": "delete", "confirm": "dwh"})
    assert response["Location"] == f"{UI}/sources/"
    assert not RetlSource.objects.filter(slug="dwh").exists()


def test_a_reader_sees_sources_but_no_controls_and_is_refused_writes(
    people: People, warehouse: WarehouseDb
) -> None:
    make_source(people, warehouse)
    reader = people.client(people.reader)
    listing = reader.get(f"{UI}/sources/").content.decode()
    assert 'data-source="dwh"' in listing
    assert "warehouse-catalog" not in listing
    page = reader.get(f"{UI}/sources/dwh/").content.decode()
    for control in (
        'id="test-connection"',
        'id="edit-source"',
        'id="delete-source"',
        'id="add-model"',
    ):
        assert control not in page
    assert 'id="read-only-note"' in page
    assert reader.post(f"{UI}/sources/dwh/", {"intent": "test"}).status_code == 403
    assert (
        reader.post(f"{UI}/sources/dwh/", {"intent": "delete", "confirm": "dwh"}).status_code == 403
    )
    assert reader.get(f"{UI}/sources/dwh/edit/").status_code == 403
    assert (
        reader.post(f"{UI}/sources/new/postgres/", source_form(warehouse, slug="x")).status_code
        == 403
    )
    assert RetlSource.objects.filter(slug="dwh").exists()
    assert not RetlSource.objects.filter(slug="x").exists()


def test_someone_outside_the_workspace_finds_nothing(
    people: People, warehouse: WarehouseDb
) -> None:
    make_source(people, warehouse)
    outsider = people.client(people.outsider)
    assert outsider.get(f"{UI}/sources/").status_code == 404
    assert outsider.get(f"{UI}/sources/dwh/").status_code == 404
    assert outsider.post(f"{UI}/sources/dwh/", {"intent": "test"}).status_code == 404
