"""Settings > Audit Trail in the browser UI: owners only, filters, load more, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from switchyard.access import Principal
from tests.workspace.audit_support import stamp_in_insert_order
from workspace.models import Membership, Workspace
from workspace.services import audit

pytestmark = pytest.mark.django_db

URL = "/workspaces/acme/settings/audit-trail/"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def owner(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_owner_sees_entries_and_the_nav_link(acme: Workspace, owner: Client) -> None:
    page = owner.get(URL)
    assert page.status_code == 200
    assert b"workspace.created" in page.content
    assert (
        b'href="/workspaces/acme/settings/audit-trail/"' in owner.get("/workspaces/acme/").content
    )


def test_member_gets_403_and_no_nav_link(acme: Workspace, bob: User) -> None:
    Membership.objects.create(workspace=acme, user=bob)
    client = Client()
    client.force_login(bob)
    assert client.get(URL).status_code == 403
    assert client.get("/workspaces/acme/settings/audit-trail.csv").status_code == 403
    assert b"audit-trail" not in client.get("/workspaces/acme/").content


def test_filter_form_narrows_the_rows(acme: Workspace, alice: User, owner: Client) -> None:
    audit.record(
        Principal(alice),
        "source.created",
        workspace=acme,
        resource_name="workspaces/acme/sources/js",
    )
    page = owner.get(URL, {"resource_type": "source"}).content
    rows = page.split(b'<tbody id="audit-rows">')[1].split(b"</tbody>")[0]
    assert b"workspaces/acme/sources/js" in rows
    assert b"workspace.created" not in rows


def test_invalid_filter_shows_the_error(acme: Workspace, owner: Client) -> None:
    page = owner.get(URL, {"start_time": "not a time"})
    assert page.status_code == 200
    assert b"is-invalid" in page.content


def test_load_more_returns_the_next_rows_for_htmx(
    acme: Workspace, alice: User, owner: Client
) -> None:
    for i in range(60):
        audit.record(
            Principal(alice), "source.updated", workspace=acme, resource_name=f"src-{i:02d}"
        )
    stamp_in_insert_order()
    first = owner.get(URL).content.decode()
    assert "src-59" in first and "src-10" in first and "src-09" not in first
    assert 'id="load-more"' in first
    next_query = first.split('hx-get="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    more = owner.get(f"{URL}?{next_query}", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in more
    assert "src-09" in more and "src-00" in more and "src-10" not in more
    assert "workspace.created" in more
    assert 'id="load-more"' not in more


def test_csv_export_has_every_filtered_entry_with_redacted_secrets(
    acme: Workspace, alice: User, owner: Client
) -> None:
    for i in range(3):
        audit.record(
            Principal(alice),
            "destination.updated",
            workspace=acme,
            resource_name=f"workspaces/acme/destinations/d{i}",
            after={"api_key": "sekrit", "enabled": True},
        )
    stamp_in_insert_order()
    response = owner.get(
        "/workspaces/acme/settings/audit-trail.csv", {"action": "destination.updated"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert 'filename="acme-audit-trail.csv"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["resource_name"] for r in rows] == [
        "workspaces/acme/destinations/d2",
        "workspaces/acme/destinations/d1",
        "workspaces/acme/destinations/d0",
    ]
    assert rows[0]["actor"] == "alice"
    assert rows[0]["after"] == '{"api_key": "[redacted]", "enabled": true}'
    assert "sekrit" not in body


def test_changes_are_shown_as_json_not_python_reprs(
    acme: Workspace, alice: User, owner: Client
) -> None:
    audit.record(
        Principal(alice),
        "source.updated",
        workspace=acme,
        resource_name="workspaces/acme/sources/js",
        before={"enabled": True, "description": None},
        after={"enabled": False, "description": "It's new"},
    )
    page = owner.get(URL).content.decode()
    assert "&quot;enabled&quot;: true" in page and "&quot;description&quot;: null" in page
    assert "&quot;enabled&quot;: false" in page
    assert "True" not in page and "None" not in page and "{&#x27;" not in page


def test_filters_have_labels_and_pick_lists_of_what_the_trail_holds(
    acme: Workspace, alice: User, owner: Client
) -> None:
    audit.record(
        Principal(alice),
        "source.created",
        workspace=acme,
        resource_name="workspaces/acme/sources/js",
    )
    page = owner.get(URL).content.decode()
    assert "[invalid name]" not in page
    for label in ("Action", "Resource type", "Actor", "From", "Before"):
        assert f">{label}</label>" in page
    assert 'list="id_action-choices"' in page
    choices = page.split('<datalist id="id_action-choices">')[1].split("</datalist>")[0]
    assert '<option value="source.created">' in choices
    assert '<option value="workspace.created">' in choices
    actors = page.split('<datalist id="id_actor-choices">')[1].split("</datalist>")[0]
    assert f'<option value="{alice.username}">' in actors
