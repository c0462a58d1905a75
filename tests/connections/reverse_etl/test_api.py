# ruff: noqa: S608 - model queries are SQL text by design; table names are generated here.
"""The Reverse ETL Config API: sources (secrets never shown, stored encrypted),
``:test``, models (the query checked in the warehouse on save) and ``:preview``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections.reverse_etl.models import RetlModel, RetlSource
from connections.reverse_etl.services import extract as extract_service
from switchyard.access import Principal
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from workspace.models import AuditEntry, Membership, Workspace
from workspace.services.grants import do_create_grant

__all__ = ["warehouse"]
pytestmark = pytest.mark.django_db

SOURCES = "/v1beta/workspaces/acme/reverse-etl/sources"
MODELS = "/v1beta/workspaces/acme/reverse-etl/models"
PASSWORD = "s3cret-Pa55word"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


def source_body(db: WarehouseDb, **extra: Any) -> dict[str, Any]:
    s = db.settings()
    body = {
        "name": "workspaces/acme/reverse-etl/sources/dwh",
        "display_name": "Data warehouse",
        "warehouse": "postgres",
        "host": s.host,
        "port": s.port,
        "database": s.database,
        "username": s.username,
        "password": s.password or PASSWORD,
        "ssl_mode": s.ssl_mode,
    }
    return {**body, **extra}


def create_source(api: APIClient, db: WarehouseDb, **extra: Any) -> dict[str, Any]:
    response = api.post(SOURCES, {"reverse_etl_source": source_body(db, **extra)}, format="json")
    assert response.status_code == 200, response.json()
    return dict(response.json())


def users_table(warehouse: WarehouseDb) -> str:
    table = warehouse.table("customers")
    warehouse.run(f"CREATE TABLE {table} (customer_id text PRIMARY KEY, plan text)")
    warehouse.run(f"INSERT INTO {table} VALUES ('c1', 'free'), ('c2', 'pro'), ('c3', 'pro')")
    return table


def model_body(table: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "workspaces/acme/reverse-etl/models/customers",
        "source": "workspaces/acme/reverse-etl/sources/dwh",
        "display_name": "Customers",
        "query": f"SELECT * FROM {table}",
        "identifier_column": "customer_id",
    }
    return {**body, **extra}


def test_secrets_are_write_only_and_encrypted_at_rest(
    api: APIClient, acme: Workspace, warehouse: WarehouseDb
) -> None:
    created = create_source(api, warehouse, password=PASSWORD)
    assert created["password_set"] is True and created["dsn_set"] is False
    assert "password" not in created and "dsn" not in created
    assert PASSWORD not in str(api.get(f"{SOURCES}/dwh").json())
    assert PASSWORD not in str(api.get(SOURCES).json())
    stored = RetlSource.objects.get(slug="dwh")
    assert stored.password_encrypted and PASSWORD not in stored.password_encrypted
    entries = AuditEntry.objects.filter(resource_name__endswith="reverse-etl/sources/dwh")
    assert PASSWORD not in str(list(entries.values("before", "after")))

    patch = {
        "reverse_etl_source": {"password": "another-One-9"},
        "update_mask": {"paths": ["reverse_etl_source.password"]},
    }
    assert api.patch(f"{SOURCES}/dwh", patch, format="json").status_code == 200
    changed = AuditEntry.objects.filter(action="reverse_etl_source.updated").get()
    assert list(changed.after) == ["password"]  # the trail says it changed (redacted)
    assert "another-One-9" not in str(changed.after)
    assert "another-One-9" not in RetlSource.objects.get(slug="dwh").password_encrypted


def test_a_source_without_a_dsn_needs_host_database_and_user(
    api: APIClient, acme: Workspace, warehouse: WarehouseDb
) -> None:
    body = source_body(warehouse, host="")
    response = api.post(SOURCES, {"reverse_etl_source": body}, format="json")
    assert response.status_code == 400
    assert "missing: host" in response.json()["error"]
    assert not RetlSource.objects.exists()


def test_an_unimplemented_warehouse_is_refused_by_name(
    api: APIClient, acme: Workspace, warehouse: WarehouseDb
) -> None:
    body = source_body(warehouse, warehouse="snowflake")
    response = api.post(SOURCES, {"reverse_etl_source": body}, format="json")
    assert response.status_code == 501
    assert "Snowflake" in response.json()["error"]
    assert not RetlSource.objects.exists()


def test_test_connection_reports_each_check(
    api: APIClient, acme: Workspace, warehouse: WarehouseDb
) -> None:
    users_table(warehouse)
    create_source(api, warehouse)
    assert api.get(f"{SOURCES}/dwh").json()["bookkeeping"] == ""  # not decided yet
    answer = api.post(f"{SOURCES}/dwh:test").json()
    assert answer["ok"] is True and answer["bookkeeping"] == "WAREHOUSE"
    assert api.get(f"{SOURCES}/dwh").json()["bookkeeping"] == "WAREHOUSE"
    assert [(c["name"], c["status"]) for c in answer["checks"]] == [
        ("connect", "PASSED"),
        ("read", "PASSED"),
        ("bookkeeping", "PASSED"),
    ]


def test_test_connection_with_a_read_only_user_names_the_missing_permission(
    api: APIClient, acme: Workspace, warehouse: WarehouseDb
) -> None:
    table = users_table(warehouse)
    role = warehouse.make_role(
        "GRANT USAGE ON SCHEMA public TO {role}", f"GRANT SELECT ON {table} TO {{role}}"
    )
    create_source(api, warehouse, username=role, password="pw")
    answer = api.post(f"{SOURCES}/dwh:test").json()
    checks = {c["name"]: c for c in answer["checks"]}
    assert checks["read"]["status"] == "PASSED"
    assert checks["bookkeeping"]["status"] == "FAILED"
    assert "__switchyard_retl" in checks["bookkeeping"]["detail"]
    assert answer["bookkeeping"] == "SWITCHYARD"
    assert api.get(f"{SOURCES}/dwh").json()["bookkeeping"] == "SWITCHYARD"


def test_a_read_only_token_cannot_run_the_connection_test(
    alice: User,
    acme: Workspace,
    api: APIClient,
    token_client: Callable[..., APIClient],
    warehouse: WarehouseDb,
) -> None:
    create_source(api, warehouse)
    reader = token_client(alice, read_only=True)
    response = reader.post(f"{SOURCES}/dwh:test")
    assert response.status_code == 403 and response.json()["code"] == 7


def test_a_model_whose_query_fails_or_lacks_the_identifier_is_not_saved(
    api: APIClient, acme: Workspace, warehouse: WarehouseDb
) -> None:
    table = users_table(warehouse)
    create_source(api, warehouse)
    bad_sql = model_body(table, query="SELECT * FROM no_such_table_anywhere")
    response = api.post(MODELS, {"reverse_etl_model": bad_sql}, format="json")
    assert response.status_code == 400
    assert "no_such_table_anywhere" in response.json()["error"]
    missing = model_body(table, identifier_column="email")
    response = api.post(MODELS, {"reverse_etl_model": missing}, format="json")
    assert response.status_code == 400
    assert "column 'email' is not in the query's result" in response.json()["error"]
    assert not RetlModel.objects.exists()
    trail = AuditEntry.objects.filter(action__startswith="reverse_etl_model").count()
    assert trail == 0


def test_a_model_is_saved_previewed_and_its_query_rechecked_on_update(
    api: APIClient, acme: Workspace, warehouse: WarehouseDb
) -> None:
    table = users_table(warehouse)
    create_source(api, warehouse)
    response = api.post(MODELS, {"reverse_etl_model": model_body(table)}, format="json")
    assert response.status_code == 200, response.json()
    created = response.json()
    assert created["source"] == "workspaces/acme/reverse-etl/sources/dwh"
    assert created["enabled"] is True

    preview = api.post(f"{MODELS}/customers:preview", {"limit": 2}, format="json").json()
    assert preview["columns"] == ["customer_id", "plan"]
    assert len(preview["rows"]) == 2 and preview["limited"] is True
    assert preview["identifier_unique"] is True
    edited = api.post(
        f"{MODELS}/customers:preview",
        {"query": f"SELECT plan AS customer_id FROM {table}"},
        format="json",
    ).json()
    assert edited["identifier_unique"] is False

    patch = {
        "reverse_etl_model": {"query": f"SELECT plan FROM {table}"},
        "update_mask": {"paths": ["reverse_etl_model.query"]},
    }
    response = api.patch(f"{MODELS}/customers", patch, format="json")
    assert response.status_code == 400
    assert "column 'customer_id' is not in the query's result" in response.json()["error"]
    assert RetlModel.objects.get().query == f"SELECT * FROM {table}"


def test_the_model_extract_runs_through_the_service(
    alice: User, api: APIClient, acme: Workspace, warehouse: WarehouseDb
) -> None:
    table = users_table(warehouse)
    create_source(api, warehouse)
    api.post(MODELS, {"reverse_etl_model": model_body(table)}, format="json")
    model = RetlModel.objects.select_related("source").get()
    run = extract_service.extract(model)
    assert (run.added, run.updated, run.deleted) == (3, 0, 0)
    ids = [r.id for r in extract_service.changes(model, run.extract_id)]
    assert extract_service.commit_snapshot(model, run.extract_id, ids) == 3
    assert extract_service.extract(model).added == 0
    extract_service.do_reset_model(principal=Principal(alice), model=model)
    assert extract_service.extract(model).added == 3
    assert AuditEntry.objects.filter(action="reverse_etl_model.reset").count() == 1


def test_source_read_only_members_read_but_cannot_manage(
    alice: User,
    bob: User,
    acme: Workspace,
    api: APIClient,
    token_client: Callable[..., APIClient],
    warehouse: WarehouseDb,
) -> None:
    create_source(api, warehouse)
    Membership.objects.create(workspace=acme, user=bob)
    member = token_client(bob)
    assert member.get(f"{SOURCES}/dwh").status_code == 404
    do_create_grant(
        principal=Principal(alice),
        workspace=acme,
        grantee=bob,
        role="source-read-only",
        scope="all",
    )
    assert member.get(f"{SOURCES}/dwh").status_code == 200
    response = member.post(f"{SOURCES}/dwh:test")
    assert response.status_code == 403
