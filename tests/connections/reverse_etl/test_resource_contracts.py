"""The resource contract (tests/resource_contract.py) on the Reverse ETL resources.

Models are checked in a real warehouse when saved, so this module's sources point
at the module's warehouse database (``warehouse_support``), which holds one table
the models read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connections.reverse_etl.models import RetlMapping, RetlModel, RetlSource
from connections.reverse_etl.services.mappings import do_create_mapping
from connections.reverse_etl.services.models import do_create_retl_model
from connections.reverse_etl.services.sources import do_create_retl_source
from tests.connections.reverse_etl.warehouse_support import WarehouseDb, warehouse
from tests.resource_contract import (
    Change,
    Resource,
    ResourceContract,
    Tenant,
    generate,
    openapi_document,
    unique,
    world,
)

pytestmark = pytest.mark.django_db
__all__ = ["openapi_document", "warehouse", "world"]

TABLE = "contract_customers"
GRANTED_ONLY = 404  # members see Reverse ETL through source role grants on all sources
READER = "source-read-only"
CURRENT: dict[str, WarehouseDb] = {}


@pytest.fixture(scope="module", autouse=True)
def customers(warehouse: WarehouseDb) -> Iterator[None]:
    warehouse.run(f"CREATE TABLE {TABLE} (customer_id text PRIMARY KEY, plan text)")
    warehouse.run(f"INSERT INTO {TABLE} VALUES ('c1', 'free')")  # noqa: S608
    CURRENT["db"] = warehouse
    yield
    CURRENT.clear()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    generate(metafunc)


def connection() -> dict[str, Any]:
    s = CURRENT["db"].settings()
    return {
        "host": s.host,
        "port": s.port,
        "database": s.database,
        "username": s.username,
        "password": s.password,
        "ssl_mode": s.ssl_mode,
    }


def make_source(tenant: Tenant, n: int) -> RetlSource:
    return do_create_retl_source(
        principal=tenant.principal,
        workspace=tenant.workspace,
        slug=unique("dwh-"),
        display_name=f"Warehouse {n}",
        **connection(),
    )


def source_body(tenant: Tenant, n: int) -> dict[str, Any]:
    return {
        "name": f"workspaces/{tenant.workspace.slug}/reverse-etl/sources/{unique('new-')}",
        "display_name": "New warehouse",
        **connection(),
    }


def make_model(tenant: Tenant, n: int) -> RetlModel:
    return do_create_retl_model(
        principal=tenant.principal,
        source=make_source(tenant, n),
        slug=unique("model-"),
        display_name=f"Model {n}",
        query=f"SELECT * FROM {TABLE}",  # noqa: S608
        identifier_column="customer_id",
    )


def model_body(tenant: Tenant, n: int) -> dict[str, Any]:
    return {
        "name": f"workspaces/{tenant.workspace.slug}/reverse-etl/models/{unique('new-')}",
        "source": make_source(tenant, n).resource_name,
        "display_name": "Customers",
        "query": f"SELECT * FROM {TABLE}",  # noqa: S608
        "identifier_column": "customer_id",
    }


def make_mapping(tenant: Tenant, n: int) -> RetlMapping:
    return do_create_mapping(
        principal=tenant.principal,
        model=make_model(tenant, n),
        destination=tenant.destination,
        display_name=f"Mapping {n}",
        action="send",
        field_mappings={"data": {"plan": {"@path": "$.properties.plan"}}},
    )


def mapping_body(tenant: Tenant, n: int) -> dict[str, Any]:
    return {
        "model": make_model(tenant, n).resource_name,
        "destination": tenant.destination.resource_name,
        "display_name": "Plans",
        "action": "send",
        "field_mappings": {"data": {"plan": {"@path": "$.properties.plan"}}},
    }


RETL_RESOURCES: tuple[Resource, ...] = (
    Resource(
        id="reverse-etl-sources",
        member_get=GRANTED_ONLY,
        reader_role=READER,
        collection="workspaces/{workspace}/reverse-etl/sources",
        resource_key="reverse_etl_source",
        collection_key="reverse_etl_sources",
        item_param="retl_source",
        make=make_source,
        key_of=lambda source: source.slug,
        create=source_body,
        update=(Change("display_name", "Renamed"),),
        concurrent=(
            Change("display_name", "Analytics"),
            Change("port", 6543),
            Change("ssl_mode", "require"),
        ),
        delete=True,
        audit={
            "create": "reverse_etl_source.created",
            "update": "reverse_etl_source.updated",
            "delete": "reverse_etl_source.deleted",
        },
    ),
    Resource(
        id="reverse-etl-models",
        member_get=GRANTED_ONLY,
        reader_role=READER,
        collection="workspaces/{workspace}/reverse-etl/models",
        resource_key="reverse_etl_model",
        collection_key="reverse_etl_models",
        item_param="retl_model",
        make=make_model,
        key_of=lambda model: model.slug,
        create=model_body,
        update=(Change("display_name", "Paying customers"),),
        concurrent=(
            Change("display_name", "Renamed"),
            Change("description", "who pays"),
            Change("enabled", False),
        ),
        delete=True,
        audit={
            "create": "reverse_etl_model.created",
            "update": "reverse_etl_model.updated",
            "delete": "reverse_etl_model.deleted",
        },
    ),
    Resource(
        id="reverse-etl-mappings",
        member_get=GRANTED_ONLY,
        reader_role=READER,
        collection="workspaces/{workspace}/reverse-etl/mappings",
        resource_key="reverse_etl_mapping",
        collection_key="reverse_etl_mappings",
        item_param="retl_mapping",
        make=make_mapping,
        key_of=lambda mapping: mapping.key_id,
        create=mapping_body,
        update=(Change("display_name", "Renamed"),),
        concurrent=(
            Change("display_name", "Plans to CRM"),
            Change("record_selection", "DELETED"),
            Change("enabled", False),
        ),
        delete=True,
        audit={
            "create": "reverse_etl_mapping.created",
            "update": "reverse_etl_mapping.updated",
            "delete": "reverse_etl_mapping.deleted",
        },
    ),
)


class TestReverseEtlResources(ResourceContract):
    RESOURCES = RETL_RESOURCES
