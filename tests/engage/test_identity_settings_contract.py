"""The resource contract (tests/resource_contract.py) on a space's identifiers."""

from __future__ import annotations

import dataclasses

import pytest

from engage.models import IdentifierSetting, Space
from engage.services.identity_settings import do_add_custom_identifier
from tests.engage.identity_support import make_space
from tests.resource_contract import (
    Change,
    Resource,
    ResourceContract,
    Tenant,
    World,
    build_world,
    generate,
    openapi_document,
    unique,
)

pytestmark = pytest.mark.django_db
__all__ = ["openapi_document"]


@dataclasses.dataclass
class SpaceTenant(Tenant):
    space: Space | None = None

    @property
    def path_vars(self) -> dict[str, str]:
        assert self.space is not None
        return {**super().path_vars, "space": self.space.slug}


def with_space(tenant: Tenant) -> SpaceTenant:
    fields = {f.name: getattr(tenant, f.name) for f in dataclasses.fields(tenant)}
    return SpaceTenant(**fields, space=make_space(tenant.workspace))


@pytest.fixture
def world(db: None) -> World:
    built = build_world()
    return dataclasses.replace(built, acme=with_space(built.acme), globex=with_space(built.globex))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    generate(metafunc)


def make_identifier(tenant: Tenant, n: int) -> IdentifierSetting:
    assert isinstance(tenant, SpaceTenant) and tenant.space is not None
    return do_add_custom_identifier(
        principal=tenant.principal, space=tenant.space, type=unique("loyalty_id_")
    )


IDENTITY_RESOURCES = (
    Resource(
        id="space-identifiers",
        collection="workspaces/{workspace}/spaces/{space}/identifiers",
        resource_key="identifier",
        collection_key="identifiers",
        make=make_identifier,
        key_of=lambda setting: setting.type,
        create=lambda t, n: {"type": unique("crm_id_"), "limit": 3},
        update=(Change("limit", 2),),
        concurrent=(
            Change("limit", 3),
            Change("period", "MONTHLY"),
            Change("blocked_values", [{"value": "void", "kind": "EXACT"}]),
        ),
        delete=True,
        audit={
            "create": "identifier.created",
            "update": "identifier.updated",
            "delete": "identifier.deleted",
        },
        member_get=404,  # a space only its roles (or Identity Admin) show
        reader_role="unify-and-engage-read-only",
    ),
)


class TestIdentityResources(ResourceContract):
    RESOURCES = IDENTITY_RESOURCES
