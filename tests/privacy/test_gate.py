"""The privacy ingest gate through the real Tracking API (Django's test client on
/v1/batch) and real delivery to a local HTTP server: blocked fields never reach the
event store, the debugger, the events API or a destination; suppressed users'
events are dropped and counted; the rest flows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from django.test import Client

from connections.dataplane.delivery.deliver import deliver_batch
from connections.models import DeliveryBatch, Event
from privacy.models import InventoryField, Regulation, SourceControls, SuppressedUser
from privacy.services.controls import do_update_source_controls
from switchyard import names
from tests.connections.delivery_support import Server, Setup, make_setup, server
from tests.connections.tracking_support import counts, post
from workspace.models import Workspace

pytestmark = pytest.mark.django_db
__all__ = ["server"]

RED_VALUE = "ada-red-8c1f@example.test"
YELLOW_VALUE = "Zeta-yellow-Street 7"


@pytest.fixture(autouse=True)
def local_network(settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # the destination is on 127.0.0.1
    settings.DELIVERY_TIMEOUT_SECONDS = 5


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Setup:
    return make_setup(alice, make_workspace(alice, "acme"))


def classify(setup: Setup, path: str, classification: str) -> None:
    InventoryField.objects.update_or_create(
        workspace=setup.workspace,
        path=path,
        defaults={
            "key_id": names.generate_id("if"),
            "classification": classification,
            "restricted": classification in ("RED", "YELLOW"),
        },
    )


def suppress(setup: Setup, *user_ids: str) -> None:
    regulation = Regulation.objects.create(
        key_id=names.generate_id("rg"),
        workspace=setup.workspace,
        regulation_type="SUPPRESS_ONLY",
        subject_type="USER_ID",
        subject_ids=list(user_ids),
    )
    for user_id in user_ids:
        SuppressedUser.objects.create(
            workspace=setup.workspace, user_id=user_id, regulation=regulation
        )


def block(setup: Setup, **changes: bool) -> None:
    do_update_source_controls(principal=setup.principal, source=setup.source, changes=changes)


def order(n: int, user_id: str = "user-1", **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": user_id,
        "messageId": f"m-{user_id}-{n}",
        "properties": {
            "email": RED_VALUE,
            "total": 42.5,
            "items": [{"sku": "a-1", "email": RED_VALUE}, {"sku": "b-2"}],
            **properties,
        },
        "context": {"traits": {"address": {"street": YELLOW_VALUE, "city": "Lyon"}}},
    }


def send(setup: Setup, *messages: dict[str, Any]) -> Any:
    response = post(Client(), "/v1/batch", {"batch": list(messages)}, key=setup.write_key)
    assert response.status_code == 200, response.content
    return response


def stored(setup: Setup) -> dict[str, dict[str, Any]]:
    return {e.message_id: e.payload for e in Event.objects.filter(source_id=setup.source.pk)}


def deliver_all(setup: Setup) -> None:
    for batch in DeliveryBatch.objects.filter(source_id=setup.source.pk).order_by("pk"):
        deliver_batch(batch.pk)


def test_red_fields_are_blocked_everywhere_and_the_rest_flows(
    web: Setup, server: Server, alice: User
) -> None:
    web.webhook(f"{server.url}/hook")
    classify(web, "properties.email", "RED")
    classify(web, "properties.items.email", "RED")
    classify(web, "context.traits.address.street", "YELLOW")
    block(web, block_red=True)

    send(web, order(1))
    (payload,) = stored(web).values()
    assert "email" not in payload["properties"]
    assert payload["properties"]["total"] == 42.5
    assert payload["properties"]["items"] == [{"sku": "a-1"}, {"sku": "b-2"}]
    # Yellow is not blocked while only Red is.
    assert payload["context"]["traits"]["address"] == {"street": YELLOW_VALUE, "city": "Lyon"}
    assert payload["userId"] == "user-1"
    assert Event.objects.get(source_id=web.source.pk).user_id == "user-1"

    client = Client()
    client.force_login(alice)
    debugger = client.get("/workspaces/acme/sources/web/debugger/").content.decode()
    assert "Order Completed" in debugger
    assert RED_VALUE not in debugger
    assert "&quot;email&quot;" not in debugger

    deliver_all(web)
    (received,) = server.wait_for(1)
    assert RED_VALUE.encode() not in received.body
    sent = received.json()
    assert "email" not in sent["properties"] and sent["properties"]["total"] == 42.5
    assert sent["context"]["traits"]["address"]["street"] == YELLOW_VALUE

    # Two Red fields removed: properties.email and the one inside the first item.
    assert counts(web.source)[("blocked", "red_field")] == 2
    assert ("blocked", "yellow_field") not in counts(web.source)


def test_yellow_is_blocked_only_with_block_yellow(web: Setup) -> None:
    classify(web, "context.traits.address.street", "YELLOW")
    classify(web, "properties.email", "RED")
    send(web, order(1))  # no controls at all: everything is stored
    block(web, block_yellow=True)
    send(web, order(2))
    payloads = stored(web)
    assert payloads["m-user-1-1"]["context"]["traits"]["address"]["street"] == YELLOW_VALUE
    assert payloads["m-user-1-1"]["properties"]["email"] == RED_VALUE
    second = payloads["m-user-1-2"]
    assert second["context"]["traits"]["address"] == {"city": "Lyon"}
    assert second["properties"]["email"] == RED_VALUE  # Red is not blocked here
    assert counts(web.source)[("blocked", "yellow_field")] == 1


def test_a_field_classified_later_is_blocked_from_the_next_event_on(web: Setup) -> None:
    block(web, block_red=True)
    send(web, order(1, coupon="SECRET-COUPON"))
    assert stored(web)["m-user-1-1"]["properties"]["coupon"] == "SECRET-COUPON"
    classify(web, "properties.coupon", "RED")
    send(web, order(2, coupon="SECRET-COUPON"))
    assert "coupon" not in stored(web)["m-user-1-2"]["properties"]
    # And unclassifying (Green) lets it through again from the next event on.
    classify(web, "properties.coupon", "GREEN")
    send(web, order(3, coupon="SECRET-COUPON"))
    assert stored(web)["m-user-1-3"]["properties"]["coupon"] == "SECRET-COUPON"


def test_turning_a_control_off_applies_to_the_next_request(web: Setup) -> None:
    classify(web, "properties.email", "RED")
    block(web, block_red=True)
    send(web, order(1))
    block(web, block_red=False)
    send(web, order(2))
    payloads = stored(web)
    assert "email" not in payloads["m-user-1-1"]["properties"]
    assert payloads["m-user-1-2"]["properties"]["email"] == RED_VALUE


def test_only_scanned_roots_are_blocked(web: Setup) -> None:
    """A classified path names a field under context, traits or properties; top-level
    fields (userId, event) are never touched, even under a look-alike path."""
    classify(web, "properties.userId", "RED")
    block(web, block_red=True)
    send(web, order(1, userId="inner"))
    payload = stored(web)["m-user-1-1"]
    assert payload["userId"] == "user-1" and "userId" not in payload["properties"]


def test_keys_holding_dots_are_matched_as_detection_names_them(web: Setup) -> None:
    classify(web, "properties.a.b", "RED")  # the key "a.b", or "b" inside "a": both paths
    block(web, block_red=True)
    dotted: dict[str, Any] = {"a.b": "dotted", "a": {"b": "nested", "c": 1}}
    send(web, order(1, **dotted))
    properties = stored(web)["m-user-1-1"]["properties"]
    assert "a.b" not in properties and properties["a"] == {"c": 1}


def test_suppressed_users_events_are_dropped_and_counted_others_stored(
    web: Setup, server: Server
) -> None:
    web.webhook(f"{server.url}/hook")
    suppress(web, "gone-user")
    send(web, order(1, "gone-user"), order(2, "kept-user"), order(3, "gone-user"))
    assert set(stored(web)) == {"m-kept-user-2"}
    found = counts(web.source)
    assert found[("dropped", "user_suppressed")] == 2
    assert found[("accepted", "track")] == 1
    deliver_all(web)
    (received,) = server.wait_for(1)
    assert received.json()["userId"] == "kept-user"
    # Only one request reached the destination: the suppressed events never will.
    assert len(server.requests) == 1


def test_a_request_of_only_suppressed_users_answers_200_and_stores_nothing(web: Setup) -> None:
    suppress(web, "gone-user")
    response = send(web, order(1, "gone-user"))
    assert orjson.loads(response.content) == {"success": True}
    assert stored(web) == {}
    assert not DeliveryBatch.objects.filter(source_id=web.source.pk).exists()
    assert counts(web.source) == {("dropped", "user_suppressed"): 1}
    # A single call (/v1/track) too.
    single = post(Client(), "/v1/track", order(2, "gone-user"), key=web.write_key)
    assert single.status_code == 200 and stored(web) == {}


def test_suppression_is_per_workspace(
    web: Setup, alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    other = make_setup(alice, make_workspace(alice, "other"))
    suppress(other, "user-1")
    send(web, order(1))
    assert set(stored(web)) == {"m-user-1-1"}


def test_unknown_and_revoked_keys_are_still_401(web: Setup) -> None:
    suppress(web, "gone-user")
    classify(web, "properties.email", "RED")
    block(web, block_red=True)
    client = Client()
    for key in ("no-such-key", "bad\x00key"):
        response = post(client, "/v1/batch", {"batch": [order(1, "gone-user")]}, key=key)
        assert response.status_code == 401
        response = post(client, "/v1/batch", {"batch": [order(1)]}, key=key)
        assert response.status_code == 401
    assert stored(web) == {}


def test_a_disabled_source_counts_everything_as_source_disabled(web: Setup) -> None:
    suppress(web, "gone-user")
    web.source.enabled = False
    web.source.save(update_fields=["enabled"])
    send(web, order(1, "gone-user"), order(2))
    assert stored(web) == {}
    assert counts(web.source) == {("dropped", "source_disabled"): 2}


def test_controls_of_another_source_do_not_apply(
    web: Setup, alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    classify(web, "properties.email", "RED")
    app = make_setup(alice, web.workspace, slug="app")
    SourceControls.objects.create(source=app.source, block_red=True)
    send(web, order(1))
    assert stored(web)["m-user-1-1"]["properties"]["email"] == RED_VALUE


def test_the_delivery_overview_explains_drops_and_blocked_fields(
    web: Setup, server: Server, alice: User
) -> None:
    destination, _ = web.webhook(f"{server.url}/hook")
    classify(web, "properties.email", "RED")
    block(web, block_red=True)
    suppress(web, "gone-user")
    send(web, order(1), order(2, "gone-user"))
    client = Client()
    client.force_login(alice)
    page = client.get(
        f"/workspaces/acme/sources/web/destinations/{destination.key_id}/?tab=delivery"
    ).content.decode()
    assert "userId suppressed (Privacy Portal): <strong>1</strong>" in page
    assert "Red fields blocked (privacy controls): <strong>1</strong>" in page
