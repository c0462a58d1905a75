"""The Inbox: fields of events sent through the Tracking API, detected after the
commit (one delivery batch at a time), with the matchers' recommendations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from connections.dataplane.delivery.claims import claim_batch
from connections.dataplane.delivery.deliver import deliver_batch
from connections.models import DeliveryBatch, Source
from privacy.models import InventoryField, ObservedField
from privacy.services.fields import do_add_inventory_field
from privacy.services.matchers import do_create_pii_matcher, do_delete_pii_matcher
from switchyard.access import Principal
from tests.connections.tracking_support import post
from tests.privacy.inbox_support import add_source, identify, key_of, send, track
from workspace.models import Membership, Workspace

pytestmark = pytest.mark.django_db
API = "/v1beta/workspaces/acme/privacy/inbox"


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme")


@pytest.fixture
def web(alice: User, acme: Workspace) -> Source:
    return add_source(alice, acme, "web")  # no destination: detection runs all the same


def rows(api: APIClient, query: str = "") -> dict[tuple[str, str], dict[str, Any]]:
    answer = api.get(f"{API}?page_size=100{query}")
    assert answer.status_code == 200, answer.content
    return {(r["path"], r["source"].rsplit("/", 1)[-1]): r for r in answer.json()["fields"]}


def test_sent_fields_enter_the_inbox_with_the_matchers_recommendation(
    api: APIClient, web: Source
) -> None:
    send(
        web,
        identify(ssn="123-45-6789", email="jane@example.com", plan="pro"),
        track("Order Completed", total=30, contact="joe@example.com"),
        track("Order Completed", total=12),
    )

    found = rows(api)
    ssn = found["traits.ssn", "web"]
    assert ssn["recommended_classification"] == "RED"
    assert ssn["matcher"] == "workspaces/acme/pii-matchers/social-security-number"
    assert ssn["classification"] == "RED" and ssn["inventory_field"] == ""
    assert found["traits.email", "web"]["recommended_classification"] == "YELLOW"
    # a value matcher flags a field whatever its name
    assert found["properties.contact", "web"]["recommended_classification"] == "YELLOW"
    assert found["properties.contact", "web"]["matcher"].endswith("/email-value")
    plan = found["traits.plan", "web"]
    assert (plan["recommended_classification"], plan["matcher"]) == ("GREEN", "")
    total = found["properties.total", "web"]
    assert total["sample_count"] == 2
    assert total["event_types"] == ["track"] and total["event_names"] == ["Order Completed"]
    assert found["traits.ssn", "web"]["event_types"] == ["identify"]
    # what the libraries add is scanned too: the Tracking API's context.library
    assert any(path.startswith("context.") for path, _ in found)


def test_an_object_a_key_matcher_flags_is_a_row_and_plain_objects_are_not(
    api: APIClient, web: Source
) -> None:
    send(web, identify(address={"city": "Oslo", "zip": "0150"}, prefs={"theme": "dark"}))

    found = rows(api)
    assert found["traits.address", "web"]["recommended_classification"] == "YELLOW"
    assert ("traits.address.city", "web") in found
    assert ("traits.prefs.theme", "web") in found
    assert ("traits.prefs", "web") not in found  # an object carries no value of its own


def test_rows_are_per_source_and_counts_add_up_across_batches(
    alice: User, acme: Workspace, api: APIClient, web: Source
) -> None:
    app = add_source(alice, acme, "app")
    send(web, identify(email="a@example.com"))
    send(web, identify(email="b@example.com"))
    send(app, track("Signed Up", email="c@example.com"))

    found = rows(api)
    assert found["traits.email", "web"]["sample_count"] == 2
    assert found["properties.email", "app"]["event_names"] == ["Signed Up"]
    assert rows(api, "&source=app").keys() == {k for k in found if k[1] == "app"}


def test_the_inbox_shows_the_last_7_days(api: APIClient, web: Source) -> None:
    send(web, identify(email="a@example.com", plan="pro"))
    ObservedField.objects.filter(path="traits.plan").update(
        last_seen=timezone.now() - dt.timedelta(days=7, minutes=5)
    )
    ObservedField.objects.filter(path="traits.email").update(
        last_seen=timezone.now() - dt.timedelta(days=6, hours=23)
    )

    found = rows(api)
    assert ("traits.email", "web") in found
    assert ("traits.plan", "web") not in found


def test_a_batch_is_observed_on_its_first_claim_only(api: APIClient, web: Source) -> None:
    """A batch re-run after a worker died does not count its events again."""
    answer = post(
        Client(), "/v1/batch", {"batch": [identify(email="a@example.com")]}, key=key_of(web)
    )
    assert answer.status_code == 200
    batch = DeliveryBatch.objects.get()
    assert claim_batch(batch.pk) is not None  # a worker claims it, then dies
    DeliveryBatch.objects.filter(pk=batch.pk).update(
        claim_time=timezone.now() - dt.timedelta(hours=1)
    )

    deliver_batch(batch.pk)

    assert not DeliveryBatch.objects.exists()  # delivered (nothing to send)
    assert not ObservedField.objects.exists()


def test_custom_matchers_apply_from_the_next_batch(
    alice: User, acme: Workspace, api: APIClient, web: Source
) -> None:
    send(web, track("Joined", loyalty_id="L-1"))
    assert rows(api)["properties.loyalty_id", "web"]["recommended_classification"] == "GREEN"

    matcher = do_create_pii_matcher(
        principal=Principal(alice),
        workspace=acme,
        name="loyalty id",
        classification="RED",
        match_on="KEY",
    )
    send(web, track("Joined", loyalty_id="L-2"))
    row = rows(api)["properties.loyalty_id", "web"]
    assert row["recommended_classification"] == "RED"
    assert row["matcher"].endswith(f"/{matcher.key_id}")

    do_delete_pii_matcher(principal=Principal(alice), matcher=matcher)
    send(web, track("Joined", loyalty_id="L-3"))
    assert rows(api)["properties.loyalty_id", "web"]["recommended_classification"] == "GREEN"


def test_a_path_classified_in_one_source_is_classified_in_another(
    alice: User, acme: Workspace, api: APIClient, web: Source
) -> None:
    send(web, identify(email="a@example.com"))
    field = do_add_inventory_field(
        principal=Principal(alice), workspace=acme, path="traits.email", classification="RED"
    )
    app = add_source(alice, acme, "app")

    send(app, identify(email="b@example.com"))

    stored = ObservedField.objects.get(source=app, path="traits.email")
    assert stored.recommended == "RED"  # the Inventory's word, not the matcher's Yellow
    row = rows(api)["traits.email", "app"]
    assert row["classification"] == "RED"
    assert row["inventory_field"] == f"workspaces/acme/privacy/inventory/{field.key_id}"


def test_inbox_pages(api: APIClient, web: Source) -> None:
    send(web, identify(a1="x", a2="y", a3="z"))
    seen: list[str] = []
    token = ""
    for _ in range(10):
        answer = api.get(f"{API}?page_size=2&page_token={token}").json()
        seen += [r["path"] for r in answer["fields"]]
        token = answer["next_page_token"]
        if not token:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert {"traits.a1", "traits.a2", "traits.a3"} <= set(seen)
    assert api.get(f"{API}?page_token=forged").status_code == 400


def test_a_member_cannot_open_the_inbox(
    acme: Workspace,
    web: Source,
    make_user: Callable[..., User],
    token_client: Callable[..., APIClient],
    client: Client,
) -> None:
    send(web, identify(email="a@example.com"))
    member = make_user("member")
    Membership.objects.create(workspace=acme, user=member)

    answer = token_client(member).get(API)
    assert answer.status_code == 403 and answer.json()["code"] == 7
    client.force_login(member)
    assert client.get("/workspaces/acme/privacy/inbox/").status_code == 403
    posted = client.post(
        "/workspaces/acme/privacy/inbox/add", {"path": "traits.email", "classification": "RED"}
    )
    assert posted.status_code == 403
    assert not InventoryField.objects.exists()


def test_a_stranger_gets_404(
    web: Source, make_user: Callable[..., User], token_client: Callable[..., APIClient]
) -> None:
    stranger = make_user("stranger")
    assert token_client(stranger).get(API).status_code == 404


# --- the page ---------------------------------------------------------------------------------


def test_the_page_lists_fields_and_adds_one_to_the_inventory(
    alice: User, client: Client, web: Source
) -> None:
    send(web, identify(ssn="123-45-6789", plan="pro"))
    client.force_login(alice)

    page = client.get("/workspaces/acme/privacy/inbox/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-path="traits.ssn"' in body and 'data-path="traits.plan"' in body
    assert "social-security-number" in body

    added = client.post(
        "/workspaces/acme/privacy/inbox/add",
        {"path": "traits.plan", "classification": "YELLOW"},
        HTTP_HX_REQUEST="true",
    )
    assert added.status_code == 200
    field = InventoryField.objects.get(path="traits.plan")
    assert (field.classification, field.restricted) == ("YELLOW", True)
    assert "Added traits.plan to the Inventory." in added.content.decode()

    # again from the Inbox: the path is in the Inventory, so it is reclassified
    client.post(
        "/workspaces/acme/privacy/inbox/add", {"path": "traits.plan", "classification": "GREEN"}
    )
    field.refresh_from_db()
    assert (field.classification, field.restricted) == ("GREEN", True)
    assert InventoryField.objects.count() == 1


def test_the_page_shows_the_inventory_classification_of_a_classified_path(
    alice: User, acme: Workspace, client: Client, web: Source
) -> None:
    send(web, identify(plan="pro"))
    field = do_add_inventory_field(
        principal=Principal(alice), workspace=acme, path="traits.plan", classification="RED"
    )
    client.force_login(alice)
    body = client.get("/workspaces/acme/privacy/inbox/").content.decode()
    row = body[body.index('data-path="traits.plan"') :]
    row = row[: row.index("</tr>")]
    assert '<option value="RED" selected>' in row
    assert f"/privacy/inventory/{field.key_id}/" in row
