"""The debugger's substring and payload search, its JSON (not repr) display and its
"Validate" links; the event tester loading a stored event; delivery's JSON request."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from connections import selectors
from connections.models import Delivery, Destination, Event, Source
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import Membership, Workspace

pytestmark = pytest.mark.django_db

UI = "/workspaces/acme/sources/web"


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Source:
    workspace = make_workspace(alice, "acme", "Acme")
    return do_create_source(
        principal=Principal(alice), workspace=workspace, slug="web", display_name="Web"
    )


@pytest.fixture
def owner(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def store(source: Source, name: str, properties: dict[str, Any], *, ago: float = 0) -> Event:
    at = timezone.now() - dt.timedelta(seconds=ago)
    n = Event.objects.filter(source_id=source.pk).count()
    payload = {
        "type": "track",
        "event": name,
        "userId": "u-1",
        "messageId": f"m{n}",
        "properties": properties,
    }
    return Event.objects.create(
        received_at=at,
        workspace_id=source.workspace_id,
        source_id=source.pk,
        message_id=payload["messageId"],
        type="track",
        event_name=name,
        user_id="u-1",
        timestamp=at,
        payload=payload,
    )


def shown_ids(page: str) -> list[int]:
    return [
        int(i)
        for i in re.findall(r'class="border rounded mb-2 debugger-event" data-id="(\d+)"', page)
    ]


def test_the_name_filter_matches_part_of_the_name_in_any_case(owner: Client, web: Source) -> None:
    upgraded = store(web, "Plan Upgraded", {})
    store(web, "Signed Up", {})
    page = owner.get(f"{UI}/debugger/?event=upgr").content.decode()
    assert shown_ids(page) == [upgraded.id]


def test_the_payload_search_finds_text_anywhere_in_the_raw_event(
    owner: Client, web: Source
) -> None:
    coupon = store(web, "Order Completed", {"coupon": "SPRING-50"})
    store(web, "Order Completed", {"coupon": "WINTER"})
    page = owner.get(f"{UI}/debugger/?q=spring-5").content.decode()
    assert shown_ids(page) == [coupon.id]
    # The live poll keeps the search.
    assert "q=spring-5" in page
    newer = store(web, "Order Completed", {"coupon": "spring-55"})
    rows = owner.get(f"{UI}/debugger/events/?q=spring-5&after={coupon.id}").content.decode()
    assert shown_ids(rows) == [newer.id]


def test_like_wildcards_in_a_search_are_plain_characters(owner: Client, web: Source) -> None:
    percent = store(web, "Discount", {"off": "100%"})
    store(web, "Discount", {"off": "1000"})
    store(web, "Other", {"note": "a_b"})
    assert shown_ids(owner.get(f"{UI}/debugger/?q=100%25").content.decode()) == [percent.id]
    assert shown_ids(owner.get(f"{UI}/debugger/?q=_").content.decode()) != []
    assert len(shown_ids(owner.get(f"{UI}/debugger/?q=a_b").content.decode())) == 1
    assert shown_ids(owner.get(f"{UI}/debugger/?q=a%25b").content.decode()) == []


def test_searches_look_only_at_the_latest_events(
    web: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "SEARCH_SCOPE", 2)
    old = store(web, "Needle", {}, ago=60)
    store(web, "Hay", {}, ago=30)
    store(web, "Hay", {})
    assert selectors.recent_events(web, search="Needle") == []
    assert selectors.recent_events(web, name_contains="needle") == []
    monkeypatch.setattr(selectors, "SEARCH_SCOPE", 3)
    assert selectors.recent_events(web, search="Needle") == [old]


def test_nested_properties_show_as_json_not_python(owner: Client, web: Source) -> None:
    store(
        web, "Settings Saved", {"flags": {"enabled": True, "beta": None}, "gone": None, "on": False}
    )
    page = html.unescape(owner.get(f"{UI}/debugger/").content.decode())
    assert "{'enabled': True" not in page and "None" not in page and "False" not in page
    properties = re.findall(r'<dd class="col-sm-9 debugger-property">(.*?)</dd>', page, re.S)
    assert properties == [
        '<pre class="small mb-0">{\n  "beta": null,\n  "enabled": true\n}</pre>',
        "null",
        "false",
    ]


def test_validate_offers_each_destination_tester_with_the_event(
    owner: Client, web: Source, alice: User
) -> None:
    event = store(web, "Plan Upgraded", {})
    page = owner.get(f"{UI}/debugger/").content.decode()
    assert "No destinations yet" in page
    equals = do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        display_name="Equals",
        settings={"url": "https://equals.example"},
    )
    page = owner.get(f"{UI}/debugger/").content.decode()
    link = f"{UI}/destinations/{equals.key_id}/?tab=test&amp;event={event.id}"
    assert f'href="{link}">Equals</a>' in page
    rows = owner.get(f"{UI}/debugger/events/?after=0").content.decode()
    assert f'href="{link}"' in rows


@pytest.fixture
def equals(web: Source, alice: User) -> Destination:
    return do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        settings={"url": "https://equals.example"},
        presets=True,
    )


def textarea(page: str) -> str:
    found = re.search(r'<textarea[^>]*id="test-event"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


def test_the_tester_opens_with_the_event_asked_for(
    owner: Client, web: Source, equals: Destination
) -> None:
    event = store(web, "Plan Upgraded", {"plan": "pro", "trial": True})
    page = owner.get(f"{UI}/destinations/{equals.key_id}/?tab=test&event={event.id}")
    loaded = textarea(page.content.decode())
    assert '"messageId": "m0"' in loaded and '"trial": true' in loaded
    # The picker lists the source's latest events, this one chosen.
    assert f'<option value="{event.id}" selected>track · Plan Upgraded' in page.content.decode()


def test_the_tester_ignores_an_event_of_another_source(
    owner: Client, web: Source, equals: Destination, alice: User
) -> None:
    other = do_create_source(
        principal=Principal(alice), workspace=web.workspace, slug="app", display_name="App"
    )
    foreign = store(other, "Secret", {"x": 1})
    for asked in (str(foreign.id), "nope", "²", "9" * 30):
        page = owner.get(f"{UI}/destinations/{equals.key_id}/?tab=test&event={asked}")
        assert page.status_code == 200
        body = page.content.decode()
        assert "Secret" not in textarea(body) and 'id="event-missing"' in body


def test_the_picker_swaps_in_a_recent_event(
    owner: Client, web: Source, equals: Destination
) -> None:
    event = store(web, "Signed Up", {"via": "google"})
    fragment = owner.get(
        f"{UI}/destinations/{equals.key_id}/test/event/?event={event.id}"
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="test-event-field">')
    assert '"via": "google"' in textarea(fragment)


def test_a_member_without_the_source_cannot_load_its_events(
    web: Source, equals: Destination, make_user: Callable[..., User]
) -> None:
    event = store(web, "Signed Up", {})
    stranger = make_user("stranger")
    Membership.objects.create(workspace=web.workspace, user=stranger)
    client = Client()
    client.force_login(stranger)
    url = f"{UI}/destinations/{equals.key_id}/test/event/?event={event.id}"
    assert client.get(url).status_code == 404


def test_a_failed_delivery_shows_its_request_as_json(
    owner: Client, web: Source, equals: Destination
) -> None:
    event = store(web, "Signed Up", {})
    subscription = equals.subscriptions.first()
    assert subscription is not None
    Delivery.objects.create(
        workspace_id=web.workspace_id,
        source_id=web.pk,
        destination=equals,
        subscription=subscription,
        event_id=event.id,
        event_received_at=event.received_at,
        message_id=event.message_id,
        status=Delivery.Status.FAILED,
        code="errors.discarded.400",
        request={"method": "POST", "json": {"enabled": True, "plan": None}},
        response={"status": 400, "body": None},
    )
    page = html.unescape(
        owner.get(f"{UI}/destinations/{equals.key_id}/?tab=delivery").content.decode()
    )
    assert "'enabled': True" not in page and "None" not in page
    assert '"enabled": true,' in page and '"plan": null' in page and '"body": null' in page


def test_the_events_api_searches_names_and_payloads(
    web: Source, token_client: Callable[..., Any], alice: User
) -> None:
    coupon = store(web, "Order Completed", {"coupon": "SPRING-50"})
    store(web, "Signed Up", {})
    api = token_client(alice)
    url = "/v1beta/workspaces/acme/sources/web/events"
    found = api.get(f"{url}?search=spring").json()["events"]
    assert [str(e["id"]) for e in found] == [str(coupon.id)]
    named = api.get(f"{url}?event_contains=ORDER").json()["events"]
    assert [e["event_name"] for e in named] == ["Order Completed"]
    assert api.get(f"{url}?event=Order").json()["events"] == []  # exact stays exact


def test_a_search_that_finds_nothing_says_so(owner: Client, web: Source) -> None:
    assert "No events yet." in owner.get(f"{UI}/debugger/").content.decode()
    store(web, "Signed Up", {})
    page = owner.get(f"{UI}/debugger/?q=nowhere").content.decode()
    assert "No events match these filters among the source's latest 500" in page
