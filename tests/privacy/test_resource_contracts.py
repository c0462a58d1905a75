"""The resource contract (tests/resource_contract.py) on every privacy resource.

The Inbox is a List without Get or writes, so the contract's checks do not fit
it; tests/privacy/test_inbox.py covers its paging, 403 for members and 404 for
strangers."""

from __future__ import annotations

import pytest

from privacy.models import SuppressedUser
from privacy.services.fields import do_add_inventory_field
from privacy.services.matchers import do_create_pii_matcher
from privacy.services.regulations import do_create_regulation
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

OWNERS_ONLY = 403  # the Privacy Portal: members see the workspace, not this
NO_UPDATES = "regulations and suppressions are never updated (UNSUPPRESS is a new regulation)"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    generate(metafunc)


def make_matcher(tenant: Tenant, n: int) -> object:
    return do_create_pii_matcher(
        principal=tenant.principal,
        workspace=tenant.workspace,
        name=unique("loyalty id "),
        classification="YELLOW",
        match_on="KEY",
        synonyms=["member number"],
    )


def make_field(tenant: Tenant, n: int) -> object:
    return do_add_inventory_field(
        principal=tenant.principal,
        workspace=tenant.workspace,
        path=unique("traits.field_"),
        classification="YELLOW",
    )


def make_regulation(tenant: Tenant, n: int) -> object:
    return do_create_regulation(
        principal=tenant.principal,
        workspace=tenant.workspace,
        regulation_type="DELETE_INTERNAL",
        subject_type="USER_ID",
        subject_ids=[unique("user-")],
    )


def make_suppressed(tenant: Tenant, n: int) -> SuppressedUser:
    regulation = do_create_regulation(
        principal=tenant.principal,
        workspace=tenant.workspace,
        regulation_type="SUPPRESS_ONLY",
        subject_type="USER_ID",
        subject_ids=[unique("user-")],
    )
    return SuppressedUser.objects.get(regulation=regulation)


PRIVACY_RESOURCES = (
    Resource(
        id="pii-matchers",
        member_get=OWNERS_ONLY,
        collection="workspaces/{workspace}/pii-matchers",
        resource_key="pii_matcher",
        collection_key="pii_matchers",
        make=make_matcher,
        key_of=lambda matcher: matcher.key_id,
        create=lambda t, n: {
            "display_name": unique("SIN "),
            "classification": "RED",
            "match_on": "VALUE",
            "pattern": r"^\d{3}-\d{3}-\d{3}$",
        },
        update=(Change("classification", "RED"),),
        concurrent=(
            Change("display_name", "Renamed"),
            Change("classification", "RED"),
            Change("enabled", False),
            Change("synonyms", ["loyalty no"]),
        ),
        delete=True,
        audit={
            "create": "pii_matcher.created",
            "update": "pii_matcher.updated",
            "delete": "pii_matcher.deleted",
        },
    ),
    Resource(
        id="privacy-inventory",
        member_get=OWNERS_ONLY,
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
    ),
    Resource(
        id="regulations",
        member_get=OWNERS_ONLY,
        collection="workspaces/{workspace}/regulations",
        resource_key="regulation",
        collection_key="regulations",
        make=make_regulation,
        key_of=lambda regulation: regulation.key_id,
        create=lambda t, n: {
            "regulation_type": "SUPPRESS_WITH_DELETE",
            "subject_type": "USER_ID",
            "subject_ids": [unique("user-"), unique("user-")],
        },
        audit={"create": "regulation.created"},
        not_applicable={"concurrent": NO_UPDATES},
    ),
    Resource(
        id="suppressed-users",
        member_get=OWNERS_ONLY,
        collection="workspaces/{workspace}/suppressed-users",
        resource_key="suppressed_user",
        collection_key="suppressed_users",
        make=make_suppressed,
        key_of=lambda row: row.user_id,
        not_applicable={
            "audit": "read-only: regulations write it (audited there)",
            "read_only": "read-only: there is no write to refuse",
            "concurrent": NO_UPDATES,
        },
    ),
)


class TestPrivacyResources(ResourceContract):
    RESOURCES = PRIVACY_RESOURCES
