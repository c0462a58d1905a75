"""The spaces Config API beyond the shared contract: the immutable slug, the
deletion custom methods, the connection policy, show-once tokens, and space roles
scoped by label."""

from __future__ import annotations

import pytest

from engage.models import Space, SpaceSource, SpaceToken
from engage.services.tokens import space_for_token
from tests.engage.spaces_support import Acme, make_acme
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db

BASE = "/v1beta/workspaces/acme/spaces"


@pytest.fixture
def acme() -> Acme:
    return make_acme()


def test_create_answers_the_space_and_get_lists_it(acme: Acme) -> None:
    api = acme.client()
    body = {
        "space": {
            "name": "workspaces/acme/spaces/dev",
            "display_name": "Dev",
            "labels": ["environment:dev"],
            "required_labels": ["environment:dev"],
        }
    }
    created = api.post(BASE, body, format="json").json()
    assert created["name"] == "workspaces/acme/spaces/dev"
    assert created["id"].startswith("spa_")
    assert created["slug"] == "dev"
    assert created["required_labels"] == ["environment:dev"]
    assert created["delete_time"] is None
    listed = api.get(BASE).json()
    assert [s["slug"] for s in listed["spaces"]] == ["dev"]


def test_a_space_named_in_another_workspace_is_refused(acme: Acme) -> None:
    body = {"space": {"name": "workspaces/globex/spaces/dev", "display_name": "Dev"}}
    response = acme.client().post(BASE, body, format="json")
    assert response.status_code == 400
    assert not Space.objects.exists()


@pytest.mark.parametrize("path", ["space.name", "space.slug"])
def test_the_slug_cannot_be_updated(acme: Acme, path: str) -> None:
    acme.space("dev")
    body = {"space": {path.split(".")[1]: "prod"}, "update_mask": {"paths": [path]}}
    response = acme.client().patch(f"{BASE}/dev", body, format="json")
    assert response.status_code == 400
    assert "slug cannot be changed" in response.json()["error"]
    assert Space.objects.get().slug == "dev"


def test_delete_requests_deletion_and_cancel_deletion_undoes_it(acme: Acme) -> None:
    acme.space("dev")
    api = acme.client()
    requested = api.delete(f"{BASE}/dev")
    assert requested.status_code == 200
    assert requested.json()["delete_time"] is not None
    assert Space.objects.get().delete_time is not None
    assert api.delete(f"{BASE}/dev").json()["code"] == 9  # already requested
    cancelled = api.post(f"{BASE}/dev:cancelDeletion")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["delete_time"] is None
    assert Space.objects.get().delete_time is None


def test_cancel_deletion_is_for_owners(acme: Acme) -> None:
    acme.space("dev")
    acme.client().delete(f"{BASE}/dev")
    admin = acme.client(acme.member("unify-and-engage-admin"))
    response = admin.post(f"{BASE}/dev:cancelDeletion")
    assert response.status_code == 403
    assert Space.objects.get().delete_time is not None


def test_connecting_a_source_follows_the_policy(acme: Acme) -> None:
    acme.space("prod", required_labels=["environment:prod"])
    acme.source("web-dev", labels=["environment:dev"])
    acme.source("web-prod", labels=["environment:prod"])
    api = acme.client()
    url = f"{BASE}/prod/sources"
    refused = api.post(
        url, {"source": {"source": "workspaces/acme/sources/web-dev"}}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == 9
    assert "connection policy" in refused.json()["error"]
    ok = api.post(url, {"source": {"source": "workspaces/acme/sources/web-prod"}}, format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["name"] == "workspaces/acme/spaces/prod/sources/web-prod"
    assert ok.json()["labels"] == ["environment:prod"]
    missing = api.post(url, {"source": {"source": "workspaces/acme/sources/nope"}}, format="json")
    assert missing.status_code == 404
    assert list(SpaceSource.objects.values_list("source__slug", flat=True)) == ["web-prod"]


def test_a_token_secret_is_answered_once_and_revoking_stops_it_at_once(acme: Acme) -> None:
    acme.space("dev")
    api = acme.client()
    url = f"{BASE}/dev/access-tokens"
    created = api.post(url, {"access_token": {"description": "site"}}, format="json").json()
    secret = created["secret"]
    assert secret.startswith(created["prefix"])
    token = SpaceToken.objects.get()
    assert token.digest != secret and secret not in str(AuditEntry.objects.values_list())
    assert space_for_token(secret) == Space.objects.get()
    assert "secret" not in api.get(f"{url}/{token.pk}").json()
    assert all("secret" not in row for row in api.get(url).json()["access_tokens"])
    assert api.delete(f"{url}/{token.pk}").status_code == 200
    assert space_for_token(secret) is None
    listed = api.get(url).json()["access_tokens"]
    assert [row["revoked"] for row in listed] == [True]


def test_space_for_token_refuses_what_is_not_a_live_token(acme: Acme) -> None:
    acme.space("dev")
    assert space_for_token("") is None
    assert space_for_token("spt_" + "0" * 40) is None
    assert space_for_token("not-a-token") is None


def test_last_used_is_recorded_without_a_write_per_request(acme: Acme) -> None:
    acme.space("dev")
    created = (
        acme.client().post(f"{BASE}/dev/access-tokens", {"access_token": {}}, format="json").json()
    )
    assert SpaceToken.objects.get().last_used is None
    space_for_token(created["secret"])
    first = SpaceToken.objects.get().last_used
    assert first is not None
    space_for_token(created["secret"])
    assert SpaceToken.objects.get().last_used == first


def test_a_label_scoped_reader_sees_only_its_spaces_and_writes_nothing(acme: Acme) -> None:
    acme.space("prod", labels=["environment:prod"])
    acme.space("dev", labels=["environment:dev"])
    reader = acme.member(
        "unify-and-engage-read-only", scope="labels", labels=[acme.label("environment:prod")]
    )
    api = acme.client(reader)
    assert [s["slug"] for s in api.get(BASE).json()["spaces"]] == ["prod"]
    assert api.get(f"{BASE}/dev").status_code == 404
    assert api.get(f"{BASE}/dev/access-tokens").status_code == 404
    patch = {"space": {"display_name": "Mine"}, "update_mask": {"paths": ["space.display_name"]}}
    assert api.patch(f"{BASE}/prod", patch, format="json").status_code == 403
    assert (
        api.post(f"{BASE}/prod/access-tokens", {"access_token": {}}, format="json").status_code
        == 403
    )
    assert api.delete(f"{BASE}/prod").status_code == 403
    assert Space.objects.get(slug="prod").display_name == "Prod"


def test_a_label_scoped_admin_edits_its_spaces_only(acme: Acme) -> None:
    acme.space("prod", labels=["environment:prod"])
    acme.space("dev", labels=["environment:dev"])
    admin = acme.member(
        "unify-and-engage-admin", scope="labels", labels=[acme.label("environment:prod")]
    )
    api = acme.client(admin)
    patch = {"space": {"display_name": "Mine"}, "update_mask": {"paths": ["space.display_name"]}}
    assert api.patch(f"{BASE}/prod", patch, format="json").status_code == 200
    assert api.patch(f"{BASE}/dev", patch, format="json").status_code == 404
    # Relabelling a space out of the grant's selector takes it out of reach at once.
    relabel = {"space": {"labels": []}, "update_mask": {"paths": ["space.labels"]}}
    assert api.patch(f"{BASE}/prod", relabel, format="json").status_code == 200
    assert api.get(f"{BASE}/prod").status_code == 404
    assert Space.objects.get(slug="prod").display_name == "Mine"
