"""Privacy > Detection in the browser UI: owners see the matchers, manage custom ones
and test a sample event; members get neither the page nor its sidebar entry."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from privacy.matching.defaults import DEFAULT_MATCHERS
from privacy.models import PiiMatcher
from privacy.services import matchers as service
from switchyard.access import Principal
from workspace.models import AuditEntry, Membership, Workspace

pytestmark = pytest.mark.django_db

URL = "/workspaces/acme/privacy/detection/"
HTMX = {"HTTP_HX_REQUEST": "true"}
SIN = {
    "name": "SIN",
    "classification": "RED",
    "match_on": "KEY",
    "precision": "EXACT",
    "pattern": "",
    "synonyms": "Social Insurance Number\nSocInsNo",
    "enabled": "on",
}


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def owner(acme: Workspace, alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def member(acme: Workspace, bob: User) -> Client:
    Membership.objects.create(workspace=acme, user=bob)
    client = Client()
    client.force_login(bob)
    return client


def state(workspace: Workspace) -> tuple[list[tuple[object, ...]], int]:
    rows = PiiMatcher.objects.filter(workspace=workspace).order_by("pk")
    values = list(rows.values_list("name", "classification", "pattern", "synonyms", "enabled"))
    return values, AuditEntry.objects.filter(action__startswith="pii_matcher.").count()


def make(workspace: Workspace, owner: User, name: str = "Loyalty id") -> PiiMatcher:
    return service.do_create_pii_matcher(
        principal=Principal(owner),
        workspace=workspace,
        name=name,
        classification="YELLOW",
        match_on="KEY",
    )


def test_owner_sees_every_default_the_sidebar_entry_and_the_forms(owner: Client) -> None:
    html = owner.get(URL).content.decode()
    for matcher in DEFAULT_MATCHERS:
        assert f'id="matcher-{matcher.id}"' in html
    row = html[html.index('id="matcher-credit-card"') :]
    row = row[: row.index("</tr>")]
    assert "Red" in row and "Key (similar)" in row and "ccn" in row
    assert 'href="/workspaces/acme/privacy/detection/"' in html  # the sidebar entry
    assert '<div class="sidebar-section">Privacy</div>' in html
    assert 'id="matcher-create"' in html and 'id="matcher-test"' in html
    assert "0 of 100" in html


def test_members_get_403_and_no_sidebar_entry(member: Client, acme: Workspace, alice: User) -> None:
    matcher = make(acme, alice)
    before = state(acme)
    home = member.get("/workspaces/acme/").content.decode()
    assert "privacy/detection" not in home
    assert '<div class="sidebar-section">Privacy</div>' not in home
    for response in (
        member.get(URL),
        member.post(URL, SIN),
        member.post(f"{URL}test", {"event": "{}"}),
        member.get(f"{URL}matchers/{matcher.key_id}/"),
        member.post(f"{URL}matchers/{matcher.key_id}/delete"),
    ):
        assert response.status_code == 403
    assert state(acme) == before


def test_strangers_get_404(acme: Workspace, make_user: Callable[..., User]) -> None:
    client = Client()
    client.force_login(make_user())
    assert client.get(URL).status_code == 404


def test_create_swaps_the_custom_matchers_in_place(owner: Client, acme: Workspace) -> None:
    response = owner.post(URL, SIN, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="mb-4" id="custom-matchers"')
    assert "Created matcher SIN." in html and "1 of 100" in html
    stored = PiiMatcher.objects.get(workspace=acme)
    assert (stored.name, stored.classification, stored.synonyms) == (
        "SIN",
        "RED",
        ["Social Insurance Number", "SocInsNo"],
    )
    assert 'data-confirm="Delete matcher SIN?"' in html


def test_create_without_javascript_redirects(owner: Client, acme: Workspace) -> None:
    response = owner.post(URL, SIN)
    assert response.status_code == 302 and response["Location"] == URL
    assert PiiMatcher.objects.filter(workspace=acme).count() == 1


def test_a_pattern_re2_refuses_is_shown_on_its_field(owner: Client, acme: Workspace) -> None:
    before = state(acme)
    response = owner.post(URL, {**SIN, "match_on": "VALUE", "pattern": "(?!x)y"}, **HTMX)
    html = response.content.decode()
    assert 'id="id_pattern"' in html and "is-invalid" in html
    assert "lookarounds and backreferences are not supported" in html
    assert state(acme) == before
    page = owner.post(URL, {**SIN, "match_on": "VALUE", "pattern": "(?!x)y"})
    assert page.status_code == 400


def test_the_form_goes_at_the_limit(owner: Client, acme: Workspace, alice: User) -> None:
    for n in range(service.LIMIT):
        make(acme, alice, f"m{n}")
    html = owner.get(URL).content.decode()
    assert 'id="matcher-create"' not in html and 'id="matcher-limit"' in html
    before = state(acme)
    refused = owner.post(URL, SIN, **HTMX).content.decode()
    assert "at most 100 custom matchers" in refused
    assert state(acme) == before


def test_edit_saves_and_audits(owner: Client, acme: Workspace, alice: User) -> None:
    matcher = make(acme, alice)
    page = owner.get(f"{URL}matchers/{matcher.key_id}/").content.decode()
    assert 'value="Loyalty id"' in page
    response = owner.post(
        f"{URL}matchers/{matcher.key_id}/",
        {**SIN, "name": "Loyalty id", "classification": "RED", "enabled": ""},
    )
    assert response.status_code == 302
    matcher.refresh_from_db()
    assert (matcher.classification, matcher.enabled) == ("RED", False)
    entry = AuditEntry.objects.get(action="pii_matcher.updated")
    assert entry.after["classification"] == "RED"


def test_delete_swaps_and_audits(owner: Client, acme: Workspace, alice: User) -> None:
    matcher = make(acme, alice)
    response = owner.post(f"{URL}matchers/{matcher.key_id}/delete", **HTMX)
    assert "Deleted matcher Loyalty id." in response.content.decode()
    assert not PiiMatcher.objects.filter(pk=matcher.pk).exists()
    assert AuditEntry.objects.filter(action="pii_matcher.deleted").count() == 1


def test_the_test_panel_shows_what_each_matcher_flags(owner: Client, acme: Workspace) -> None:
    owner.post(URL, {**SIN, "match_on": "VALUE", "pattern": r"^\d{3}-\d{3}-\d{3}$"})
    event = {"traits": {"email": "ann@example.com", "sin": "123-456-789"}, "userId": "u"}
    response = owner.post(f"{URL}test", {"event": json.dumps(event)}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="test-result"')
    sin = PiiMatcher.objects.get(workspace=acme).key_id
    row = html[html.index(f'id="flag-{sin}"') :]
    assert "<code>traits.sin</code>" in row[: row.index("</tr>")]
    row = html[html.index('id="flag-email"') :]
    assert "<code>traits.email</code>" in row[: row.index("</tr>")]
    nothing = owner.post(f"{URL}test", {"event": '{"properties": {"plan": "pro"}}'}, **HTMX)
    assert 'id="test-none"' in nothing.content.decode()


@pytest.mark.parametrize(("text", "error"), [("{", "not valid JSON"), ("[1]", "JSON object")])
def test_the_test_panel_says_what_is_wrong_with_the_event(
    owner: Client, text: str, error: str
) -> None:
    html = owner.post(f"{URL}test", {"event": text}, **HTMX).content.decode()
    assert error in html
