"""Concurrent updates of different fields all survive, and the permission check
is made on the locked row.

Each update service re-reads its row FOR UPDATE inside its transaction, so
writers take turns and each applies its change to what the previous one
committed; nested settings paths merge into the stored settings, not into the
copy the request read.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from switchyard.access import Principal
from switchyard.errors import PermissionDenied
from tests.concurrent_requests import (
    assert_audit_replays,
    call_behind_a_lock,
    masked,
    patch_together,
)
from workspace.models import Label, Membership, UserGroup, Workspace
from workspace.services.groups import do_create_group, do_update_group
from workspace.services.labels import do_update_label
from workspace.services.tokens import do_create_access_token
from workspace.services.workspaces import do_create_workspace, do_update_workspace

pytestmark = pytest.mark.django_db(transaction=True)

WORKSPACE = "/v1beta/workspaces/acme"
N = 16


@pytest.fixture
def acme(alice: User) -> Workspace:
    workspace = do_create_workspace(principal=Principal(alice), slug="acme", display_name="Acme")
    Workspace.objects.filter(pk=workspace.pk).update(settings={"keep": "me"})
    return Workspace.objects.get(pk=workspace.pk)


@pytest.fixture
def secret(alice: User) -> str:
    _token, secret = do_create_access_token(
        principal=Principal(alice), user=alice, description="concurrency"
    )
    return secret


def test_concurrent_patches_of_different_settings_keys_all_survive(
    acme: Workspace, secret: str
) -> None:
    # Half set top-level keys, half keys inside one nested object that none of
    # them finds there when it reads the workspace.
    requests = [
        (WORKSPACE, masked("workspace", {"settings": {f"k{i}": i}}, f"settings.k{i}"))
        for i in range(N // 2)
    ] + [
        (
            WORKSPACE,
            masked("workspace", {"settings": {"deep": {f"n{i}": i}}}, f"settings.deep.n{i}"),
        )
        for i in range(N // 2)
    ]
    requests.append((WORKSPACE, masked("workspace", {"display_name": "Acme Inc"}, "display_name")))
    responses = patch_together(secret, requests)
    assert [r.status_code for r in responses] == [200] * len(requests)
    acme.refresh_from_db()
    expected = {"keep": "me", "deep": {f"n{i}": i for i in range(N // 2)}}
    expected |= {f"k{i}": i for i in range(N // 2)}
    assert acme.settings == expected
    assert acme.display_name == "Acme Inc"
    replayed = assert_audit_replays(
        acme.resource_name,
        "workspace.updated",
        start={"display_name": "Acme", "settings": {"keep": "me"}},
        final={"display_name": "Acme Inc", "settings": expected},
    )
    assert replayed == len(requests)


def test_concurrent_label_descriptions_are_each_audited_from_the_one_before(
    acme: Workspace, secret: str
) -> None:
    url = f"{WORKSPACE}/labels/environment:prod"
    requests = [
        (url, masked("label", {"description": f"Live {i}"}, "description")) for i in range(N)
    ]
    responses = patch_together(secret, requests)
    assert [r.status_code for r in responses] == [200] * N
    label = Label.objects.get(workspace=acme, key="environment", value="prod")
    replayed = assert_audit_replays(
        f"workspaces/acme/labels/{label}",
        "label.updated",
        start={"description": "Production"},
        final={"description": label.description},
    )
    assert replayed == N


def test_concurrent_group_renames_and_descriptions_do_not_undo_each_other(
    alice: User, acme: Workspace, secret: str
) -> None:
    group = do_create_group(principal=Principal(alice), workspace=acme, name="Analysts")
    url = f"{WORKSPACE}/groups/{group.pk}"
    requests = [
        (url, masked("group", {"display_name": f"Analysts {i}"}, "display_name"))
        if i % 2
        else (url, masked("group", {"description": f"About {i}"}, "description"))
        for i in range(N)
    ]
    responses = patch_together(secret, requests)
    assert [r.status_code for r in responses] == [200] * N
    group.refresh_from_db()
    replayed = assert_audit_replays(
        f"workspaces/acme/groups/{group.pk}",
        "group.updated",
        start={"name": "Analysts", "description": ""},
        final={"name": group.name, "description": group.description},
    )
    assert replayed == N


def test_an_update_from_a_stale_object_keeps_what_changed_since(
    alice: User, acme: Workspace
) -> None:
    owner = Principal(alice)
    stale_workspace = Workspace.objects.get(pk=acme.pk)
    group = do_create_group(principal=owner, workspace=acme, name="Analysts")
    stale_group = UserGroup.objects.get(pk=group.pk)
    do_update_workspace(principal=owner, workspace=acme, changes={"display_name": "Acme Inc"})
    do_update_group(principal=owner, group=group, changes={"description": "Numbers"})

    do_update_workspace(principal=owner, workspace=stale_workspace, changes={"settings": {"a": 1}})
    do_update_group(principal=owner, group=stale_group, changes={"name": "Data team"})

    acme.refresh_from_db()
    group.refresh_from_db()
    assert (acme.display_name, acme.settings) == ("Acme Inc", {"a": 1})
    assert (group.name, group.description) == ("Data team", "Numbers")


def test_a_stale_object_does_not_carry_a_revoked_permission(bob: User, acme: Workspace) -> None:
    """The view found the workspace while bob was an owner; he is not any more."""
    Membership.objects.create(workspace=acme, user=bob, role=Membership.Role.OWNER)
    label = Label.objects.get(workspace=acme, key="environment", value="prod")
    seen_by_view = Workspace.objects.get(pk=acme.pk)
    Membership.objects.filter(workspace=acme, user=bob).update(role=Membership.Role.MEMBER)

    with pytest.raises(PermissionDenied):
        do_update_workspace(
            principal=Principal(bob), workspace=seen_by_view, changes={"display_name": "Mine"}
        )
    with pytest.raises(PermissionDenied):
        do_update_label(principal=Principal(bob), label=label, changes={"description": "x"})
    acme.refresh_from_db()
    assert acme.display_name == "Acme"


def test_permission_is_checked_after_the_row_lock_is_taken(bob: User, acme: Workspace) -> None:
    """bob is demoted by a transaction holding the workspace's row while his update
    waits for it: the update checks access once it has the row, and is refused."""
    Membership.objects.create(workspace=acme, user=bob, role=Membership.Role.OWNER)

    def lock_and_demote() -> None:
        Workspace.objects.select_for_update().get(pk=acme.pk)
        Membership.objects.filter(workspace=acme, user=bob).update(role=Membership.Role.MEMBER)

    outcome = call_behind_a_lock(
        lock_and_demote,
        lambda: do_update_workspace(
            principal=Principal(bob), workspace=acme, changes={"display_name": "Mine"}
        ),
    )
    assert isinstance(outcome, PermissionDenied)
    acme.refresh_from_db()
    assert acme.display_name == "Acme"
