"""Standard privacy controls: /v1beta/workspaces/{w}/sources/{s}/privacy-controls
(Get, Update with a mask; owners only; audited) and Privacy > Controls."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from connections.dataplane import counters
from connections.models import Source
from connections.services.sources import do_create_source
from privacy.models import SourceControls
from switchyard.access import Principal
from tests.resource_contract import client_for
from workspace.models import AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db

URL = "/v1beta/workspaces/acme/sources/web/privacy-controls"
PAGE = "/workspaces/acme/privacy/controls/"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def web(acme: Workspace, alice: User) -> Source:
    return do_create_source(
        principal=Principal(alice), workspace=acme, slug="web", display_name="Website"
    )


@pytest.fixture
def api(web: Source, alice: User) -> APIClient:
    return client_for(alice)[0]


def patch(client: APIClient, body: dict[str, Any], url: str = URL) -> Any:
    return client.patch(url, body, format="json")


def state(source: Source) -> tuple[tuple[bool, bool] | None, int]:
    row = SourceControls.objects.filter(source=source).first()
    flags = (row.block_red, row.block_yellow) if row else None
    return flags, AuditEntry.objects.filter(action="privacy_controls.updated").count()


def test_get_answers_all_off_before_any_update(api: APIClient, web: Source) -> None:
    body = api.get(URL).json()
    assert body["name"] == "workspaces/acme/sources/web/privacy-controls"
    assert body["source_name"] == "workspaces/acme/sources/web"
    assert body["block_red"] is False and body["block_yellow"] is False
    assert not SourceControls.objects.exists()  # a read writes nothing


def test_update_changes_only_masked_paths_and_audits(api: APIClient, web: Source) -> None:
    response = patch(
        api,
        {
            "privacy_controls": {"block_red": True, "block_yellow": True},
            "update_mask": {"paths": ["privacy_controls.block_red"]},
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["block_red"] is True and response.json()["block_yellow"] is False
    assert state(web) == ((True, False), 1)
    entry = AuditEntry.objects.get(action="privacy_controls.updated")
    assert entry.before == {"block_red": False} and entry.after == {"block_red": True}
    assert entry.resource_name == "workspaces/acme/sources/web/privacy-controls"

    # A masked path without a value clears it (false); data without a path changes nothing.
    response = patch(
        api, {"privacy_controls": {}, "update_mask": {"paths": ["privacy_controls.block_red"]}}
    )
    assert response.json()["block_red"] is False
    response = patch(api, {"privacy_controls": {"block_yellow": True}})
    assert response.json()["block_yellow"] is False
    assert state(web) == ((False, False), 2)
    assert api.get(URL).json()["block_red"] is False


def test_an_unchanged_update_records_nothing(api: APIClient, web: Source) -> None:
    body = {
        "privacy_controls": {"block_red": True},
        "update_mask": {"paths": ["privacy_controls.block_red"]},
    }
    patch(api, body)
    patch(api, body)
    assert state(web) == ((True, False), 1)


@pytest.mark.parametrize(
    "body",
    [
        {
            "privacy_controls": {"block_red": True},
            "update_mask": {"paths": ["privacy_controls.block_green"]},
        },
        {
            "privacy_controls": {"block_red": "yes"},
            "update_mask": {"paths": ["privacy_controls.block_red"]},
        },
        {"privacy_controls": {"name": "x"}, "update_mask": {"paths": ["privacy_controls.name"]}},
    ],
)
def test_bad_updates_are_400_and_change_nothing(
    api: APIClient, web: Source, body: dict[str, Any]
) -> None:
    response = patch(api, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == 3
    assert state(web) == (None, 0)


def test_unknown_source_or_workspace_is_404(api: APIClient, web: Source) -> None:
    assert api.get("/v1beta/workspaces/acme/sources/nope/privacy-controls").status_code == 404
    assert api.get("/v1beta/workspaces/nope/sources/web/privacy-controls").status_code == 404


def test_members_get_403_and_change_nothing(web: Source, acme: Workspace, bob: User) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    client = client_for(bob)[0]
    body = {
        "privacy_controls": {"block_red": True},
        "update_mask": {"paths": ["privacy_controls.block_red"]},
    }
    for response in (client.get(URL), patch(client, body)):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == 7
    assert state(web) == (None, 0)


def test_strangers_get_404(web: Source, make_user: Callable[..., User]) -> None:
    client = client_for(make_user())[0]
    assert client.get(URL).status_code == 404


def test_a_read_only_token_may_read_not_update(web: Source, alice: User) -> None:
    client = client_for(alice, read_only=True)[0]
    assert client.get(URL).status_code == 200
    body = {
        "privacy_controls": {"block_red": True},
        "update_mask": {"paths": ["privacy_controls.block_red"]},
    }
    assert patch(client, body).status_code == 403
    assert state(web) == (None, 0)


def test_openapi_documents_the_resource(api: APIClient) -> None:
    schema = api.get("/v1beta/openapi.json").json()
    path = schema["paths"]["/v1beta/workspaces/{workspace}/sources/{source}/privacy-controls"]
    assert set(path) >= {"get", "patch"}


# --- the page ---------------------------------------------------------------------------


@pytest.fixture
def owner(web: Source, alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def count(source: Source, outcome: str, reason: str, n: int, *, at: dt.datetime) -> None:
    key = counters.Key(source.workspace_id, source.pk, "ingest", outcome, reason)
    counters.add(Counter({key: n}), at=at)


def test_the_page_lists_sources_with_toggles_and_24h_counts(
    owner: Client, web: Source, acme: Workspace, alice: User
) -> None:
    app = do_create_source(
        principal=Principal(alice), workspace=acme, slug="app", display_name="App"
    )
    SourceControls.objects.create(source=web, block_red=True)
    now = timezone.now()
    count(web, "blocked", "red_field", 7, at=now)
    count(web, "blocked", "yellow_field", 3, at=now)
    count(web, "dropped", "user_suppressed", 5, at=now)
    count(web, "blocked", "red_field", 1000, at=now - dt.timedelta(hours=30))  # too old
    count(web, "dropped", "source_disabled", 99, at=now)  # not the gate's
    html = owner.get(PAGE).content.decode()
    assert 'href="/workspaces/acme/privacy/controls/"' in html  # the sidebar entry
    row = html[html.index('id="controls-web"') :]
    row = row[: row.index("</tr>")]
    assert 'id="block-red-web" checked' in row and 'id="block-yellow-web">' in row
    assert '<td class="text-end" data-count="red">7</td>' in row
    assert '<td class="text-end" data-count="yellow">3</td>' in row
    assert '<td class="text-end" data-count="suppressed">5</td>' in row
    other = html[html.index(f'id="controls-{app.slug}"') :]
    other = other[: other.index("</tr>")]
    assert "checked" not in other and '<td class="text-end" data-count="red">0</td>' in other


def test_saving_a_row_swaps_it_and_audits(owner: Client, web: Source) -> None:
    url = f"{PAGE}web/"
    response = owner.post(url, {"block_yellow": "on"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<tr id="controls-web">')
    assert "Saved the controls of Website." in html
    assert state(web) == ((False, True), 1)
    # Without JavaScript: redirect back to the page.
    response = owner.post(url, {"block_red": "on", "block_yellow": "on"})
    assert response.status_code == 302 and response["Location"] == PAGE
    assert state(web) == ((True, True), 2)


def test_members_get_403_and_no_sidebar_entry(web: Source, acme: Workspace, bob: User) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    client = Client()
    client.force_login(bob)
    assert "privacy/controls" not in client.get("/workspaces/acme/").content.decode()
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}web/", {"block_red": "on"}).status_code == 403
    assert state(web) == (None, 0)


def test_an_unknown_source_is_404(owner: Client) -> None:
    assert owner.post(f"{PAGE}nope/", {"block_red": "on"}).status_code == 404
