"""Label-based access: AND within a selector, OR across grants, groups, revocation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from connections.models import Source
from connections.services.sources import do_create_source, do_update_source
from switchyard import access
from switchyard.access import Principal
from workspace.models import GroupMembership, Label, Membership, UserGroup, Workspace
from workspace.services.grants import do_create_grant, do_delete_grant
from workspace.services.labels import do_create_label

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    owner = Principal(alice)
    for key, value in [("product", "car"), ("product", "truck"), ("brand", "a"), ("brand", "b")]:
        do_create_label(principal=owner, workspace=workspace, key=key, value=value)
    for slug, labels in {
        "a": ["environment:prod", "product:car"],
        "b": ["environment:prod", "product:truck"],
        "c": ["environment:dev", "product:car"],
        "x": ["brand:a"],
        "y": ["brand:b"],
        "z": [],
    }.items():
        do_create_source(
            principal=owner,
            workspace=workspace,
            slug=slug,
            display_name=slug.upper(),
            labels=labels,
        )
    return workspace


def label(workspace: Workspace, text: str) -> Label:
    key, value = text.split(":")
    return Label.objects.get(workspace=workspace, key=key, value=value)


def member(workspace: Workspace, make_user: Callable[..., User], name: str) -> User:
    user = make_user(name)
    Membership.objects.create(workspace=workspace, user=user)
    return user


def visible(user: User, action: str = "view") -> list[str]:
    rows = access.restrict(Source.objects.all(), Principal(user), action)  # type: ignore[arg-type]
    return sorted(rows.values_list("slug", flat=True))


def grant_labels(
    owner: User, workspace: Workspace, grantee: object, role: str, *texts: str
) -> object:
    return do_create_grant(
        principal=Principal(owner),
        workspace=workspace,
        grantee=grantee,  # type: ignore[arg-type]
        role=role,
        scope="labels",
        labels=[label(workspace, t) for t in texts],
    )


def test_docs_example_and_within_a_selector(
    acme: Workspace, alice: User, make_user: Callable[..., User]
) -> None:
    sally, bob, jane = (member(acme, make_user, n) for n in ("sally", "bobby", "jane"))
    grant_labels(alice, acme, sally, "source-admin", "environment:prod")
    grant_labels(alice, acme, bob, "source-admin", "environment:prod", "product:truck")
    grant_labels(alice, acme, jane, "source-admin", "product:car")
    assert visible(sally) == ["a", "b"]
    assert visible(bob) == ["b"]
    assert visible(jane) == ["a", "c"]


def test_or_across_groups(acme: Workspace, alice: User, make_user: Callable[..., User]) -> None:
    user = member(acme, make_user, "pat")
    for brand in ("a", "b"):
        group = UserGroup.objects.create(workspace=acme, name=f"Brand {brand}")
        grant_labels(alice, acme, group, "source-admin", f"brand:{brand}")
        GroupMembership.objects.create(group=group, user=user)
    assert visible(user) == ["x", "y"]


def test_minimal_access_sees_nothing_and_owner_everything(
    acme: Workspace, alice: User, make_user: Callable[..., User]
) -> None:
    assert visible(member(acme, make_user, "newbie")) == []
    assert visible(alice) == ["a", "b", "c", "x", "y", "z"]


def test_read_only_role_views_but_cannot_change(
    acme: Workspace, alice: User, make_user: Callable[..., User]
) -> None:
    reader = member(acme, make_user, "reader")
    grant_labels(alice, acme, reader, "source-read-only", "environment:prod")
    assert visible(reader, "view") == ["a", "b"]
    assert visible(reader, "change") == []
    assert visible(reader, "delete") == []


def test_removing_a_label_from_a_source_revokes_at_once(
    acme: Workspace, alice: User, make_user: Callable[..., User]
) -> None:
    user = member(acme, make_user, "sam")
    grant_labels(alice, acme, user, "source-admin", "environment:prod")
    do_update_source(
        principal=Principal(alice),
        source=Source.objects.get(slug="a"),
        changes={"labels": ["product:car"]},
    )
    assert visible(user) == ["b"]


def test_leaving_a_group_or_losing_the_grant_revokes_at_once(
    acme: Workspace, alice: User, make_user: Callable[..., User]
) -> None:
    user = member(acme, make_user, "kim")
    group = UserGroup.objects.create(workspace=acme, name="Prod")
    grant = grant_labels(alice, acme, group, "source-admin", "environment:prod")
    GroupMembership.objects.create(group=group, user=user)
    assert visible(user) == ["a", "b"]
    GroupMembership.objects.filter(group=group, user=user).delete()
    assert visible(user) == []
    GroupMembership.objects.create(group=group, user=user)
    do_delete_grant(principal=Principal(alice), grant=grant)  # type: ignore[arg-type]
    assert visible(user) == []


def test_grants_end_when_the_member_leaves_the_workspace(
    acme: Workspace, alice: User, make_user: Callable[..., User]
) -> None:
    user = member(acme, make_user, "lee")
    do_create_grant(
        principal=Principal(alice), workspace=acme, grantee=user, role="source-admin", scope="all"
    )
    assert len(visible(user)) == 6
    Membership.objects.filter(workspace=acme, user=user).delete()
    assert visible(user) == []
