"""Every mutating API endpoint writes exactly one audit entry, with the changed fields.

The list below is checked against the OpenAPI document: a new mutating operation
without a case here fails ``test_every_mutating_operation_is_exercised``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from connections.reverse_etl.services import consent as retl_consent
from connections.reverse_etl.services import syncs as retl_syncs
from connections.reverse_etl.services.mappings import do_create_mapping
from connections.reverse_etl.services.models import do_create_retl_model
from connections.reverse_etl.services.sources import do_create_retl_source
from connections.services.destinations import do_create_destination
from connections.services.filters import do_create_filter
from connections.services.sources import do_create_source
from connections.services.subscriptions import do_create_subscription
from connections.services.write_keys import do_create_write_key
from engage.models import Computation
from engage.services.computation_destinations import do_connect_destination
from engage.services.computations import do_create_computation
from engage.services.identity_settings import do_add_custom_identifier
from engage.services.space_sources import do_connect_source
from engage.services.spaces import do_create_space, do_request_space_deletion
from engage.services.tokens import do_create_space_token
from privacy.services.fields import do_add_inventory_field
from privacy.services.matchers import do_create_pii_matcher
from tests.connections.reverse_etl.warehouse_support import database_dsn_of_tests
from tests.resource_contract import EQUALS, World, build_world, make_account, openapi_document
from workspace.models import AccessToken, AuditEntry
from workspace.services.grants import do_create_grant
from workspace.services.groups import do_add_group_member
from workspace.services.members import do_accept_invitation, do_invite_member
from workspace.services.tokens import do_create_access_token, do_create_workspace_token

pytestmark = pytest.mark.django_db
__all__ = ["openapi_document"]

W = "/workspaces/acme"
SOURCE = f"{W}/sources/web"
DESTINATION = f"{SOURCE}/destinations/{{destination}}"
SPACE = f"{W}/spaces/crm"


@pytest.fixture
def contract_world(db: None) -> World:
    return build_world()


@pytest.fixture
def world(contract_world: World) -> dict[str, Any]:
    acme = contract_world.acme
    owner = acme.principal

    def member(name: str) -> Any:
        user = make_account(name, email=f"{name}@example.com")
        _invite, secret = do_invite_member(
            principal=owner, workspace=acme.workspace, email=user.email
        )
        return do_accept_invitation(secret=secret, user=user).user

    bob, carol = member("bob"), member("carol")
    # bob is locked out (what five failed sign-ins leave), for :unlock to clear.
    AccessAttempt.objects.create(
        username="bob",
        ip_address="203.0.113.9",
        user_agent="test",
        failures_since_start=5,
        attempt_time=timezone.now(),
        get_data="",
        post_data="",
        http_accept="",
        path_info="/login",
    )
    do_add_group_member(principal=owner, group=acme.group, user=carol)
    do_create_source(principal=owner, workspace=acme.workspace, slug="js", display_name="JS")
    token, _ = do_create_workspace_token(
        principal=owner, workspace=acme.workspace, description="ci"
    )
    personal, _ = do_create_access_token(principal=owner, user=acme.owner, description="laptop")
    invitation, _ = do_invite_member(
        principal=owner, workspace=acme.workspace, email="c@example.com"
    )
    grant = do_create_grant(
        principal=owner, workspace=acme.workspace, grantee=bob, role="source-admin", scope="all"
    )
    key = do_create_write_key(principal=owner, source=acme.source, description="old")
    subscription = do_create_subscription(
        principal=owner, destination=acme.destination, action="send", name="Send"
    )
    row = do_create_filter(
        principal=owner,
        destination=acme.destination,
        title="Only with userId",
        if_="length( userId ) < 1",
        actions=[{"type": "DROP"}],
    )
    matcher = do_create_pii_matcher(
        principal=owner,
        workspace=acme.workspace,
        name="Loyalty id",
        classification="YELLOW",
        match_on="KEY",
    )
    field = do_add_inventory_field(
        principal=owner, workspace=acme.workspace, path="traits.email", classification="RED"
    )
    space = do_create_space(
        principal=owner, workspace=acme.workspace, slug="crm", display_name="CRM"
    )
    do_connect_source(principal=owner, space=space, source=acme.source)
    space_token, _ = do_create_space_token(principal=owner, space=space, description="app")
    do_add_custom_identifier(principal=owner, space=space, type="loyalty_id")
    for kind, name, definition in (("audience", "VIP", VIP), ("trait", "Orders", ORDERS)):
        do_create_computation(
            principal=owner, space=space, kind=kind, display_name=name, definition=definition
        )
    # A second space, its deletion requested: for :cancelDeletion and :import's origin.
    doomed = do_create_space(
        principal=owner, workspace=acme.workspace, slug="old", display_name="Old"
    )
    do_request_space_deletion(principal=owner, space=doomed)
    # Destinations for audiences and traits, each on a source of its own (one feeding
    # a space, or sharing its source with one of its type, is refused): one connected
    # to each computation and one free to connect.
    free, connected = (
        do_create_destination(
            principal=owner,
            source=do_create_source(
                principal=owner, workspace=acme.workspace, slug=slug, display_name=slug
            ),
            **EQUALS,
        )
        for slug in ("engage-out", "engage-more")
    )
    for computation in Computation.objects.filter(space=space):
        do_connect_destination(
            principal=owner, computation=computation, destination=connected.key_id
        )
    # Reverse ETL: a warehouse source on the tests' own database (RETL_QUERY needs no table).
    retl_dsn = database_dsn_of_tests()
    retl_source = do_create_retl_source(
        principal=owner, workspace=acme.workspace, slug="dwh", display_name="DWH", dsn=retl_dsn
    )
    retl_model = do_create_retl_model(
        principal=owner,
        source=retl_source,
        slug="customers",
        display_name="Customers",
        query=RETL_QUERY,
        identifier_column="customer_id",
    )
    retl_mappings = [
        do_create_mapping(
            principal=owner,
            model=retl_model,
            destination=acme.destination,
            display_name=f"Plans {n}",
            action="send",
            field_mappings={"data": {"plan": {"@path": "$.properties.plan"}}},
        )
        for n in (1, 2)
    ]
    # The second mapping has a run queued (nothing is enqueued: no commit happens here).
    retl_sync = retl_syncs.start_sync(retl_mappings[1])
    # A consent category, for a model's consent columns to name.
    retl_consent.do_set_categories(
        principal=owner,
        workspace=acme.workspace,
        value=[{"category_id": "Advertising", "display_name": "Ads", "destinations": []}],
    )
    return {
        "api": contract_world.owner,
        "token_id": contract_world.owner_token.pk,
        "bob": bob.pk,
        "carol": carol.pk,
        "group": acme.group.pk,
        "token": token.pk,
        "personal_token": personal.pk,
        "invite": invitation.pk,
        "grant": grant.pk,
        "write_key": key.key_id,
        "destination": acme.destination.key_id,
        "subscription": subscription.key_id,
        "filter": row.key_id,
        "pii_matcher": matcher.key_id,
        "inventory_field": field.key_id,
        "space_token": space_token.pk,
        "free_destination": free.key_id,
        "connected_destination": connected.key_id,
        "retl_dsn": retl_dsn,
        "retl_mapping": retl_mappings[0].key_id,
        "retl_running": retl_mappings[1].key_id,
        "retl_sync": retl_sync.key_id,
    }


VIP = {
    "version": 1,
    "type": "users",
    "include_anonymous": False,
    "include_historical": True,
    "root": {"kind": "trait", "trait": "plan", "cmp": "eq", "value": "vip"},
}
ORDERS = {
    "version": 1,
    "type": "users",
    "kind": "event_counter",
    "event": "Order Completed",
    "where": None,
    "window": None,
}


RETL_QUERY = "SELECT 'c1' AS customer_id, 'pro' AS plan"
RETL = f"{W}/reverse-etl"


def mask(key: str, field: str, value: object) -> dict:
    return {key: {field: value}, "update_mask": {"paths": [f"{key}.{field}"]}}


# (method, path under /v1beta, body, audit action, the entry's "after" when checked)
ENDPOINTS: list[tuple[str, str, Any, str, dict | None]] = [
    (
        "post",
        "/workspaces",
        {"workspace": {"name": "workspaces/initech", "display_name": "Initech"}},
        "workspace.created",
        None,
    ),
    (
        "patch",
        W,
        mask("workspace", "display_name", "Acme Inc"),
        "workspace.updated",
        {"display_name": "Acme Inc"},
    ),
    ("delete", W, None, "workspace.deleted", None),
    (
        "post",
        f"{W}/sources",
        {"source": {"name": "workspaces/acme/sources/ios", "display_name": "iOS"}},
        "source.created",
        None,
    ),
    (
        "patch",
        f"{W}/sources/js",
        mask("source", "display_name", "Web"),
        "source.updated",
        {"display_name": "Web"},
    ),
    ("delete", f"{W}/sources/js", None, "source.deleted", None),
    (
        "post",
        f"{SOURCE}/write-keys",
        {"write_key": {"description": "rotation"}},
        "write_key.created",
        None,
    ),
    ("delete", f"{SOURCE}/write-keys/{{write_key}}", None, "write_key.revoked", None),
    ("post", f"{SOURCE}/destinations", {"destination": EQUALS}, "destination.created", None),
    (
        "patch",
        DESTINATION,
        mask("destination", "display_name", "Equals (EU)"),
        "destination.updated",
        {"display_name": "Equals (EU)"},
    ),
    ("delete", DESTINATION, None, "destination.deleted", None),
    (
        "post",
        f"{DESTINATION}/subscriptions",
        {"subscription": {"action": "send"}},
        "subscription.created",
        None,
    ),
    (
        "patch",
        f"{DESTINATION}/subscriptions/{{subscription}}",
        mask("subscription", "enabled", True),
        "subscription.updated",
        {"enabled": True},
    ),
    (
        "delete",
        f"{DESTINATION}/subscriptions/{{subscription}}",
        None,
        "subscription.deleted",
        None,
    ),
    (
        "post",
        f"{DESTINATION}/filters",
        {"filter": {"title": "Drop all", "if": "all", "actions": [{"type": "DROP"}]}},
        "destination_filter.created",
        None,
    ),
    (
        "patch",
        f"{DESTINATION}/filters/{{filter}}",
        mask("filter", "enabled", False),
        "destination_filter.updated",
        {"enabled": False},
    ),
    ("delete", f"{DESTINATION}/filters/{{filter}}", None, "destination_filter.deleted", None),
    ("post", f"{W}/labels", {"label": {"key": "team", "value": "core"}}, "label.created", None),
    (
        "patch",
        f"{W}/labels/environment:dev",
        mask("label", "description", "Dev"),
        "label.updated",
        {"description": "Dev"},
    ),
    ("delete", f"{W}/labels/environment:dev", None, "label.deleted", None),
    ("post", f"{W}/groups", {"group": {"display_name": "Ops"}}, "group.created", None),
    (
        "patch",
        f"{W}/groups/{{group}}",
        mask("group", "display_name", "Core"),
        "group.updated",
        {"name": "Core"},
    ),
    ("delete", f"{W}/groups/{{group}}", None, "group.deleted", None),
    (
        "post",
        f"{W}/groups/{{group}}/users",
        {"user": {"name": "workspaces/acme/users/{bob}"}},
        "group.member_added",
        {"user": "bob"},
    ),
    ("delete", f"{W}/groups/{{group}}/users/{{carol}}", None, "group.member_removed", None),
    ("post", f"{W}/invites", {"invite": {"email": "d@example.com"}}, "invite.created", None),
    ("delete", f"{W}/invites/{{invite}}", None, "invite.revoked", None),
    (
        "patch",
        f"{W}/users/{{bob}}",
        mask("user", "role", "owner"),
        "user.updated",
        {"role": "owner"},
    ),
    ("delete", f"{W}/users/{{bob}}", None, "user.removed", None),
    (
        "post",
        f"{W}/users/{{bob}}:unlock",
        None,
        "user.unlocked",
        {"username": "bob", "failed_sign_ins": 0},
    ),
    (
        "post",
        f"{W}/access-tokens",
        {"access_token": {"description": "deploys"}},
        "access_token.created",
        None,
    ),
    (
        "patch",
        f"{W}/access-tokens/{{token}}",
        mask("access_token", "description", "x"),
        "access_token.updated",
        {"description": "x"},
    ),
    ("delete", f"{W}/access-tokens/{{token}}", None, "access_token.revoked", None),
    ("delete", "/access-tokens/{personal_token}", None, "access_token.revoked", None),
    (
        "post",
        f"{W}/grants",
        {
            "grant": {
                "principal": "workspaces/acme/users/{bob}",
                "role": "source-read-only",
                "scope": "all",
            }
        },
        "grant.created",
        None,
    ),
    (
        "patch",
        f"{W}/grants/{{grant}}",
        mask("grant", "role", "source-read-only"),
        "grant.updated",
        None,
    ),
    ("delete", f"{W}/grants/{{grant}}", None, "grant.deleted", None),
    (
        "post",
        f"{W}/pii-matchers",
        {"pii_matcher": {"display_name": "SIN", "classification": "RED", "match_on": "KEY"}},
        "pii_matcher.created",
        None,
    ),
    (
        "patch",
        f"{W}/pii-matchers/{{pii_matcher}}",
        mask("pii_matcher", "classification", "RED"),
        "pii_matcher.updated",
        {"classification": "RED"},
    ),
    ("delete", f"{W}/pii-matchers/{{pii_matcher}}", None, "pii_matcher.deleted", None),
    (
        "post",
        f"{W}/privacy/inventory",
        {"inventory_field": {"path": "traits.phone", "classification": "YELLOW"}},
        "inventory_field.added",
        None,
    ),
    (
        "patch",
        f"{W}/privacy/inventory/{{inventory_field}}",
        mask("inventory_field", "classification", "YELLOW"),
        "inventory_field.updated",
        {"classification": "YELLOW"},
    ),
    (
        "delete",
        f"{W}/privacy/inventory/{{inventory_field}}",
        None,
        "inventory_field.removed",
        None,
    ),
    (
        "patch",
        f"{SOURCE}/privacy-controls",
        mask("privacy_controls", "block_red", True),
        "privacy_controls.updated",
        {"block_red": True},
    ),
    # Suppresses now and queues the deletion after commit (which never comes here:
    # the task writes no entry of its own either way).
    (
        "post",
        f"{W}/regulations",
        {
            "regulation": {
                "regulation_type": "SUPPRESS_WITH_DELETE",
                "subject_type": "USER_ID",
                "subject_ids": ["u1"],
            }
        },
        "regulation.created",
        None,
    ),
    (
        "post",
        f"{W}/spaces",
        {"space": {"name": "workspaces/acme/spaces/growth", "display_name": "Growth"}},
        "space.created",
        None,
    ),
    (
        "patch",
        SPACE,
        mask("space", "display_name", "Customers"),
        "space.updated",
        {"display_name": "Customers"},
    ),
    ("delete", SPACE, None, "space.deletion_requested", None),
    ("post", f"{W}/spaces/old:cancelDeletion", None, "space.deletion_cancelled", None),
    (
        "post",
        f"{SPACE}/sources",
        {"source": {"source": "workspaces/acme/sources/js"}},
        "space_source.connected",
        None,
    ),
    ("delete", f"{SPACE}/sources/web", None, "space_source.disconnected", None),
    (
        "post",
        f"{SPACE}/access-tokens",
        {"access_token": {"description": "backend"}},
        "space_token.created",
        None,
    ),
    ("delete", f"{SPACE}/access-tokens/{{space_token}}", None, "space_token.revoked", None),
    (
        "post",
        f"{SPACE}/identifiers",
        {"identifier": {"type": "member_id"}},
        "identifier.created",
        None,
    ),
    (
        "patch",
        f"{SPACE}/identifiers/loyalty_id",
        mask("identifier", "limit", 3),
        "identifier.updated",
        {"limit": 3},
    ),
    ("delete", f"{SPACE}/identifiers/loyalty_id", None, "identifier.deleted", None),
    (
        "post",
        f"{SPACE}/identifiers:import",
        {"from_space": "old"},
        "identifiers.imported",
        None,
    ),
    (
        "post",
        f"{SPACE}/audiences",
        {"audience": {"display_name": "Pro", "definition": VIP}},
        "audience.created",
        None,
    ),
    (
        "patch",
        f"{SPACE}/audiences/vip",
        mask("audience", "folder", "Sales"),
        "audience.updated",
        {"folder": "Sales"},
    ),
    ("delete", f"{SPACE}/audiences/vip", None, "audience.deleted", None),
    (
        "post",
        f"{SPACE}/computed-traits",
        {"computed_trait": {"display_name": "Order count", "definition": ORDERS}},
        "computed_trait.created",
        None,
    ),
    (
        "patch",
        f"{SPACE}/computed-traits/orders",
        mask("computed_trait", "display_name", "All orders"),
        "computed_trait.updated",
        {"display_name": "All orders"},
    ),
    ("delete", f"{SPACE}/computed-traits/orders", None, "computed_trait.deleted", None),
    *[
        case
        for collection, noun in (
            ("audiences/vip", "audience"),
            ("computed-traits/orders", "computed_trait"),
        )
        for case in (
            (
                "post",
                f"{SPACE}/{collection}/destinations",
                {"destination": {"destination_id": "{free_destination}"}},
                f"{noun}_destination.connected",
                None,
            ),
            (
                "patch",
                f"{SPACE}/{collection}/destinations/{{connected_destination}}",
                mask("destination", "send_track", True),
                f"{noun}_destination.updated",
                {"send_track": True},
            ),
            (
                "delete",
                f"{SPACE}/{collection}/destinations/{{connected_destination}}",
                None,
                f"{noun}_destination.disconnected",
                None,
            ),
        )
    ],
    (
        "post",
        f"{RETL}/sources",
        {
            "reverse_etl_source": {
                "name": "workspaces/acme/reverse-etl/sources/lake",
                "display_name": "Lake",
                "dsn": "{retl_dsn}",
            }
        },
        "reverse_etl_source.created",
        None,
    ),
    (
        "patch",
        f"{RETL}/sources/dwh",
        mask("reverse_etl_source", "display_name", "Warehouse"),
        "reverse_etl_source.updated",
        {"display_name": "Warehouse"},
    ),
    ("delete", f"{RETL}/sources/dwh", None, "reverse_etl_source.deleted", None),
    (
        "post",
        f"{RETL}/models",
        {
            "reverse_etl_model": {
                "name": "workspaces/acme/reverse-etl/models/plans",
                "source": "workspaces/acme/reverse-etl/sources/dwh",
                "display_name": "Plans",
                "query": RETL_QUERY,
                "identifier_column": "customer_id",
            }
        },
        "reverse_etl_model.created",
        None,
    ),
    (
        "patch",
        f"{RETL}/models/customers",
        mask("reverse_etl_model", "enabled", False),
        "reverse_etl_model.updated",
        {"enabled": False},
    ),
    ("delete", f"{RETL}/models/customers", None, "reverse_etl_model.deleted", None),
    (
        "post",
        f"{RETL}/mappings",
        {
            "reverse_etl_mapping": {
                "model": "workspaces/acme/reverse-etl/models/customers",
                "destination": "workspaces/acme/sources/web/destinations/{destination}",
                "display_name": "Plans",
                "action": "send",
                "field_mappings": {"data": {"plan": {"@path": "$.properties.plan"}}},
            }
        },
        "reverse_etl_mapping.created",
        None,
    ),
    (
        "patch",
        f"{RETL}/mappings/{{retl_mapping}}",
        mask("reverse_etl_mapping", "record_selection", "DELETED"),
        "reverse_etl_mapping.updated",
        None,
    ),
    ("delete", f"{RETL}/mappings/{{retl_mapping}}", None, "reverse_etl_mapping.deleted", None),
    (
        "post",
        f"{RETL}/mappings/{{retl_mapping}}:duplicate",
        None,
        "reverse_etl_mapping.created",
        None,
    ),
    (
        "post",
        f"{RETL}/mappings/{{retl_mapping}}/syncs:run",
        None,
        "reverse_etl_sync.started",
        {"status": "QUEUED"},
    ),
    (
        "post",
        f"{RETL}/mappings/{{retl_mapping}}/syncs:reset",
        None,
        "reverse_etl_mapping.reset",
        {"reset": True},
    ),
    (
        "post",
        f"{RETL}/mappings/{{retl_running}}/syncs/{{retl_sync}}:cancel",
        None,
        "reverse_etl_sync.canceled",
        {"status": "CANCELED"},
    ),
    (
        "patch",
        f"{RETL}/alert-settings",
        mask("reverse_etl_alert_settings", "sync_partial_success", True),
        "reverse_etl_alert_settings.updated",
        {"sync_partial_success": True},
    ),
    (
        "patch",
        f"{RETL}/mappings/{{retl_mapping}}/alert",
        mask("reverse_etl_mapping_alert", "enabled", True),
        "reverse_etl_mapping_alert.updated",
        {"enabled": True},
    ),
    (
        "patch",
        f"{RETL}/consent-categories",
        mask(
            "reverse_etl_consent_categories",
            "categories",
            [
                {
                    "category_id": "Analytics",
                    "display_name": "Analytics",
                    "destinations": ["workspaces/acme/sources/web/destinations/{destination}"],
                }
            ],
        ),
        "reverse_etl_consent_categories.updated",
        None,
    ),
    (
        "patch",
        f"{RETL}/models/customers/consent",
        mask("reverse_etl_model_consent", "columns", {"Advertising": "plan"}),
        "reverse_etl_model_consent.updated",
        {"columns": {"Advertising": "plan"}},
    ),
    (
        "patch",
        f"{RETL}/mappings/{{retl_mapping}}/schedule",
        {
            "reverse_etl_schedule": {"kind": "CRON", "cron": "0 9 * * mon-fri"},
            "update_mask": {"paths": ["reverse_etl_schedule.kind", "reverse_etl_schedule.cron"]},
        },
        "reverse_etl_schedule.updated",
        None,
    ),
]

# Mutating methods the API documents that change nothing stored, so audit nothing.
_DESTINATION_PATH = "/v1beta/workspaces/{workspace}/sources/{source}/destinations/{destination}"
_SPACE_PATH = "/v1beta/workspaces/{workspace}/spaces/{space}"
NOT_AUDITED = {
    ("post", f"{_DESTINATION_PATH}/preview"): "a dry run of a sample event, in memory",
    # Stores no deliveries, counters or retries (tests/connections/test_send_test_surfaces.py).
    ("post", f"{_DESTINATION_PATH}:test"): "sends one test event now and answers what happened",
    ("post", "/v1beta/workspaces/{workspace}/pii-matchers:test"): (
        "what the matchers flag in a sample event, in memory"
    ),
    # Counts the compiled query's rows; stores nothing.
    ("post", f"{_SPACE_PATH}/audiences:preview"): "a size estimate, computed and answered",
    ("post", f"{_SPACE_PATH}/computed-traits:preview"): "a size estimate, computed and answered",
    # A run is history of its own (runs list); its failures are audited by the run.
    ("post", f"{_SPACE_PATH}/audiences/{{audience}}:compute"): "queues a compute run",
    ("post", f"{_SPACE_PATH}/computed-traits/{{computed_trait}}:compute"): ("queues a compute run"),
    # Connects with the stored credentials and answers each check (it may create the
    # bookkeeping schema in the warehouse, nothing here).
    ("post", "/v1beta/workspaces/{workspace}/reverse-etl/sources/{retl_source}:test"): (
        "a connection check, answered"
    ),
    ("post", "/v1beta/workspaces/{workspace}/reverse-etl/models/{retl_model}:preview"): (
        "the model's first rows, read-only, answered"
    ),
    ("post", "/v1beta/workspaces/{workspace}/reverse-etl/alerts:markRead"): (
        "a reader's dismissal of in-app alerts (read_time), no setting changes"
    ),
}


def fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


@pytest.mark.parametrize(
    ("method", "path", "body", "action", "after"),
    ENDPOINTS,
    ids=[f"{e[0]} {e[1]}" for e in ENDPOINTS],
)
def test_one_entry_per_mutation(
    world: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    action: str,
    after: dict | None,
) -> None:
    before = AuditEntry.objects.count()
    url = "/v1beta" + fill(path, world)
    response = getattr(world["api"], method)(url, fill(body, world), format="json")
    assert response.status_code == 200, response.content
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("time", "id")
    assert entry.action == action
    assert entry.actor_token_id == world["token_id"]  # the API client's token is the actor
    if after is not None:
        assert entry.after == after


def _template_pattern(template: str, operation: dict[str, Any]) -> re.Pattern[str]:
    """A regex matching the concrete paths of an OpenAPI path template."""
    patterns = {
        p["name"]: p.get("schema", {}).get("pattern", "^[^/]+$").strip("^$")
        for p in operation.get("parameters", [])
        if p["in"] == "path"
    }
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        f"(?:{patterns.get(part, '[^/]+')})" if i % 2 else re.escape(part)
        for i, part in enumerate(parts)
    )
    return re.compile(regex)


def test_every_mutating_operation_is_exercised(
    world: dict[str, Any], openapi_document: dict[str, Any]
) -> None:
    documented = {
        (method, template): _template_pattern(template, operation)
        for template, operations in openapi_document["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch", "delete")
    }
    exercised = set()
    for method, path, *_ in ENDPOINTS:
        url = "/v1beta" + fill(path, world)
        found = [
            op for op, pattern in documented.items() if op[0] == method and pattern.fullmatch(url)
        ]
        assert len(found) == 1, (method, url, found)
        exercised.add(found[0])
    assert set(documented) - exercised == set(NOT_AUDITED)


def test_preview_stores_nothing(world: dict[str, Any]) -> None:
    before = AuditEntry.objects.count()
    url = "/v1beta" + fill(f"{DESTINATION}/preview", world)
    event = {"type": "track", "event": "Signed Up", "userId": "u1"}
    response = world["api"].post(url, {"event": event}, format="json")
    assert response.status_code == 200, response.content
    assert AuditEntry.objects.count() == before


def test_token_secrets_never_reach_the_trail(world: dict[str, Any]) -> None:
    secret = (
        world["api"]
        .post(f"/v1beta{W}/access-tokens", {"access_token": {"description": "s"}}, format="json")
        .json()["token"]
    )
    assert not any(
        secret in str(e.after) or secret in str(e.before) for e in AuditEntry.objects.all()
    )
    assert AccessToken.objects.filter(description="s").exists()
