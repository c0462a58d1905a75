"""A member clicks through the workspace and is offered no control they may not
use; once granted Source Admin on a source, that source's controls appear, and
their home page and their Access Management page name the role and its sources."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from workspace.models import Membership, UserGroup
from workspace.services.grants import do_create_grant
from workspace.services.workspaces import do_create_workspace

pytestmark = pytest.mark.browser


def _sign_in(page: Page, base: str, username: str) -> None:
    sign_in(page, base, username)


def test_a_member_sees_only_the_controls_they_may_use(
    live_server: Any, browser: Browser, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    mia = django_user_model.objects.create_user(username="mia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    Membership.objects.create(workspace=workspace, user=mia)
    web = do_create_source(
        principal=Principal(owner),
        workspace=workspace,
        slug="web",
        display_name="Web",
        labels=["environment:prod"],
    )
    destination = do_create_destination(
        principal=Principal(owner),
        source=web,
        definition="actions-equals",
        settings={"url": "https://equals.example.com/hook"},
        presets=True,
    )
    readers = UserGroup.objects.create(workspace=workspace, name="Readers")
    readers.members.add(mia)
    do_create_grant(
        principal=Principal(owner),
        workspace=workspace,
        grantee=readers,
        role="source-read-only",
        scope="all",
    )
    base = live_server.url
    page = browser.new_context().new_page()
    _sign_in(page, base, "mia")

    # Settings: the workspace read-only, no Rename or Delete form.
    page.get_by_role("link", name="General").click()
    expect(page.get_by_text("Only a Workspace Owner can rename or delete")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete workspace")).to_have_count(0)
    expect(page.get_by_role("link", name="Access Management")).to_have_count(0)

    # Connections: the source is listed, with no way to add anything.
    page.get_by_role("link", name="Overview").click()
    expect(page.locator('tr[data-source="web"]')).to_be_visible()
    expect(page.get_by_role("link", name="Add source")).to_have_count(0)
    expect(page.get_by_role("link", name="Add destination")).to_have_count(0)

    # The source and its destination read, never offer a change.
    page.get_by_role("link", name="Web", exact=True).first.click()
    expect(page.locator("#read-only-note")).to_be_visible()
    for name in ("Save", "Delete source", "Create write key"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    row = page.locator(f'tr[data-destination="{destination.key_id}"]')
    row.get_by_role("link", name=destination.display_name, exact=True).click()
    expect(page.locator("#read-only-note")).to_be_visible()
    expect(page.get_by_label("Destination name")).to_be_disabled()
    expect(page.get_by_role("button", name="Save changes")).to_have_count(0)
    expect(page.get_by_role("button", name="Enable destination")).to_have_count(0)
    page.get_by_role("link", name="Mappings").click()
    expect(page.locator("#mappings tbody tr[data-mapping]").first).to_be_visible()
    expect(page.get_by_role("link", name="Add mapping")).to_have_count(0)
    expect(page.locator("#mappings form")).to_have_count(0)
    page.get_by_role("link", name="Test").click()
    expect(page.get_by_role("button", name="Test event")).to_be_visible()
    expect(page.get_by_role("button", name="Send test event to destination")).to_have_count(0)

    # Granted Source Admin on web, the same pages offer its controls.
    do_create_grant(
        principal=Principal(owner),
        workspace=workspace,
        grantee=mia,
        role="source-admin",
        scope="specific",
        resources=[web],
    )
    page.reload()
    expect(page.get_by_role("button", name="Send test event to destination")).to_be_visible()
    page.get_by_role("link", name="Mappings").click()
    expect(page.get_by_role("link", name="Add mapping")).to_be_visible()
    page.get_by_role("link", name="Home").click()
    your_access = page.locator("#your-access")
    expect(your_access).to_contain_text("Source Admin")
    expect(your_access).to_contain_text("Source Read-only (via group Readers)")
    expect(your_access.get_by_role("link", name="Web")).to_be_visible()

    # The owner reads mia's access: role names, the sources reached, the group's
    # grant linked to the group and not revocable from her page.
    admin = browser.new_context().new_page()
    _sign_in(admin, base, "olivia")
    admin.goto(f"{base}/workspaces/acme/settings/access/users/{mia.pk}/")
    rows = admin.locator("#effective-access tbody tr")
    own = rows.filter(has_text="own grant")
    expect(own).to_contain_text("Source Admin")
    expect(own.get_by_role("link", name="Web")).to_be_visible()
    expect(own.get_by_role("button", name="Revoke")).to_be_visible()
    via = rows.filter(has_text="via group")
    expect(via).to_contain_text("Source Read-only")
    expect(via).to_contain_text("All sources: 1 now")
    expect(via.get_by_role("button", name="Revoke")).to_have_count(0)
    via.get_by_role("link", name="Readers").click()
    expect(admin.get_by_role("heading", name="Readers")).to_be_visible()
