"""The resource contract (tests/resource_contract.py) on every workspace resource."""

from __future__ import annotations

from typing import Any

import pytest

from tests.resource_contract import (
    Change,
    Resource,
    ResourceContract,
    Tenant,
    generate,
    join,
    openapi_document,
    unique,
    world,
)
from workspace.models import AuditEntry, Label, Membership
from workspace.services.grants import do_create_grant
from workspace.services.groups import do_add_group_member, do_create_group, group_name
from workspace.services.labels import do_create_label
from workspace.services.members import do_invite_member
from workspace.services.tokens import do_create_access_token, do_create_workspace_token
from workspace.services.workspaces import do_create_workspace

pytestmark = pytest.mark.django_db
__all__ = ["openapi_document", "world"]

READ_ONLY = "a read-only resource: no writes"
OWNERS_ONLY = 403  # an owners' area: members see the workspace, not this


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    generate(metafunc)


def add_member(tenant: Tenant, n: int = 0) -> Membership:
    return join(tenant)


def member_name(tenant: Tenant, membership: Membership) -> str:
    return f"workspaces/{tenant.workspace.slug}/users/{membership.user_id}"


def add_group_member(tenant: Tenant, n: int) -> Any:
    user = add_member(tenant).user
    return do_add_group_member(principal=tenant.principal, group=tenant.group, user=user)


def grant(tenant: Tenant, n: int) -> Any:
    user = add_member(tenant).user
    development = Label.objects.get(workspace=tenant.workspace, key="environment", value="dev")
    return do_create_grant(
        principal=tenant.principal,
        workspace=tenant.workspace,
        grantee=user,
        role="source-read-only",
        scope="labels",
        labels=[development],
    )


def audit_entry(tenant: Tenant, n: int) -> AuditEntry:
    label = do_create_label(
        principal=tenant.principal, workspace=tenant.workspace, key="team", value=unique("t")
    )
    return AuditEntry.objects.get(action="label.created", resource_name__endswith=f":{label.value}")


