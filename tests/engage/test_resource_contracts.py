"""The resource contract (tests/resource_contract.py) on every engage resource.

The shared world has no spaces, so this module's ``world`` gives each tenant one
(``main``, with the same slug in both workspaces so a stranger can name the
owner's rows under its own space) and ``{space}`` in its path variables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from connections.services.sources import do_create_source
from engage.models import Computation, IdentifierSetting, Space, SpaceSource, SpaceToken
from engage.services.computations import do_create_computation
from engage.services.identity_settings import do_add_custom_identifier
from engage.services.space_sources import do_connect_source
from engage.services.spaces import do_create_space
from engage.services.tokens import do_create_space_token
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

SPACE = "main"
GRANTED_ONLY = 404  # members see spaces through space role grants only
SPACE_READER = "unify-and-engage-read-only"


@dataclass
class SpaceTenant(Tenant):
    space: Space | None = None

    @property
    def path_vars(self) -> dict[str, str]:
        return {**super().path_vars, "space": SPACE}


def with_space(tenant: Tenant) -> SpaceTenant:
    space = do_create_space(
        principal=tenant.principal, workspace=tenant.workspace, slug=SPACE, display_name="Main"
    )
    fields = {name: getattr(tenant, name) for name in Tenant.__dataclass_fields__}
    return SpaceTenant(**fields, space=space)


@pytest.fixture
def world(db: None) -> World:
    built = build_world()
    built.acme = with_space(built.acme)
    built.globex = with_space(built.globex)
    return built


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    generate(metafunc)


def space_of(tenant: Tenant) -> Space:
    assert isinstance(tenant, SpaceTenant) and tenant.space is not None
    return tenant.space


def make_space(tenant: Tenant, n: int) -> Space:
    return do_create_space(
        principal=tenant.principal,
        workspace=tenant.workspace,
        slug=unique("space-"),
        display_name=f"Space {n}",
    )


def new_source(tenant: Tenant) -> Any:
    return do_create_source(
        principal=tenant.principal,
        workspace=tenant.workspace,
        slug=unique("src-"),
        display_name="Source",
    )


def make_connection(tenant: Tenant, n: int) -> SpaceSource:
    return do_connect_source(
        principal=tenant.principal, space=space_of(tenant), source=new_source(tenant)
    )


def connect_body(tenant: Tenant, n: int) -> dict[str, Any]:
    return {"source": new_source(tenant).resource_name}


def make_token(tenant: Tenant, n: int) -> SpaceToken:
    token, _secret = do_create_space_token(
        principal=tenant.principal, space=space_of(tenant), description=f"token {n}"
    )
    return token


def make_identifier(tenant: Tenant, n: int) -> IdentifierSetting:
    return do_add_custom_identifier(
        principal=tenant.principal, space=space_of(tenant), type=unique("loyalty_id_")
    )


AUDIENCE = {
    "version": 1,
    "type": "users",
    "include_anonymous": False,
    "include_historical": True,
    "root": {"kind": "trait", "trait": "plan", "cmp": "eq", "value": "pro"},
}
TRAIT = {
    "version": 1,
    "type": "users",
    "kind": "event_counter",
    "event": "Order Completed",
    "where": None,
    "window": None,
}


def make_computation(kind: str, definition: dict[str, Any]) -> Any:
    def make(tenant: Tenant, n: int) -> Computation:
        return do_create_computation(
            principal=tenant.principal,
            space=space_of(tenant),
            kind=kind,
            display_name=f"Computed {n}",
            key=unique("c_").replace("-", "_").lower(),
            definition=definition,
        )

    return make


def computation_body(definition: dict[str, Any]) -> Any:
    return lambda t, n: {
        "display_name": f"New {n}",
        "key": unique("new_").replace("-", "_").lower(),
        "definition": definition,
    }


ENGAGE_RESOURCES: tuple[Resource, ...] = (
    Resource(
        id="spaces",
        member_get=GRANTED_ONLY,
        reader_role=SPACE_READER,
        collection="workspaces/{workspace}/spaces",
        resource_key="space",
        collection_key="spaces",
        make=make_space,
        key_of=lambda space: space.slug,
        create=lambda t, n: {
            "name": f"workspaces/{t.workspace.slug}/spaces/{unique('new-')}",
            "display_name": "Dev",
            "labels": ["environment:dev"],
        },
        update=(Change("display_name", "Development"),),
        concurrent=(
            Change("display_name", "Renamed"),
            Change("labels", ["environment:prod"]),
            Change("required_labels", ["environment:prod"]),
        ),
        delete=True,
        audit={
            "create": "space.created",
            "update": "space.updated",
            "delete": "space.deletion_requested",
        },
    ),
    Resource(
        id="space-sources",
        member_get=GRANTED_ONLY,
        reader_role=SPACE_READER,
        collection="workspaces/{workspace}/spaces/{space}/sources",
        resource_key="source",
        collection_key="sources",
        make=make_connection,
        key_of=lambda row: row.source.slug,
        create=connect_body,
        delete=True,
        audit={"create": "space_source.connected", "delete": "space_source.disconnected"},
        not_applicable={"concurrent": "a connection has no fields to update"},
    ),
    Resource(
        id="space-access-tokens",
        member_get=GRANTED_ONLY,
        reader_role=SPACE_READER,
        collection="workspaces/{workspace}/spaces/{space}/access-tokens",
        resource_key="access_token",
        collection_key="access_tokens",
        make=make_token,
        key_of=lambda token: str(token.pk),
        create=lambda t, n: {"description": "profile api"},
        delete=True,
        audit={"create": "space_token.created", "delete": "space_token.revoked"},
        not_applicable={"concurrent": "tokens are never updated (revoke and create anew)"},
    ),
    Resource(
        id="space-identifiers",
        member_get=GRANTED_ONLY,
        reader_role=SPACE_READER,
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
    ),
)


ENGAGE_RESOURCES += (
    Resource(
        id="audiences",
        member_get=GRANTED_ONLY,
        reader_role=SPACE_READER,
        collection="workspaces/{workspace}/spaces/{space}/audiences",
        resource_key="audience",
        collection_key="audiences",
        make=make_computation("audience", AUDIENCE),
        key_of=lambda row: row.key,
        create=computation_body(AUDIENCE),
        update=(Change("display_name", "Pro users"),),
        concurrent=(
            Change("display_name", "Renamed"),
            Change("folder", "Sales"),
            Change("description", "who pays"),
        ),
        delete=True,
        audit={
            "create": "audience.created",
            "update": "audience.updated",
            "delete": "audience.deleted",
        },
    ),
    Resource(
        id="computed-traits",
        member_get=GRANTED_ONLY,
        reader_role=SPACE_READER,
        collection="workspaces/{workspace}/spaces/{space}/computed-traits",
        resource_key="computed_trait",
        collection_key="computed_traits",
        make=make_computation("trait", TRAIT),
        key_of=lambda row: row.key,
        create=computation_body(TRAIT),
        update=(Change("display_name", "Orders"),),
        concurrent=(
            Change("display_name", "Renamed"),
            Change("folder", "Sales"),
            Change("description", "all orders"),
        ),
        delete=True,
        audit={
            "create": "computed_trait.created",
            "update": "computed_trait.updated",
            "delete": "computed_trait.deleted",
        },
    ),
)


class TestEngageResources(ResourceContract):
    RESOURCES = ENGAGE_RESOURCES
