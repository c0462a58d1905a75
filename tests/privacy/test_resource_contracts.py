"""The resource contract (tests/resource_contract.py) on every privacy resource."""

from __future__ import annotations

import pytest

from privacy.services.matchers import do_create_pii_matcher
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
)


class TestPrivacyResources(ResourceContract):
    RESOURCES = PRIVACY_RESOURCES