WORKSPACE_RESOURCES = (
    Resource(
        id="workspaces",
        # A member of acme, asked about another workspace of its owner.
        member_get=404,
        collection="workspaces",
        resource_key="workspace",
        collection_key="workspaces",
        make=lambda t, n: do_create_workspace(
            principal=t.principal, slug=unique("ws"), display_name="Made"
        ),
        key_of=lambda w: w.slug,
        create=lambda t, n: {"name": f"workspaces/{unique('new')}", "display_name": "New"},
        update=(Change("display_name", "Renamed"),),
        concurrent=(
            Change("display_name", "Renamed"),
            Change("settings.timezone", "UTC"),
            Change("settings.locale", "en-GB"),
        ),
        delete=True,
        audit={
            "create": "workspace.created",
            "update": "workspace.updated",
            "delete": "workspace.deleted",
        },
    ),
    Resource(
        id="users",
        member_get=OWNERS_ONLY,
        collection="workspaces/{workspace}/users",
        resource_key="user",
        collection_key="users",
        make=add_member,
        key_of=lambda m: str(m.user_id),
        update=(Change("role", "owner"),),
        delete=True,
        audit={"update": "user.updated", "delete": "user.removed"},
        not_applicable={"concurrent": "one patchable field (role)"},
    ),
    Resource(
        id="invites",
        member_get=OWNERS_ONLY,
        collection="workspaces/{workspace}/invites",
        resource_key="invite",
        collection_key="invites",
        make=lambda t, n: do_invite_member(
            principal=t.principal, workspace=t.workspace, email=f"{unique('i')}@example.com"
        )[0],
        key_of=lambda i: str(i.pk),
        create=lambda t, n: {"email": f"{unique('invitee')}@example.com"},
        delete=True,
        audit={"create": "invite.created", "delete": "invite.revoked"},
        not_applicable={"concurrent": "invites have no Update"},
    ),
    Resource(
        id="groups",
        member_get=OWNERS_ONLY,
        collection="workspaces/{workspace}/groups",
        resource_key="group",
        collection_key="groups",
        make=lambda t, n: do_create_group(
            principal=t.principal, workspace=t.workspace, name=unique("Group ")
        ),
        key_of=lambda g: str(g.pk),
        create=lambda t, n: {"display_name": unique("Ops ")},
        update=(Change("display_name", "Core"),),
        concurrent=(Change("display_name", "Core"), Change("description", "The core team")),
        delete=True,
        audit={"create": "group.created", "update": "group.updated", "delete": "group.deleted"},
    ),
    Resource(
        id="group-users",
        member_get=OWNERS_ONLY,
        collection="workspaces/{workspace}/groups/{group}/users",
        resource_key="user",
        collection_key="users",
        make=add_group_member,
        key_of=lambda gm: str(gm.user_id),
        create=lambda t, n: {"name": member_name(t, add_member(t))},
        delete=True,
        # The trail names the group whose membership changed.
        audit={"create": "group.member_added", "delete": "group.member_removed"},
        audit_name=lambda t, _body: group_name(t.group),
        not_applicable={"concurrent": "group memberships have no Update"},
    ),
    Resource(
        id="roles",
        collection="workspaces/{workspace}/roles",
        resource_key="role",
        collection_key="roles",
        make=None,
        key_of=lambda _: "source-admin",
        not_applicable={
            "audit": READ_ONLY,
            "read_only": READ_ONLY,
            "concurrent": READ_ONLY,
            "list_queries": "the role catalogue is code: no rows to add",
        },
    ),
    Resource(
        id="grants",
        member_get=OWNERS_ONLY,
        collection="workspaces/{workspace}/grants",
        resource_key="grant",
        collection_key="grants",
        make=grant,
        key_of=lambda g: str(g.pk),
        create=lambda t, n: {
            "principal": member_name(t, add_member(t)),
            "role": "source-read-only",
            "scope": "all",
        },
        update=(Change("role", "source-admin"),),
        concurrent=(Change("role", "source-admin"), Change("labels", ["environment:prod"])),
        delete=True,
        audit={"create": "grant.created", "update": "grant.updated", "delete": "grant.deleted"},
    ),
    Resource(
        id="labels",
        collection="workspaces/{workspace}/labels",
        resource_key="label",
        collection_key="labels",
        make=lambda t, n: do_create_label(
            principal=t.principal, workspace=t.workspace, key="team", value=unique("t")
        ),
        key_of=lambda label: f"{label.key}:{label.value}",
        create=lambda t, n: {"key": "team", "value": unique("new")},
        update=(Change("description", "Dev"),),
        delete=True,
        audit={"create": "label.created", "update": "label.updated", "delete": "label.deleted"},
        not_applicable={"concurrent": "one patchable field (description)"},
    ),
    Resource(
        id="access-tokens",
        member_get=OWNERS_ONLY,
        collection="workspaces/{workspace}/access-tokens",
        resource_key="access_token",
        collection_key="access_tokens",
        make=lambda t, n: do_create_workspace_token(
            principal=t.principal, workspace=t.workspace, description=unique("ci ")
        )[0],
        key_of=lambda token: str(token.pk),
        create=lambda t, n: {"description": "deploys"},
        update=(Change("description", "renamed"),),
        delete=True,
        audit={
            "create": "access_token.created",
            "update": "access_token.updated",
            "delete": "access_token.revoked",
        },
        not_applicable={"concurrent": "one patchable field (description)"},
    ),
    Resource(
        # The caller's own personal tokens: listed and revoked, never created, here.
        id="personal-access-tokens",
        member_get=404,  # another person's token is not there at all
        collection="access-tokens",
        resource_key="access_token",
        collection_key="access_tokens",
        make=lambda t, n: do_create_access_token(
            principal=t.principal, user=t.owner, description=unique("laptop ")
        )[0],
        key_of=lambda token: str(token.pk),
        item_param="access_token",
        delete=True,
        not_applicable={
            "audit": "filed under no workspace, which this check asks for; "
            "test_audit_every_endpoint and test_personal_tokens check its entry",
            "concurrent": "no patchable field",
            # The check compares the owner's list before and after, and that list
            # holds the read-only client's own token, whose first use sets its
            # last_used_time.
            "read_only": "the read-only client is one of the listed tokens; "
            "test_personal_tokens checks the refusal",
        },
    ),
    Resource(
        id="audit-events",
        member_get=OWNERS_ONLY,
        collection="workspaces/{workspace}/audit-events",
        resource_key="audit_event",
        collection_key="audit_events",
        make=audit_entry,
        key_of=lambda entry: str(entry.pk),
        not_applicable={"audit": READ_ONLY, "read_only": READ_ONLY, "concurrent": READ_ONLY},
    ),
)


class TestWorkspaceResources(ResourceContract):
    RESOURCES = WORKSPACE_RESOURCES


