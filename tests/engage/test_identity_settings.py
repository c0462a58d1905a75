"""Identity resolution settings: the seeded defaults, validated edits, custom
identifiers, reorders, import from another space, and who may do what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from engage.identity import defaults
from engage.models import IdentifierSetting, Space
from engage.services import identity_settings as service
from engage.services.spaces import do_create_space
from switchyard.access import Principal
from switchyard.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from tests.engage.identity_support import add_member, make_space
from workspace.models import AuditEntry, Workspace

pytestmark = pytest.mark.django_db

SUGGESTED = [
    {"value": "^[0-]*$", "kind": "REGEX"},
    {"value": "-1", "kind": "EXACT"},
    {"value": "null", "kind": "EXACT"},
    {"value": "anonymous", "kind": "EXACT"},
]


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture
def space(acme: Workspace) -> Space:
    return make_space(acme)


@pytest.fixture
def owner(alice: User) -> Principal:
    return Principal(alice)


def table(space: Space) -> list[tuple[Any, ...]]:
    rows = IdentifierSetting.objects.filter(space=space).order_by("priority")
    return list(rows.values_list("type", "priority", "limit", "period", "blocked_values", "custom"))


def setting(space: Space, type: str) -> IdentifierSetting:
    return IdentifierSetting.objects.select_related("space__workspace").get(space=space, type=type)


def priorities(space: Space) -> list[str]:
    return [row[0] for row in table(space)]


# -- defaults ---------------------------------------------------------------------------------


def test_a_new_space_has_the_eleven_defaults_with_the_documented_settings(space: Space) -> None:
    assert table(space) == [
        ("user_id", 1, 1, "EVER", SUGGESTED, False),
        ("email", 2, 5, "ANNUALLY", SUGGESTED, False),
        ("android.id", 3, 5, "ANNUALLY", SUGGESTED, False),
        ("android.idfa", 4, 5, "EVER", SUGGESTED, False),
        ("android.push_token", 5, 5, "EVER", SUGGESTED, False),
        ("anonymous_id", 6, 5, "WEEKLY", SUGGESTED, False),
        ("ga_client_id", 7, 5, "WEEKLY", SUGGESTED, False),
        ("group_id", 8, 5, "EVER", SUGGESTED, False),
        ("ios.id", 9, 5, "ANNUALLY", SUGGESTED, False),
        ("ios.idfa", 10, 5, "EVER", SUGGESTED, False),
        ("ios.push_token", 11, 5, "EVER", SUGGESTED, False),
    ]


def test_space_creation_seeds_the_defaults(acme: Workspace, owner: Principal) -> None:
    created = do_create_space(principal=owner, workspace=acme, slug="web", display_name="Web")
    assert [row[:4] for row in table(created)] == [row[:4] for row in table(make_space(acme))]
    assert len(table(created)) == 11


def test_seeding_again_changes_nothing_and_fills_only_what_is_missing(
    space: Space, owner: Principal
) -> None:
    service.do_update_identifier(
        principal=owner, setting=setting(space, "email"), changes={"limit": 9}
    )
    before = table(space)
    service.seed_defaults(space)
    assert table(space) == before
    IdentifierSetting.objects.filter(space=space, type="group_id").delete()
    service.seed_defaults(space)
    assert priorities(space)[-1] == "group_id"
    assert [row[1] for row in table(space)] == [*range(1, 8), 9, 10, 11, 12]


def test_every_default_type_has_a_location_and_the_optional_ones_are_not_seeded() -> None:
    assert set(defaults.DEFAULT_TYPES) <= set(defaults.LOCATIONS)
    assert {"braze_id", "cross_domain_id"} <= set(defaults.LOCATIONS)
    assert "braze_id" not in defaults.DEFAULT_TYPES
    android_idfa = defaults.LOCATIONS["android.idfa"]
    assert android_idfa.paths == (("context", "device", "advertisingId"),)
    assert dict(android_idfa.condition) == {
        ("context", "device", "type"): "android",
        ("context", "device", "adTrackingEnabled"): True,
    }


# -- edits ------------------------------------------------------------------------------------


def test_limit_period_and_blocked_values_are_updated_and_audited(
    space: Space, owner: Principal
) -> None:
    blocked = [{"value": "void", "kind": "EXACT"}, {"value": "^test-.*$", "kind": "REGEX"}]
    service.do_update_identifier(
        principal=owner,
        setting=setting(space, "anonymous_id"),
        changes={"limit": 3, "period": "MONTHLY", "blocked_values": blocked},
    )
    row = setting(space, "anonymous_id")
    assert (row.limit, row.period, row.blocked_values) == (3, "MONTHLY", blocked)
    entry = AuditEntry.objects.get(action="identifier.updated")
    assert entry.resource_name == "workspaces/acme/spaces/prod/identifiers/anonymous_id"
    assert entry.before["limit"] == 5
    assert entry.after["limit"] == 3


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"blocked_values": [{"value": "(?=x)", "kind": "REGEX"}]}, "not a valid regular"),
        ({"blocked_values": [{"value": "x", "kind": "FUZZY"}]}, "EXACT, REGEX"),
        ({"blocked_values": [{"value": "", "kind": "EXACT"}]}, "non-empty"),
        ({"limit": 0}, "from 1 to 1000"),
        ({"limit": "5"}, "whole number"),
        ({"period": "DAILY"}, "EVER, WEEKLY, MONTHLY, ANNUALLY"),
        ({"priority": 12}, "from 1 to 11"),
        ({"type": "mail"}, "cannot update"),
        ({"custom": True}, "cannot update"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(
    space: Space, owner: Principal, changes: dict[str, Any], says: str
) -> None:
    before = table(space), AuditEntry.objects.count()
    with pytest.raises(InvalidArgument) as error:
        service.do_update_identifier(
            principal=owner, setting=setting(space, "email"), changes=changes
        )
    assert says in str(error.value)
    assert (table(space), AuditEntry.objects.count()) == before


def test_a_new_priority_moves_the_identifier_and_shifts_the_others(
    space: Space, owner: Principal
) -> None:
    service.do_update_identifier(
        principal=owner, setting=setting(space, "anonymous_id"), changes={"priority": 1}
    )
    assert priorities(space)[:3] == ["anonymous_id", "user_id", "email"]
    service.do_update_identifier(
        principal=owner, setting=setting(space, "anonymous_id"), changes={"priority": 11}
    )
    assert priorities(space)[:2] == ["user_id", "email"]
    assert priorities(space)[-1] == "anonymous_id"
    assert [row[1] for row in table(space)] == list(range(1, 12))


def test_a_reorder_needs_unique_contiguous_priorities_for_every_identifier(
    space: Space, owner: Principal
) -> None:
    current = {t: n for n, t in enumerate(priorities(space), start=1)}
    before = table(space)
    duplicate = {**current, "email": 1}
    with pytest.raises(InvalidArgument, match="priorities must be unique"):
        service.do_reorder_identifiers(principal=owner, space=space, order=duplicate)
    gap = {**current, "ios.push_token": 13}
    with pytest.raises(InvalidArgument, match="without gaps"):
        service.do_reorder_identifiers(principal=owner, space=space, order=gap)
    with pytest.raises(InvalidArgument, match="missing"):
        service.do_reorder_identifiers(principal=owner, space=space, order=["email", "user_id"])
    assert table(space) == before
    swapped = {**current, "email": 1, "user_id": 2}
    service.do_reorder_identifiers(principal=owner, space=space, order=swapped)
    assert priorities(space)[:2] == ["email", "user_id"]
    entry = AuditEntry.objects.get(action="identifiers.reordered")
    assert entry.after == {"email": 1, "user_id": 2}


# -- custom identifiers -----------------------------------------------------------------------


def test_a_custom_identifier_is_added_last_with_the_suggested_blocks(
    space: Space, owner: Principal
) -> None:
    service.do_add_custom_identifier(principal=owner, space=space, type="phone", limit=2)
    assert table(space)[-1] == ("phone", 12, 2, "EVER", SUGGESTED, True)
    assert AuditEntry.objects.filter(action="identifier.created").count() == 1


def test_a_custom_identifier_can_be_placed_at_a_priority(space: Space, owner: Principal) -> None:
    service.do_add_custom_identifier(principal=owner, space=space, type="shopify_id", priority=2)
    assert priorities(space)[:3] == ["user_id", "shopify_id", "email"]
    assert [row[1] for row in table(space)] == list(range(1, 13))


@pytest.mark.parametrize(
    ("name", "error", "says"),
    [
        ("Phone", InvalidArgument, "must be lower-case"),
        ("shopifyId", InvalidArgument, "'shopifyid'"),
        ("has space", InvalidArgument, "lower-case letters"),
        ("_x", InvalidArgument, "starts with a letter"),
        ("email", AlreadyExists, "already has an identifier 'email'"),
    ],
)
def test_custom_identifier_names_are_lower_case_and_new(
    space: Space, owner: Principal, name: str, error: type[Exception], says: str
) -> None:
    before = table(space)
    with pytest.raises(error) as raised:
        service.do_add_custom_identifier(principal=owner, space=space, type=name)
    assert says in str(raised.value)
    assert table(space) == before


def test_custom_identifiers_are_removed_and_defaults_are_not(
    space: Space, owner: Principal
) -> None:
    service.do_add_custom_identifier(principal=owner, space=space, type="phone", priority=1)
    service.do_remove_custom_identifier(principal=owner, setting=setting(space, "phone"))
    assert "phone" not in priorities(space)
    assert [row[1] for row in table(space)] == list(range(1, 12))
    assert AuditEntry.objects.filter(action="identifier.deleted").count() == 1
    with pytest.raises(FailedPrecondition, match="defaults cannot be removed"):
        service.do_remove_custom_identifier(principal=owner, setting=setting(space, "email"))
    assert "email" in priorities(space)


# -- import -----------------------------------------------------------------------------------


def test_import_copies_another_space_s_settings(
    acme: Workspace, space: Space, owner: Principal
) -> None:
    service.do_add_custom_identifier(principal=owner, space=space, type="phone", priority=3)
    service.do_update_identifier(
        principal=owner,
        setting=setting(space, "user_id"),
        changes={"blocked_values": [{"value": "void", "kind": "EXACT"}]},
    )
    dev = make_space(acme, "dev")
    service.do_add_custom_identifier(principal=owner, space=dev, type="crm_id")
    service.do_import_identity_settings(principal=owner, from_space=space, to_space=dev)
    assert table(dev) == table(space)
    assert "crm_id" not in priorities(dev)
    entry = AuditEntry.objects.get(action="identifiers.imported")
    assert entry.after["from_space"] == "workspaces/acme/spaces/prod"
    with pytest.raises(InvalidArgument, match="another space"):
        service.do_import_identity_settings(principal=owner, from_space=dev, to_space=dev)


def test_import_from_another_workspace_is_not_found(
    space: Space, owner: Principal, make_workspace: Callable[..., Workspace]
) -> None:
    other = make_space(make_workspace(owner.user, "globex"))
    with pytest.raises(NotFound):
        service.do_import_identity_settings(principal=owner, from_space=other, to_space=space)


# -- access -----------------------------------------------------------------------------------


@pytest.fixture
def member(
    alice: User, acme: Workspace, make_user: Callable[..., User]
) -> Callable[[str | None], Principal]:
    def join(role: str | None = None) -> Principal:
        user = make_user(email=f"{role or 'none'}@example.com")
        return Principal(add_member(alice, acme, user, role))

    return join


def test_a_member_without_a_role_cannot_see_the_settings(
    space: Space, member: Callable[[str | None], Principal]
) -> None:
    nobody = member(None)
    assert not service.can(nobody, "view", space)
    with pytest.raises(NotFound):
        service.do_update_identifier(
            principal=nobody, setting=setting(space, "email"), changes={"limit": 2}
        )
    with pytest.raises(NotFound):
        service.do_add_custom_identifier(principal=nobody, space=space, type="phone")


@pytest.mark.parametrize("role", ["identity-admin", "unify-and-engage-admin"])
def test_identity_and_space_admins_edit(
    space: Space, member: Callable[[str | None], Principal], role: str
) -> None:
    admin = member(role)
    service.do_update_identifier(
        principal=admin, setting=setting(space, "email"), changes={"limit": 2}
    )
    service.do_add_custom_identifier(principal=admin, space=space, type="phone")
    assert setting(space, "email").limit == 2
    assert service.can(admin, "change", space)


@pytest.mark.parametrize("role", ["unify-and-engage-read-only", "unify-read-only-engage-user"])
def test_space_readers_and_engage_users_see_but_do_not_edit(
    space: Space, member: Callable[[str | None], Principal], role: str
) -> None:
    reader = member(role)
    assert service.can(reader, "view", space)
    before = table(space)
    with pytest.raises(PermissionDenied):
        service.do_update_identifier(
            principal=reader, setting=setting(space, "email"), changes={"limit": 2}
        )
    with pytest.raises(PermissionDenied):
        service.do_add_custom_identifier(principal=reader, space=space, type="phone")
    with pytest.raises(PermissionDenied):
        service.do_reorder_identifiers(principal=reader, space=space, order=priorities(space))
    assert table(space) == before
