"""The audit trail: recorded by services, read by owners through the API and the UI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from switchyard.access import Principal
from tests.workspace.audit_support import stamp_in_insert_order
from workspace.models import AuditEntry, Membership, Workspace
from workspace.selectors import audit_entries_for
from workspace.services import audit
from workspace.services.workspaces import do_update_workspace

pytestmark = pytest.mark.django_db

RENAME = {
    "workspace": {"display_name": "New"},
    "update_mask": {"paths": ["workspace.display_name"]},
}


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


def events(client: APIClient, **params: object) -> dict:
    response = client.get("/v1beta/workspaces/acme/audit-events", params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    ("method", "path", "body", "action"),
    [
        (
            "post",
            "/v1beta/workspaces",
            {"workspace": {"name": "workspaces/new", "display_name": "N"}},
            "workspace.created",
        ),
        ("patch", "/v1beta/workspaces/acme", RENAME, "workspace.updated"),
        ("delete", "/v1beta/workspaces/acme", None, "workspace.deleted"),
    ],
)
def test_every_mutating_endpoint_writes_exactly_one_entry(
    acme: Workspace, api: APIClient, method: str, path: str, body: dict | None, action: str
) -> None:
    before = AuditEntry.objects.count()
    response = getattr(api, method)(path, body, format="json")
    assert response.status_code == 200, response.content
    assert AuditEntry.objects.count() == before + 1
    # The newest row by id: times come from a clock, ids from a sequence.
    assert AuditEntry.objects.latest("pk").action == action


def test_refused_writes_write_no_entry(acme: Workspace, api: APIClient) -> None:
    before = AuditEntry.objects.count()
    api.patch(
        "/v1beta/workspaces/acme", {"update_mask": {"paths": ["workspace.id"]}}, format="json"
    )
    api.post(
        "/v1beta/workspaces",
        {"workspace": {"name": "workspaces/acme", "display_name": "A"}},
        format="json",
    )
    assert AuditEntry.objects.count() == before


def test_secrets_are_redacted_at_any_depth(acme: Workspace, alice: User) -> None:
    entry = audit.record(
        Principal(alice),
        "destination.updated",
        workspace=acme,
        resource_name="workspaces/acme/destinations/x",
        before={"config": {"api_key": "k-1", "nested": [{"password": "p"}], "region": "eu"}},
        after={"write_key": "w", "Secret": "s", "accessToken": "t", "name": "kept"},
    )
    assert entry.before == {
        "config": {"api_key": "[redacted]", "nested": [{"password": "[redacted]"}], "region": "eu"}
    }
    assert entry.after == {
        "write_key": "[redacted]",
        "Secret": "[redacted]",
        "accessToken": "[redacted]",
        "name": "kept",
    }


def test_owner_lists_events_newest_first_with_changed_fields(
    acme: Workspace, api: APIClient
) -> None:
    api.patch("/v1beta/workspaces/acme", RENAME, format="json")
    stamp_in_insert_order()
    body = events(api, resource_type="workspace")
    assert [e["action"] for e in body["audit_events"]] == [
        "workspace.updated",
        "workspace.created",
    ]
    updated = body["audit_events"][0]
    assert updated["name"] == f"workspaces/acme/audit-events/{updated['id']}"
    assert updated["resource_type"] == "workspace"
    assert updated["resource_name"] == "workspaces/acme"
    assert updated["before"] == {"display_name": "Acme"}
    assert updated["after"] == {"display_name": "New"}
    assert updated["actor"]["type"] == "token"
    assert updated["actor"]["user"] == "alice"
    assert updated["time"].endswith("Z")
    single = api.get(f"/v1beta/workspaces/acme/audit-events/{updated['id']}")
    assert single.status_code == 200 and single.json() == updated


def test_filters_by_action_actor_resource_type_and_time(
    acme: Workspace, alice: User, bob: User, api: APIClient
) -> None:
    Membership.objects.create(workspace=acme, user=bob, role=Membership.Role.OWNER)
    do_update_workspace(
        principal=Principal(bob), workspace=acme, changes={"display_name": "By Bob"}
    )
    old = audit.record(
        Principal(alice),
        "source.created",
        workspace=acme,
        resource_name="workspaces/acme/sources/js",
    )
    AuditEntry.objects.filter(pk=old.pk).update(time=timezone.now() - timedelta(days=10))

    def actions(**params: object) -> list[str]:
        return [e["action"] for e in events(api, **params)["audit_events"]]

    assert actions(action="workspace.updated") == ["workspace.updated"]
    assert actions(actor="bob") == ["workspace.updated"]
    assert actions(resource_type="source") == ["source.created"]
    cutoff = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert "source.created" not in actions(start_time=cutoff)
    assert actions(end_time=cutoff) == ["source.created"]


def test_token_actor_filter_uses_the_token_prefix(acme: Workspace, api: APIClient) -> None:
    api.patch("/v1beta/workspaces/acme", RENAME, format="json")
    prefix = AuditEntry.objects.get(action="workspace.updated").actor_token.prefix
    assert [e["action"] for e in events(api, actor=prefix)["audit_events"]] == ["workspace.updated"]


def test_bad_filter_value_is_invalid_argument(acme: Workspace, api: APIClient) -> None:
    response = api.get("/v1beta/workspaces/acme/audit-events", {"start_time": "yesterday-ish"})
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert "start_time" in response.json()["error"]


def test_pages_newest_first_without_repeats(acme: Workspace, alice: User, api: APIClient) -> None:
    for i in range(25):
        audit.record(Principal(alice), "source.updated", workspace=acme, resource_name=f"s/{i}")
    # All 25 at one time, after the workspace's creation: pages must stay apart by the
    # page token's tie-break on id, not by how fast the clock ticked between inserts.
    created = AuditEntry.objects.get(workspace=acme, action="workspace.created")
    one_time = created.time + timedelta(minutes=1)
    AuditEntry.objects.filter(workspace=acme, action="source.updated").update(time=one_time)
    seen, token = [], ""
    while True:
        body = events(api, page_size=7, **({"page_token": token} if token else {}))
        seen += [e["id"] for e in body["audit_events"]]
        token = body["next_page_token"]
        if not token:
            break
    ids = [int(i) for i in seen]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(set(ids)) == audit_entries_for(acme).count()


def test_sign_ins_of_members_appear_in_their_workspaces(acme: Workspace, api: APIClient) -> None:
    client = Client()
    assert (
        client.post("/login", {"username": "alice", "password": "correct-horse-42"}).status_code
        == 302
    )
    sign_in = events(api, action="user.signed_in")["audit_events"]
    assert len(sign_in) == 1
    assert sign_in[0]["resource_name"] == "users/alice"
    assert sign_in[0]["actor"] == {"type": "user", "user": "alice", "token": None}


def test_sign_ins_of_non_members_do_not_appear(
    acme: Workspace, api: APIClient, make_user: Callable[..., User]
) -> None:
    make_user("stranger")
    Client().post("/login", {"username": "stranger", "password": "correct-horse-42"})
    assert events(api, action="user.signed_in")["audit_events"] == []


def test_members_are_refused_and_outsiders_see_nothing(
    acme: Workspace,
    bob: User,
    make_user: Callable[..., User],
    token_client: Callable[..., APIClient],
) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    member = token_client(bob).get("/v1beta/workspaces/acme/audit-events")
    assert member.status_code == 403 and member.json()["code"] == 7
    outsider = token_client(make_user()).get("/v1beta/workspaces/acme/audit-events")
    assert outsider.status_code == 404 and outsider.json()["code"] == 5


def test_another_workspaces_events_are_not_listed_or_gettable(
    acme: Workspace,
    alice: User,
    bob: User,
    make_workspace: Callable[..., Workspace],
    api: APIClient,
) -> None:
    make_workspace(bob, "other")
    foreign = AuditEntry.objects.get(workspace__slug="other")
    assert all(e["resource_name"] != "workspaces/other" for e in events(api)["audit_events"])
    response = api.get(f"/v1beta/workspaces/acme/audit-events/{foreign.pk}")
    assert response.status_code == 404


def test_audit_events_are_read_only(acme: Workspace, api: APIClient) -> None:
    entry = AuditEntry.objects.filter(workspace=acme).first()
    assert entry is not None
    response = api.delete(f"/v1beta/workspaces/acme/audit-events/{entry.pk}")
    assert response.status_code == 405
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_prune_deletes_only_entries_older_than_90_days(acme: Workspace, alice: User) -> None:
    keep = audit.record(Principal(alice), "source.updated", workspace=acme, resource_name="s/keep")
    drop = audit.record(Principal(alice), "source.updated", workspace=acme, resource_name="s/drop")
    edge = audit.record(Principal(alice), "source.updated", workspace=acme, resource_name="s/edge")
    now = timezone.now()
    AuditEntry.objects.filter(pk=drop.pk).update(time=now - timedelta(days=91))
    AuditEntry.objects.filter(pk=edge.pk).update(time=now - timedelta(days=89))
    assert audit.do_prune_audit_entries(now=now) == 1
    remaining = set(AuditEntry.objects.values_list("pk", flat=True))
    assert keep.pk in remaining and edge.pk in remaining and drop.pk not in remaining


def test_pruning_is_scheduled_daily_in_celery_beat() -> None:
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="workspace.prune_audit_entries")
    assert task.enabled
    assert task.crontab is not None and task.crontab.hour == "3"
