"""Spaces through their services: create, update, deletion with its grace period,
connected sources under a connection policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engage import tasks
from engage.models import IdentifierSetting, Space, SpaceSource, SpaceToken
from engage.services import spaces
from engage.services.space_sources import do_connect_source, do_disconnect_source
from engage.services.spaces import (
    do_cancel_space_deletion,
    do_request_space_deletion,
    do_update_space,
)
from engage.services.tokens import do_create_space_token
from switchyard.access import Principal
from switchyard.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from tests.engage.spaces_support import Acme, make_acme
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme() -> Acme:
    return make_acme()


def actions(acme: Acme) -> list[str]:
    return list(
        AuditEntry.objects.filter(workspace=acme.workspace, action__startswith="space")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_a_workspace_starts_without_spaces(acme: Acme) -> None:
    assert not Space.objects.filter(workspace=acme.workspace).exists()


def test_create_stores_the_space_with_labels_default_settings_and_an_audit(acme: Acme) -> None:
    space = acme.space("dev", labels=["environment:dev"], required_labels=["environment:dev"])
    assert space.key_id.startswith("spa_")
    assert space.resource_name == "workspaces/acme/spaces/dev"
    assert space.label_names == ["environment:dev"]
    assert space.required_labels == ["environment:dev"]
    assert IdentifierSetting.objects.filter(space=space).exists()
    entry = AuditEntry.objects.get(action="space.created")
    assert entry.resource_name == "workspaces/acme/spaces/dev"
    assert (entry.after or {})["labels"] == ["environment:dev"]


@pytest.mark.parametrize("slug", ["Dev", "dev space", "-dev", ""])
def test_create_refuses_an_invalid_slug(acme: Acme, slug: str) -> None:
    with pytest.raises(InvalidArgument):
        acme.space(slug)
    assert not Space.objects.exists()


def test_create_refuses_a_taken_slug_and_unknown_labels(acme: Acme) -> None:
    acme.space("dev")
    with pytest.raises(AlreadyExists):
        acme.space("dev")
    with pytest.raises(InvalidArgument, match="unknown label"):
        acme.space("prod", labels=["environment:staging"])
    with pytest.raises(InvalidArgument, match="one value per label key"):
        acme.space("prod", labels=["environment:dev", "environment:prod"])
    assert list(Space.objects.values_list("slug", flat=True)) == ["dev"]


def test_members_without_an_admin_grant_on_all_spaces_cannot_create(acme: Acme) -> None:
    reader = acme.member("unify-and-engage-read-only")
    with pytest.raises(PermissionDenied, match="creating spaces"):
        spaces.do_create_space(
            principal=Principal(reader), workspace=acme.workspace, slug="dev", display_name="D"
        )
    admin = acme.member("unify-and-engage-admin")
    created = spaces.do_create_space(
        principal=Principal(admin), workspace=acme.workspace, slug="dev", display_name="D"
    )
    assert created.slug == "dev"


def test_update_renames_relabels_and_sets_the_policy_audited_once(acme: Acme) -> None:
    space = acme.space("dev")
    updated = do_update_space(
        principal=acme.principal,
        space=space,
        changes={
            "display_name": "Development",
            "labels": ["environment:dev"],
            "required_labels": ["environment:dev"],
        },
    )
    fresh = Space.objects.get(pk=space.pk)
    assert (fresh.display_name, fresh.label_names, fresh.required_labels) == (
        "Development",
        ["environment:dev"],
        ["environment:dev"],
    )
    assert updated.slug == "dev"
    entry = AuditEntry.objects.get(action="space.updated")
    assert set(entry.after or {}) == {"display_name", "labels", "required_labels"}


def test_update_with_nothing_new_writes_no_audit(acme: Acme) -> None:
    space = acme.space("dev")
    do_update_space(principal=acme.principal, space=space, changes={"display_name": "Dev"})
    assert "space.updated" not in actions(acme)


def test_the_slug_cannot_change(acme: Acme) -> None:
    space = acme.space("dev")
    with pytest.raises(InvalidArgument, match="slug cannot be changed"):
        do_update_space(principal=acme.principal, space=space, changes={"slug": "prod"})
    assert Space.objects.get(pk=space.pk).slug == "dev"


def test_deletion_is_requested_with_a_five_day_grace_and_can_be_cancelled(acme: Acme) -> None:
    space = acme.space("dev")
    before = timezone.now()
    requested = do_request_space_deletion(principal=acme.principal, space=space)
    assert requested.delete_time is not None
    assert before + timedelta(days=5) <= requested.delete_time <= timezone.now() + timedelta(days=5)
    with pytest.raises(FailedPrecondition, match="already requested"):
        do_request_space_deletion(principal=acme.principal, space=space)
    do_cancel_space_deletion(principal=acme.principal, space=space)
    assert Space.objects.get(pk=space.pk).delete_time is None
    with pytest.raises(FailedPrecondition, match="not requested"):
        do_cancel_space_deletion(principal=acme.principal, space=space)
    assert actions(acme)[-2:] == ["space.deletion_requested", "space.deletion_cancelled"]


def test_only_owners_request_or_cancel_deletion(acme: Acme) -> None:
    space = acme.space("dev")
    admin = Principal(acme.member("unify-and-engage-admin"))
    with pytest.raises(PermissionDenied):
        do_request_space_deletion(principal=admin, space=space)
    do_request_space_deletion(principal=acme.principal, space=space)
    with pytest.raises(PermissionDenied):
        do_cancel_space_deletion(principal=admin, space=space)
    stranger = Principal(make_acme("globex").owner)
    with pytest.raises(NotFound):
        do_cancel_space_deletion(principal=stranger, space=space)
    assert Space.objects.get(pk=space.pk).delete_time is not None


def test_the_sweep_task_deletes_only_spaces_past_their_grace_with_all_their_data(
    acme: Acme,
) -> None:
    doomed, kept, cancelled = acme.space("dev"), acme.space("prod"), acme.space("test")
    web = acme.source("web")
    do_connect_source(principal=acme.principal, space=doomed, source=web)
    do_create_space_token(principal=acme.principal, space=doomed)
    long_ago = timezone.now() - timedelta(days=6)
    do_request_space_deletion(principal=acme.principal, space=doomed, now=long_ago)
    do_request_space_deletion(principal=acme.principal, space=kept)  # grace not over
    do_request_space_deletion(principal=acme.principal, space=cancelled, now=long_ago)
    do_cancel_space_deletion(principal=acme.principal, space=cancelled)

    assert spaces.due_for_deletion() == [doomed.pk]
    assert tasks.delete_space(doomed.pk) is True
    assert tasks.delete_space(kept.pk) is False  # a stale message: its grace is not over
    assert set(Space.objects.values_list("slug", flat=True)) == {"prod", "test"}
    assert not SpaceSource.objects.filter(space_id=doomed.pk).exists()
    assert not SpaceToken.objects.filter(space_id=doomed.pk).exists()
    assert not IdentifierSetting.objects.filter(space_id=doomed.pk).exists()
    entry = AuditEntry.objects.get(action="space.deleted")
    assert entry.resource_name == "workspaces/acme/spaces/dev"
    assert entry.actor_user is None


def test_a_source_connects_once_and_disconnects_audited(acme: Acme) -> None:
    space, web = acme.space("dev"), acme.source("web")
    row = do_connect_source(principal=acme.principal, space=space, source=web)
    with pytest.raises(AlreadyExists):
        do_connect_source(principal=acme.principal, space=space, source=web)
    do_disconnect_source(principal=acme.principal, connection=row)
    assert not SpaceSource.objects.exists()
    assert actions(acme)[-2:] == ["space_source.connected", "space_source.disconnected"]
    names = AuditEntry.objects.filter(action__startswith="space_source").values_list(
        "resource_name", flat=True
    )
    assert set(names) == {"workspaces/acme/spaces/dev/sources/web"}


def test_the_connection_policy_admits_only_sources_with_its_labels(acme: Acme) -> None:
    space = acme.space("prod", required_labels=["environment:prod"])
    dev_source = acme.source("web-dev", labels=["environment:dev"])
    prod_source = acme.source("web-prod", labels=["environment:prod"])
    with pytest.raises(FailedPrecondition, match="connection policy requires"):
        do_connect_source(principal=acme.principal, space=space, source=dev_source)
    do_connect_source(principal=acme.principal, space=space, source=prod_source)
    assert list(SpaceSource.objects.values_list("source__slug", flat=True)) == ["web-prod"]


def test_a_source_of_another_workspace_cannot_connect(acme: Acme) -> None:
    globex = make_acme("globex")
    theirs = globex.source("web")
    space = acme.space("dev")
    with pytest.raises((InvalidArgument, NotFound)):
        do_connect_source(principal=acme.principal, space=space, source=theirs)
    assert not SpaceSource.objects.exists()
