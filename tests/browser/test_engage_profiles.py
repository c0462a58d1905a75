"""An owner finds a profile in a space's Profile explorer: events sent to the
Tracking API are resolved into the space, a search by user_id (htmx) lists the
profile, and its page shows the identities, the traits and the events with their
stored payloads; the CSP refuses nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import FilePayload, Page, expect

from connections.models import Event, WriteKey
from connections.services.sources import do_create_source
from engage.models import Space
from engage.services import resolution
from engage.services.identity_settings import seed_defaults
from switchyard import names
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in, watch_csp
from tests.worker_support import celery_worker
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USER_ID = "u-zq42"
PLAN = "platinum-v4r"
EVENT = "Order Completedzq"


def test_search_a_profile_and_see_its_traits_and_events(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    source = do_create_source(
        principal=Principal(owner), workspace=workspace, slug="web", display_name="Web"
    )
    space = Space.objects.create(
        workspace=workspace, key_id=names.generate_id("spa_", 24), slug="prod", display_name="Prod"
    )
    seed_defaults(space)
    key = WriteKey.objects.get(source=source).secret
    base = live_server.url
    for path, body in (
        ("identify", {"userId": USER_ID, "traits": {"plan": PLAN}}),
        ("track", {"userId": USER_ID, "event": EVENT, "properties": {"total": 42}}),
    ):
        sent = httpx.post(f"{base}/v1/{path}", json=body, auth=(key, ""), timeout=10)
        assert sent.status_code == 200
    stored = Event.objects.filter(source_id=source.pk).order_by("id")
    resolution.resolve_events(
        space,
        [
            resolution.ResolverEvent(
                event_id=e.pk,
                received_at=e.received_at,
                source_id=source.pk,
                message_id=e.message_id,
                type=e.type,
                event_name=e.event_name,
                payload=e.payload,
            )
            for e in stored
        ],
    )
    refused = watch_csp(page)

    sign_in(page, base, "olivia")
    page.goto(f"{base}/workspaces/acme/engage/spaces/prod/profiles/")
    page.locator("#profile-q").fill(f"user_id:{USER_ID}")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#profile-results-heading")).to_contain_text(USER_ID)
    result = page.locator("#profiles tbody a")
    expect(result).to_have_count(1)
    result.click()

    expect(page.locator("#identities")).to_contain_text(USER_ID)
    expect(page.locator("#traits")).to_contain_text(PLAN)
    event = page.locator("#events li").filter(has_text=EVENT)
    expect(event).to_have_count(1)
    event.locator("summary").click()
    expect(event.locator("pre")).to_contain_text('"total": 42')
    assert refused == []


def test_upload_profiles_from_a_csv_and_find_one(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    """A CSV uploaded in the page is checked and applied by a real worker while the
    page polls its progress; the uploaded person is then found with their traits."""
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    space = Space.objects.create(
        workspace=workspace, key_id=names.generate_id("spa_", 24), slug="prod", display_name="Prod"
    )
    seed_defaults(space)
    base = live_server.url
    refused = watch_csp(page)
    sign_in(page, base, "olivia")
    page.goto(f"{base}/workspaces/acme/engage/spaces/prod/csv-uploads/")
    content = f"user_id,email,plan\n{USER_ID},zq42@example.org,{PLAN}\nu-zq43,,gold\n"
    with celery_worker("csv"):
        page.locator("#id_file").set_input_files(
            files=FilePayload(name="people.csv", mimeType="text/csv", buffer=content.encode())
        )
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("#csv-progress")).to_have_attribute(
            "data-status", "SUCCEEDED", timeout=60_000
        )
    expect(page.locator("#csv-counts")).to_contain_text("2 of 2 rows applied")
    page.get_by_role("link", name="Back to the update history").click()
    expect(page.locator("#csv-history")).to_contain_text("people.csv")
    page.get_by_role("link", name="Profiles", exact=True).click()
    page.locator("#profile-q").fill(USER_ID)
    page.get_by_role("button", name="Search").click()
    result = page.locator("#profiles tbody a")
    expect(result).to_have_count(1)
    result.click()
    expect(page.locator("#traits")).to_contain_text(PLAN)
    expect(page.locator("#identities")).to_contain_text("zq42@example.org")
    assert refused == []
