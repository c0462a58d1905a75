"""Masking where event data leaves the server: the events API, the debugger (page and
htmx rows), its search, the tester's stored event and the delivery drill-down.
A Source Read-only member without PII Access sees masked values; a PII Access grant
(own or a group's) or owning the workspace shows them."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from connections.models import Delivery, Destination
from connections.services.destinations import do_create_destination
from privacy.masking import MARKER
from switchyard.access import Principal, can
from workspace.models import Workspace
from workspace.services.grants import do_delete_grant
from workspace.services.groups import do_add_group_member, do_create_group

from .masking_support import API, COLOR, EMAIL, LAST_NAME, PLAN, UI, Setup, client_of, setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(
    alice: User, make_user: Callable[..., User], make_workspace: Callable[..., Workspace]
) -> Setup:
    return setup(alice, make_user, make_workspace)


def test_the_events_api_masks_red_and_yellow_fields_without_pii_access(
    acme: Setup, token_client: Callable[..., APIClient]
) -> None:
    event = acme.store()
    answer = token_client(acme.reader).get(f"{API}/events")
    assert answer.status_code == 200
    (shown,) = answer.json()["events"]
    assert shown["payload"]["traits"] == {"email": MARKER, "last_name": MARKER}
    assert shown["payload"]["properties"] == {"favorite_color": COLOR, "plan": PLAN}
    for raw in (EMAIL, LAST_NAME):
        assert raw not in answer.content.decode()
    one = token_client(acme.reader).get(f"{API}/events/{event.id}")
    assert one.json()["payload"]["traits"]["email"] == MARKER
    assert EMAIL not in one.content.decode()


def test_owners_and_pii_access_grants_see_the_values(
    acme: Setup, token_client: Callable[..., APIClient]
) -> None:
    acme.store()
    owner = token_client(acme.owner).get(f"{API}/events").json()["events"][0]
    assert owner["payload"]["traits"] == {"email": EMAIL, "last_name": LAST_NAME}
    grant = acme.grant("pii-access")
    reader = token_client(acme.reader)
    assert reader.get(f"{API}/events").json()["events"][0]["payload"]["traits"]["email"] == EMAIL
    do_delete_grant(principal=Principal(acme.owner), grant=grant)  # revoked: next request
    assert reader.get(f"{API}/events").json()["events"][0]["payload"]["traits"]["email"] == MARKER


def test_a_group_grant_of_pii_access_unmasks_its_members(
    acme: Setup, token_client: Callable[..., APIClient]
) -> None:
    acme.store()
    owner = Principal(acme.owner)
    group = do_create_group(principal=owner, workspace=acme.workspace, name="Support")
    do_add_group_member(principal=owner, group=group, user=acme.reader)
    acme.grant("pii-access", group)
    shown = token_client(acme.reader).get(f"{API}/events").json()["events"][0]
    assert shown["payload"]["traits"]["email"] == EMAIL


def test_pii_access_is_asked_through_access_can(
    acme: Setup, make_user: Callable[..., User]
) -> None:
    assert can(Principal(acme.owner), "view_pii", acme.workspace)
    assert not can(Principal(acme.reader), "view_pii", acme.workspace)
    acme.grant("pii-access")
    assert can(Principal(acme.reader), "view_pii", acme.workspace)
    # A grant gives nothing to someone outside the workspace, nor admin rights.
    assert not can(Principal(make_user("outsider")), "view_pii", acme.workspace)
    assert not can(Principal(acme.reader), "administer", acme.workspace)


def test_the_debugger_page_and_its_live_rows_mask(acme: Setup) -> None:
    event = acme.store()
    reader = client_of(acme.reader)
    for url in (f"{UI}/debugger/", f"{UI}/debugger/events/?after={event.id - 1}"):
        page = reader.get(url).content.decode()
        assert MARKER in page and COLOR in page, url
        assert EMAIL not in page and LAST_NAME not in page, url
        assert json.dumps(EMAIL)[1:-1] not in page  # nor escaped in the raw view
    owner = client_of(acme.owner).get(f"{UI}/debugger/").content.decode()
    assert EMAIL in owner and LAST_NAME in owner


def test_a_search_does_not_find_events_by_their_masked_values(
    acme: Setup, token_client: Callable[..., APIClient]
) -> None:
    acme.store()
    reader = token_client(acme.reader)
    assert reader.get(f"{API}/events?search={EMAIL}").json()["events"] == []
    assert len(reader.get(f"{API}/events?search={COLOR}").json()["events"]) == 1
    page = client_of(acme.reader).get(f"{UI}/debugger/?q={LAST_NAME}").content.decode()
    assert 'id="no-events"' in page
    owner = token_client(acme.owner)
    assert len(owner.get(f"{API}/events?search={EMAIL}").json()["events"]) == 1


@pytest.fixture
def equals(acme: Setup) -> Destination:
    return do_create_destination(
        principal=Principal(acme.owner),
        source=acme.source,
        definition="actions-equals",
        settings={"url": "https://equals.example"},
        presets=True,
    )


def test_the_tester_loads_a_stored_event_masked(acme: Setup, equals: Destination) -> None:
    event = acme.store()
    url = f"{UI}/destinations/{equals.key_id}/test/event/?event={event.id}"
    fragment = client_of(acme.reader).get(url).content.decode()
    assert MARKER in fragment and EMAIL not in fragment and LAST_NAME not in fragment
    assert EMAIL in client_of(acme.owner).get(url).content.decode()


def _failed_delivery(acme: Setup, equals: Destination) -> Delivery:
    event = acme.store()
    subscription = equals.subscriptions.first()
    assert subscription is not None
    mapped = {"email": EMAIL, "surname": LAST_NAME, "plan": PLAN}
    return Delivery.objects.create(
        workspace_id=acme.source.workspace_id,
        source_id=acme.source.pk,
        destination=equals,
        subscription=subscription,
        event_id=event.id,
        event_received_at=event.received_at,
        message_id=event.message_id,
        status=Delivery.Status.FAILED,
        code="errors.discarded.400",
        message=f"HTTP 400 from https://equals.example/u?contact={EMAIL.replace('@', '%40')}",
        request={
            "method": "POST",
            "url": f"https://equals.example/u?contact={EMAIL.replace('@', '%40')}",
            "headers": {},
            # A body excerpt is text, whole or cut short.
            "body": json.dumps([mapped]),
        },
        response={
            "status": 400,
            "body": json.dumps({"error": "bad input", "echo": mapped})[:60],
            "content_type": "application/json",
        },
    )


def test_the_delivery_drill_down_masks_requests_and_responses(
    acme: Setup, equals: Destination, token_client: Callable[..., APIClient]
) -> None:
    _failed_delivery(acme, equals)
    page = client_of(acme.reader).get(f"{UI}/destinations/{equals.key_id}/?tab=delivery")
    assert page.status_code == 200
    metrics = token_client(acme.reader).get(f"{API}/destinations/{equals.key_id}/delivery-metrics")
    assert metrics.status_code == 200
    for shown in (page.content.decode(), metrics.content.decode()):
        assert MARKER in shown and PLAN in shown
        # Whole, URL-encoded or cut short in an excerpt.
        for raw in (EMAIL, LAST_NAME, EMAIL.replace("@", "%40"), EMAIL[:8], LAST_NAME[:8]):
            assert raw not in shown
    (failure,) = metrics.json()["recent_failures"]
    body = json.loads(failure["request"]["body"])
    assert body == [{"email": MARKER, "surname": MARKER, "plan": PLAN}]
    owner = token_client(acme.owner).get(f"{API}/destinations/{equals.key_id}/delivery-metrics")
    assert EMAIL in json.loads(owner.json()["recent_failures"][0]["request"]["body"])[0]["email"]
    # Nothing masked was written back.
    stored = Delivery.objects.get()
    assert EMAIL in stored.request["body"]
