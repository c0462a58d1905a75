"""Access Management reads as people speak: role names, what each grant reaches,
and a group's grant shown on a member's page as "via group X" without a Revoke."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from connections.models import Source
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import GroupMembership, Label, Membership, RoleGrant, UserGroup, Workspace
from workspace.services import grant_reach
from workspace.services.grants import do_create_grant

pytestmark = pytest.mark.django_db

BASE = "/workspaces/acme/settings/access"


@pytest.fixture
def acme(alice: User, bob: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    Membership.objects.create(workspace=workspace, user=bob)
    for slug, env in (("web-prod", "prod"), ("ios-prod", "prod"), ("web-dev", "dev")):
        do_create_source(
            principal=Principal(alice),
            workspace=workspace,
            slug=slug,
            display_name=slug.replace("-", " ").title(),
            labels=[f"environment:{env}"],
        )
    return workspace


def _grant(
    owner: User, workspace: Workspace, grantee: object, role: str, scope: str, **kw: object
) -> RoleGrant:
    return do_create_grant(
        principal=Principal(owner),
        workspace=workspace,
        grantee=grantee,
        role=role,
        scope=scope,
        **kw,
    )


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _row(page: str, grant: RoleGrant) -> str:
    match = re.search(rf'<tr data-grant="{grant.pk}">(.*?)</tr>', page, re.S)
    assert match, f"no row for grant {grant.pk}"
    return match.group(1)


def test_member_page_names_roles_and_lists_what_each_grant_reaches(
    acme: Workspace, alice: User, bob: User
) -> None:
    prod = Label.objects.get(workspace=acme, key="environment", value="prod")
    group = UserGroup.objects.create(workspace=acme, name="Prod admins")
    GroupMembership.objects.create(group=group, user=bob)
    via_group = _grant(alice, acme, group, "source-admin", "labels", labels=[prod])
    everything = _grant(alice, acme, bob, "source-read-only", "all")
    listed = _grant(
        alice,
        acme,
        bob,
        "source-admin",
        "specific",
        resources=[Source.objects.get(workspace=acme, slug="web-dev")],
    )
    pii = _grant(alice, acme, bob, "pii-access", "all")
    page = _client(alice).get(f"{BASE}/users/{bob.pk}/").content.decode()

    labelled = _row(page, via_group)
    assert "Source Admin" in labelled and "source-admin" not in labelled
    assert '<a href="/workspaces/acme/sources/web-prod/" class="reached">Web Prod</a>' in labelled
    assert '<a href="/workspaces/acme/sources/ios-prod/" class="reached">Ios Prod</a>' in labelled
    assert "web-dev" not in labelled and "2 sources" in labelled
    assert "All sources: 3 now" in _row(page, everything)
    assert "Source Read-only" in _row(page, everything)
    specific = _row(page, listed)
    assert '<a href="/workspaces/acme/sources/web-dev/" class="reached">Web Dev</a>' in specific
    assert "web-prod" not in specific
    workspace_role = _row(page, pii)
    assert "PII Access" in workspace_role
    assert 'The workspace <a href="/workspaces/acme/">Acme</a>' in workspace_role


def test_a_group_grant_on_a_member_page_links_the_group_and_cannot_be_revoked_there(
    acme: Workspace, alice: User, bob: User
) -> None:
    group = UserGroup.objects.create(workspace=acme, name="Prod admins")
    GroupMembership.objects.create(group=group, user=bob)
    from_group = _grant(alice, acme, group, "source-read-only", "all")
    own = _grant(alice, acme, bob, "source-admin", "all")
    owner = _client(alice)
    page = owner.get(f"{BASE}/users/{bob.pk}/").content.decode()

    group_row = _row(page, from_group)
    assert f'via group <a href="{BASE}/groups/{group.pk}/">Prod admins</a>' in group_row
    assert "<form" not in group_row and "Revoke" not in group_row
    own_row = _row(page, own)
    assert "own grant" in own_row
    assert 'data-confirm="Revoke Source Admin from bob?"' in own_row

    # On the group's page it is revoked, saying every member loses it.
    group_page = owner.get(f"{BASE}/groups/{group.pk}/").content.decode()
    assert (
        'data-confirm="Revoke Source Read-only from the group Prod admins? '
        'Every member of the group loses it."'
    ) in _row(group_page, from_group)


def test_label_grant_matching_nothing_and_roles_without_resources_say_so(
    acme: Workspace, alice: User, bob: User
) -> None:
    staging = Label.objects.create(workspace=acme, key="environment", value="staging")
    empty = _grant(alice, acme, bob, "source-admin", "labels", labels=[staging])
    warehouses = _grant(alice, acme, bob, "warehouse-destination-admin", "all")
    page = _client(alice).get(f"{BASE}/users/{bob.pk}/").content.decode()
    assert "No sources at the moment" in _row(page, empty)
    assert "Warehouse Destination Admin" in _row(page, warehouses)
    assert "Switchyard has none yet" in _row(page, warehouses)


def test_a_long_reach_lists_the_first_ones_and_counts_the_rest(
    acme: Workspace, alice: User, bob: User
) -> None:
    prod = Label.objects.get(workspace=acme, key="environment", value="prod")
    for n in range(grant_reach.SHOWN):
        do_create_source(
            principal=Principal(alice),
            workspace=acme,
            slug=f"more-{n:02}",
            display_name=f"More {n}",
            labels=["environment:prod"],
        )
    grant = _grant(alice, acme, bob, "source-admin", "labels", labels=[prod])
    reach = grant_reach.reach(grant)
    assert reach.count == grant_reach.SHOWN + 2 and reach.more == 2
    row = _row(_client(alice).get(f"{BASE}/users/{bob.pk}/").content.decode(), grant)
    assert row.count('class="reached"') == grant_reach.SHOWN and "and 2 more" in row


def test_home_page_shows_a_member_their_roles_by_name(
    acme: Workspace, alice: User, bob: User
) -> None:
    prod = Label.objects.get(workspace=acme, key="environment", value="prod")
    _grant(alice, acme, bob, "source-admin", "labels", labels=[prod])
    home = _client(bob).get("/workspaces/acme/").content.decode()
    access = home.split('id="your-access"')[1]
    assert "Workspace Member" in access and "Source Admin" in access
    assert "source-admin" not in access and "Web Prod" in access
    assert "Workspace Owner" in _client(alice).get("/workspaces/acme/").content.decode()


def test_changing_a_role_names_it(acme: Workspace, alice: User, bob: User) -> None:
    owner = _client(alice)
    owner.post(f"{BASE}/users/{bob.pk}/role", {"role": "owner"})
    assert "bob is now Workspace Owner." in owner.get(f"{BASE}/").content.decode()
