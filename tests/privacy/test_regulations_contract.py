"""The resource contract (tests/resource_contract.py) on regulations and the
suppression list (kept beside, not in, test_resource_contracts.py: one module per
privacy area, so the areas' helpers do not edit one file)."""

from __future__ import annotations

import pytest

from privacy.models import SuppressedUser
from privacy.services.regulations import do_create_regulation
from tests.resource_contract import (
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


REGULATION_RESOURCES = (
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


class TestRegulationResources(ResourceContract):
    RESOURCES = REGULATION_RESOURCES