# Operations on a resource that are not themselves resources; their own tests cover them.
NOT_RESOURCES = {
    "/v1beta/workspaces/{workspace}/sources/{source}/destinations/{destination}/preview": (
        "a dry run of a sample event (tests/connections/test_destinations_api.py)"
    ),
    "/v1beta/workspaces/{workspace}/sources/{source}/destinations/{destination}:test": (
        "sends a test event (tests/connections/test_send_test_surfaces.py)"
    ),
    "/v1beta/workspaces/{workspace}/sources/{source}/destinations/{destination}"
    "/delivery-metrics": "a report (tests/connections/test_debugger_and_metrics.py)",
    "/v1beta/workspaces/{workspace}/users/{user}:unlock": (
        "clears a member's failed sign-ins (tests/workspace/test_login_lockout.py)"
    ),
    "/v1beta/workspaces/{workspace}/sources/{source}/ingest-failures": (
        "a report (tests/connections/test_ingest_failures.py)"
    ),
    "/v1beta/workspaces/{workspace}/pii-matchers:test": (
        "what the matchers flag in a sample event (tests/privacy/test_matchers_api.py)"
    ),
    "/v1beta/workspaces/{workspace}/privacy/inbox": (
        "a report of the fields sources sent lately (tests/privacy/test_inbox.py)"
    ),
    "/v1beta/workspaces/{workspace}/privacy/inventory:export": (
        "the Inventory as CSV (tests/privacy/test_inventory.py)"
    ),
    "/v1beta/workspaces/{workspace}/sources/{source}/privacy-controls": (
        "one per source, Get and Update only, no collection (tests/privacy/test_controls.py)"
    ),
    "/v1beta/workspaces/{workspace}/spaces/{space}:cancelDeletion": (
        "cancels a requested deletion (tests/engage/test_spaces_api.py)"
    ),
    "/v1beta/workspaces/{workspace}/spaces/{space}/identifiers:import": (
        "copies another space's settings (tests/engage/test_identity_settings_api.py)"
    ),
    **{
        f"/v1beta/workspaces/{{workspace}}/spaces/{{space}}/{path}": why
        for path, why in (
            ("audiences:preview", "a size estimate"),
            ("audiences/{audience}:compute", "queues a run"),
            ("audiences/{audience}/runs", "run history, read-only"),
            ("audiences/{audience}/runs/{run}", "run history, read-only"),
            ("audiences/{audience}/members", "members, read-only"),
            ("audiences/{audience}/members/{member}", "members, read-only"),
            ("computed-traits:preview", "a size estimate"),
            ("computed-traits/{computed_trait}:compute", "queues a run"),
            ("computed-traits/{computed_trait}/runs", "run history, read-only"),
            ("computed-traits/{computed_trait}/runs/{run}", "run history, read-only"),
            ("computed-traits/{computed_trait}/members", "members, read-only"),
            ("computed-traits/{computed_trait}/members/{member}", "members, read-only"),
        )
    },  # tests/engage/test_computations_api.py
    **{
        f"/v1beta/workspaces/{{workspace}}/reverse-etl/{path}": why
        for path, why in (
            ("sources/{retl_source}:test", "runs the connection checks"),
            ("models/{retl_model}:preview", "reads the model's first rows"),
            ("mappings/{retl_mapping}:duplicate", "creates a disabled copy"),
            ("mappings/{retl_mapping}/syncs", "sync runs, read-only"),
            ("mappings/{retl_mapping}/syncs/{retl_sync}", "sync runs, read-only"),
            ("mappings/{retl_mapping}/syncs/{retl_sync}:cancel", "cancels a run"),
            ("mappings/{retl_mapping}/syncs:run", "queues a run"),
            ("mappings/{retl_mapping}/syncs:reset", "forgets the snapshot"),
        )
    },  # tests/connections/reverse_etl/
    **{
        f"/v1beta/workspaces/{{workspace}}/reverse-etl/{path}": why
        for path, why in (
            ("alert-settings", "one per workspace, Get and Update only"),
            ("mappings/{retl_mapping}/alert", "one per mapping, Get and Update only"),
            ("alerts", "alerts raised, read-only"),
            ("alerts/{retl_alert}", "alerts raised, read-only"),
            ("alerts:markRead", "marks alerts read"),
            ("consent-categories", "one per workspace, Get and Update only"),
            ("models/{retl_model}/consent", "one per model, Get and Update only"),
        )
    },  # tests/connections/reverse_etl/test_alerts.py, test_consent.py
    "/v1beta/workspaces/{workspace}/reverse-etl/mappings/{retl_mapping}/schedule": (
        "one per mapping, Get and Update only (tests/connections/reverse_etl/test_schedules.py)"
    ),
}


def test_every_api_path_belongs_to_a_resource_under_contract(
    openapi_document: dict[str, Any],
) -> None:
    from tests.connections.reverse_etl.test_resource_contracts import RETL_RESOURCES
    from tests.connections.test_resource_contracts import CONNECTION_RESOURCES
    from tests.engage.test_computation_destination_contracts import DESTINATION_RESOURCES
    from tests.engage.test_resource_contracts import ENGAGE_RESOURCES
    from tests.privacy.test_resource_contracts import PRIVACY_RESOURCES

    resources = (
        *WORKSPACE_RESOURCES,
        *CONNECTION_RESOURCES,
        *RETL_RESOURCES,
        *PRIVACY_RESOURCES,
        *ENGAGE_RESOURCES,
        *DESTINATION_RESOURCES,
    )
    covered = {p for r in resources for p in r.openapi_paths()}
    assert set(openapi_document["paths"]) - covered == set(NOT_RESOURCES)
