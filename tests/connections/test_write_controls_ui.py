"""Every page shows a write control only to those the access rules let use it.

Walks every page of the UI as a plain member (read-only), as a member with
Source Admin on one source (and Source Read-only on all), and as the owner, and
collects the page's write controls: forms and htmx requests that POST, buttons
and button-styled links whose words change something. A member must find none;
the owner finds each page's own; the Source Admin finds them on the source
granted and not on the other one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import resolve

from connections.models import Destination, Source
from connections.services.destinations import do_create_destination
from connections.services.filters import do_create_filter
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import Membership, Workspace
from workspace.services.grants import do_create_grant

pytestmark = pytest.mark.django_db

WS = "/workspaces/acme"

# POSTs that change nothing (by URL name): signing out, and the dry run and the
# previews that compute an answer for anyone who may see the destination.
HARMLESS_POSTS = {"logout", "destination_test", "mapping_trigger_preview", "filter_preview"}
# What a button or a button-styled link says when it changes something.
WRITE_WORDS = re.compile(
    r"^(Add|Create|Save|Delete|Revoke|Rename|Enable|Disable|Send test event|Set|Remove|"
    r"Unlock|Grant|Edit|New workspace|On|Off)\b"
)
# Nothing to do with the workspace's data: everyone may make a workspace of their own.
ANYONE = {"New workspace"}


class Controls(HTMLParser):
    """The write controls of a page: ``posts`` (URLs a form or htmx POSTs to) and
    ``words`` (what write buttons and button-styled links say)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.posts: list[str] = []
        self.words: list[str] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if a.get("method", "").lower() == "post":
            self.posts.append(a.get("action") or self.url)
        for attr in ("hx-post", "hx-put", "hx-patch", "hx-delete", "formaction"):
            if attr in a:
                self.posts.append(a[attr] or self.url)
        # type="button" submits nothing: the page's own helpers (add a condition row, pause).
        submits = tag == "button" and a.get("type") != "button"
        if submits or (tag == "a" and "btn" in a.get("class", "").split()):
            self._open = []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("button", "a") and self._open is not None:
            words = " ".join("".join(self._open).split())
            if WRITE_WORDS.match(words) and words not in ANYONE:
                self.words.append(words)
            self._open = None


def _url_name(target: str, page: str) -> str:
    path = target.split("?")[0] or page.split("?")[0]
    return resolve(path).url_name or ""


def controls(client: Client, url: str) -> Controls:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parsed = Controls(url.split("?")[0])
    parsed.feed(response.content.decode())
    parsed.posts = [p for p in parsed.posts if _url_name(p, url) not in HARMLESS_POSTS]
    return parsed


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    for slug in ("web", "ios"):
        do_create_source(
            principal=Principal(alice),
            workspace=workspace,
            slug=slug,
            display_name=slug.title(),
            labels=["environment:prod"],
        )
    return workspace


def _destination(owner: User, source: Source) -> Destination:
    destination = do_create_destination(
        principal=Principal(owner),
        source=source,
        definition="actions-equals",
        settings={"url": "https://equals.example.com/hook"},
        presets=True,
    )
    do_create_filter(
        principal=Principal(owner),
        destination=destination,
        title="Drop tests",
        if_='event = "Test"',
        actions=[{"type": "DROP"}],
    )
    return destination


@pytest.fixture
def destinations(alice: User, acme: Workspace) -> dict[str, Destination]:
    return {s.slug: _destination(alice, s) for s in Source.objects.filter(workspace=acme)}


def _member(make_user: Callable[..., User], workspace: Workspace, name: str) -> Client:
    user = make_user(name)
    Membership.objects.create(workspace=workspace, user=user)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def member(make_user: Callable[..., User], acme: Workspace) -> Client:
    return _member(make_user, acme, "mia")


@pytest.fixture
def source_admin(make_user: Callable[..., User], acme: Workspace, alice: User) -> Client:
    """Source Admin on ``web`` only, and Source Read-only on every source."""
    client = _member(make_user, acme, "sam")
    sam = User.objects.get(username="sam")
    for role, scope, resources in (
        ("source-admin", "specific", [Source.objects.get(workspace=acme, slug="web")]),
        ("source-read-only", "all", []),
    ):
        do_create_grant(
            principal=Principal(alice),
            workspace=acme,
            grantee=sam,
            role=role,
            scope=scope,
            resources=resources,
        )
    return client


