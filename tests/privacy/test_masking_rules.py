"""What is masked: matcher-flagged fields, the Inventory's Red/Yellow (and once
restricted) paths, custom matchers; Green has no effect; audit diffs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from privacy import masking as pii_masking
from privacy.masking import MARKER
from privacy.models import InventoryField
from privacy.services.matchers import do_create_pii_matcher
from switchyard import masking
from switchyard.access import Principal
from workspace.models import AuditEntry, Workspace

from .masking_support import COLOR, EMAIL, LAST_NAME, PLAN, Setup, client_of, setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(
    alice: User, make_user: Callable[..., User], make_workspace: Callable[..., Workspace]
) -> Setup:
    return setup(alice, make_user, make_workspace)


def shown(acme: Setup, payload: dict[str, Any]) -> Any:
    return masking.mask_event(Principal(acme.reader), acme.workspace.pk, payload)


def classify(acme: Setup, path: str, classification: str, *, restricted: bool = False) -> None:
    InventoryField.objects.create(
        key_id=f"f{InventoryField.objects.count()}",
        workspace=acme.workspace,
        path=path,
        classification=classification,
        restricted=restricted,
    )


def test_without_a_masker_everything_is_shown(acme: Setup) -> None:
    masking.unregister(pii_masking.masker)
    try:
        payload = {"traits": {"email": EMAIL}}
        assert shown(acme, payload) is payload
    finally:
        masking.register(pii_masking.masker)


def test_only_flagged_fields_under_the_scanned_roots_are_masked(acme: Setup) -> None:
    payload = {
        "type": "identify",
        "userId": "u-1",
        "context": {"ip": "203.0.113.9", "library": {"name": "analytics.js"}},
        "traits": {
            "email": EMAIL,
            "address": {"street": "1 Main St", "city": "Springfield"},  # replaced whole
            "contact": "x@y.example",  # no such key matcher: the value matcher flags it
        },
        "properties": {"plan": PLAN, "items": [{"sku": "a"}, {"phone": "555-010-1234"}]},
    }
    masked = shown(acme, payload)
    assert masked["userId"] == "u-1" and masked["type"] == "identify"
    assert masked["context"]["ip"] == MARKER
    assert masked["traits"] == {"email": MARKER, "address": MARKER, "contact": MARKER}
    assert masked["properties"] == {"plan": PLAN, "items": [{"sku": "a"}, {"phone": MARKER}]}
    assert payload["traits"]["email"] == EMAIL  # the stored payload is not touched


def test_inventory_red_and_yellow_paths_are_masked_and_green_after_red_stays(
    acme: Setup,
) -> None:
    payload = {"properties": {"favorite_color": COLOR, "shoe": "42", "plan": PLAN}}
    assert shown(acme, payload)["properties"] == payload["properties"]
    classify(acme, "properties.favorite_color", "GREEN", restricted=True)  # was Red once
    classify(acme, "properties.shoe", "YELLOW")
    classify(acme, "properties.plan", "GREEN")  # Green from the start: housekeeping
    assert shown(acme, payload)["properties"] == {
        "favorite_color": MARKER,
        "shoe": MARKER,
        "plan": PLAN,
    }


def test_green_does_not_unmask_what_a_matcher_flags(acme: Setup) -> None:
    classify(acme, "traits.last_name", "GREEN")
    assert shown(acme, {"traits": {"last_name": LAST_NAME}})["traits"]["last_name"] == MARKER


def test_a_custom_matcher_masks_its_field_and_a_disabled_override_unmasks(acme: Setup) -> None:
    payload = {"properties": {"loyalty_code": "LC-123", "products": [{"sku": "S-1"}]}}
    assert shown(acme, payload) == payload
    owner = Principal(acme.owner)
    do_create_pii_matcher(
        principal=owner,
        workspace=acme.workspace,
        name="loyalty code",
        classification="RED",
        match_on="KEY",
    )
    do_create_pii_matcher(
        principal=owner,
        workspace=acme.workspace,
        name="SKU value",
        classification="YELLOW",
        match_on="VALUE",
        pattern=r"^S-\d$",
    )
    assert shown(acme, payload)["properties"] == {
        "loyalty_code": MARKER,
        "products": [{"sku": MARKER}],
    }
    # A disabled custom matcher named like a default switches that default off.
    do_create_pii_matcher(
        principal=owner,
        workspace=acme.workspace,
        name="email",
        classification="YELLOW",
        match_on="KEY",
        enabled=False,
    )
    assert shown(acme, {"traits": {"email": "not-an-address"}})["traits"]["email"] == (
        "not-an-address"
    )


def test_json_masks_by_key_value_and_source_event(acme: Setup) -> None:
    classify(acme, "properties.favorite_color", "RED")
    mask = masking.mask_for(Principal(acme.reader), acme.workspace.pk)
    event = {"traits": {"last_name": LAST_NAME}, "properties": {"favorite_color": COLOR}}
    value = {
        "mapped": {"surname": LAST_NAME, "favorite_color": COLOR, "plan": PLAN},
        "note": f"sent {LAST_NAME}",
        "json_text": json.dumps({"email": EMAIL}),
        "cut_short": '{"plan": "x", "email": "' + EMAIL[:10],
    }
    masked = mask.json(value, events=[event])
    text = json.dumps(masked)
    assert LAST_NAME not in text and COLOR not in text and EMAIL[:10] not in text
    assert masked["mapped"]["plan"] == PLAN
    assert json.loads(masked["json_text"]) == {"email": MARKER}
    assert masked["cut_short"].startswith('{"plan": "x", "email": ')


# -- audit diffs: read by owners only (who see everything), masked for anyone else --------


@pytest.fixture
def entry(acme: Setup) -> AuditEntry:
    return AuditEntry.objects.create(
        workspace=acme.workspace,
        workspace_slug="acme",
        actor_user=acme.owner,
        action="mapping.updated",
        resource_type="mapping",
        resource_name="workspaces/acme/sources/web/destinations/d/mappings/m",
        before={"sample_event": {"traits": {"email": "old." + EMAIL}}},
        after={"sample_event": {"traits": {"email": EMAIL}, "properties": {"plan": PLAN}}},
    )


@pytest.fixture
def as_reader(acme: Setup) -> Iterator[None]:
    """The owner read as the reader would be: the real mask of someone without PII Access."""

    def reader_mask(principal: Principal, workspace_id: Any) -> masking.Mask | None:
        return pii_masking.masker(Principal(acme.reader), workspace_id)

    masking.register(reader_mask)
    try:
        yield
    finally:
        masking.unregister(reader_mask)


def test_owners_see_audit_diffs_whole(
    acme: Setup, entry: AuditEntry, token_client: Callable[..., APIClient]
) -> None:
    answer = token_client(acme.owner).get("/v1beta/workspaces/acme/audit-events")
    assert EMAIL in answer.content.decode()


@pytest.mark.usefixtures("as_reader")
def test_audit_diffs_are_masked_in_the_api_page_and_csv(
    acme: Setup, entry: AuditEntry, token_client: Callable[..., APIClient]
) -> None:
    api = token_client(acme.owner)
    answer = api.get("/v1beta/workspaces/acme/audit-events")
    one = api.get(f"/v1beta/workspaces/acme/audit-events/{entry.pk}")
    owner: Client = client_of(acme.owner)
    page = owner.get("/workspaces/acme/settings/audit-trail/")
    csv = owner.get("/workspaces/acme/settings/audit-trail.csv")
    for response in (answer, one, page, csv):
        assert response.status_code == 200, response
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode()
        assert EMAIL not in text and MARKER in text and PLAN in text
    assert one.json()["after"]["sample_event"]["traits"]["email"] == MARKER
    entry.refresh_from_db()
    assert entry.after["sample_event"]["traits"]["email"] == EMAIL
