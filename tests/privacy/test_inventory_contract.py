"""The resource contract (tests/resource_contract.py) on the Inventory.

The Inbox is a List without Get or writes, so the contract's checks do not fit
it; tests/privacy/test_inbox.py covers its paging, 403 for members and 404 for
strangers."""

from __future__ import annotations

import pytest

from privacy.services.fields import do_add_inventory_field
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
__all__ = ["openapi_document", "world"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    generate(metafunc)


def make_field(tenant: Tenant, n: int) -> object:
    return do_add_inventory_field(
        principal=tenant.principal,
        workspace=tenant.workspace,
        path=unique("traits.field_"),
        classification="YELLOW",
    )


INVENTORY = Resource(
    id="privacy-inventory",
    member_get=403,  # the Privacy Portal: members see the workspace, not this
    collection="workspaces/{workspace}/privacy/inventory",
    item_param="inventory_field",
    resource_key="inventory_field",
    collection_key="inventory_fields",
    make=make_field,
    key_of=lambda field: field.key_id,
    create=lambda t, n: {"path": unique("properties.p"), "classification": "RED"},
    update=(Change("classification", "RED"),),
    delete=True,
    audit={
        "create": "inventory_field.added",
        "update": "inventory_field.updated",
        "delete": "inventory_field.removed",
    },
    audit_name=lambda tenant, body: str(body["name"]),
    not_applicable={"concurrent": "classification is the one field an update may change"},
)


class TestInventoryResource(ResourceContract):
    RESOURCES = (INVENTORY,)