@pytest.fixture
def owner(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def workspace_pages() -> list[str]:
    return [
        "/workspaces/",
        f"{WS}/",
        f"{WS}/settings/",
        f"{WS}/settings/labels/",
        f"{WS}/connections/",
        f"{WS}/sources/",
        f"{WS}/catalog/",
        f"{WS}/catalog/?tab=sources",
        f"{WS}/catalog/destinations/actions-equals/",
        f"{WS}/catalog/sources/http-api/",
        f"{WS}/destinations/new/",
        f"{WS}/destinations/new/?definition=actions-equals",
    ]


def source_pages(destination: Destination) -> list[str]:
    source = f"{WS}/sources/{destination.source.slug}"
    page = f"{source}/destinations/{destination.key_id}/"
    mapping = destination.subscriptions.order_by("id").first()
    row = destination.filters.get()
    assert mapping is not None
    return [
        f"{source}/",
        f"{source}/debugger/",
        *(f"{page}?tab={tab}" for tab in ("settings", "mappings", "filters", "test", "delivery")),
        f"{page}mappings/{mapping.key_id}/",
        f"{page}filters/{row.key_id}/",
    ]


def test_a_member_is_offered_no_write_control_on_any_page(
    member: Client, destinations: dict[str, Destination]
) -> None:
    for url in workspace_pages():
        found = controls(member, url)
        assert found.posts == [] and found.words == [], url
    # Adding a destination says at once that there is nowhere to add one.
    assert 'id="cannot-add"' in member.get(f"{WS}/destinations/new/").content.decode()


def test_a_read_only_member_is_offered_no_write_control_on_any_source_page(
    source_admin: Client,
    member: Client,
    destinations: dict[str, Destination],
    acme: Workspace,
    alice: User,
) -> None:
    mia = User.objects.get(username="mia")
    do_create_grant(
        principal=Principal(alice),
        workspace=acme,
        grantee=mia,
        role="source-read-only",
        scope="all",
    )
    for destination in destinations.values():
        for url in source_pages(destination):
            found = controls(member, url)
            assert found.posts == [] and found.words == [], (url, found.posts, found.words)
    # A Source Admin of web reads ios the same way.
    for url in source_pages(destinations["ios"]):
        found = controls(source_admin, url)
        assert found.posts == [] and found.words == [], (url, found.posts, found.words)


def test_the_owner_and_a_source_admin_find_each_pages_controls(
    owner: Client, source_admin: Client, destinations: dict[str, Destination]
) -> None:
    expected = {
        f"{WS}/settings/": ["Save", "Delete workspace"],
        f"{WS}/settings/labels/": ["Create label"],
        f"{WS}/connections/": ["Add source", "Add destination"],
        f"{WS}/sources/": ["Create source"],
        f"{WS}/catalog/destinations/actions-equals/": ["Add destination"],
        f"{WS}/catalog/sources/http-api/": ["Add source"],
        f"{WS}/destinations/new/?definition=actions-equals&source=web": ["Create destination"],
    }
    for url, words in expected.items():
        found = controls(owner, url)
        assert set(words) <= set(found.words), (url, found.words)
    assert 'id="cannot-add"' not in owner.get(f"{WS}/destinations/new/").content.decode()
    # Sam may not create sources, but may add destinations to web.
    sam_words = {url: controls(source_admin, url).words for url in expected}
    assert sam_words[f"{WS}/connections/"] == ["Add destination"]
    assert sam_words[f"{WS}/catalog/destinations/actions-equals/"] == ["Add destination"]
    assert sam_words[f"{WS}/catalog/sources/http-api/"] == []
    assert sam_words[f"{WS}/sources/"] == []
    assert (
        "Create destination"
        in sam_words[f"{WS}/destinations/new/?definition=actions-equals&source=web"]
    )

    web = source_pages(destinations["web"])
    by_page = {
        web[0]: ["Add destination", "Revoke", "Create write key", "Save", "Delete source"],
        web[2]: ["Enable destination", "Save changes", "Delete destination…"],
        web[3]: ["Add mapping", "On", "Edit", "Delete"],
        web[4]: ["Add filter", "On", "Edit", "Delete"],
        web[5]: ["Send test event to destination"],
        web[7]: ["Save mapping", "Send test event"],
        web[8]: ["Save filter"],
    }
    for client, who in ((owner, "owner"), (source_admin, "source admin")):
        for url, words in by_page.items():
            found = controls(client, url)
            missing = set(words) - set(found.words)
            assert not missing, (who, url, missing)
        # The same words on the same pages for every one who may write.
        assert controls(client, web[2]).posts, who
