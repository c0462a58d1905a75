"""An owner invites a member, grants a group Source Admin on environment:prod and adds
the member; the member signs up through the invite and sees only prod sources."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Browser, expect

from connections.services.sources import do_create_source
from switchyard.access import Principal
from tests.browser.support import PASSWORD, sign_in
from workspace.services.workspaces import do_create_workspace

pytestmark = pytest.mark.browser


def test_invite_group_grant_and_member_sees_only_prod(
    live_server: Any, browser: Browser, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="olivia", password=PASSWORD)
    workspace = do_create_workspace(principal=Principal(owner), slug="acme", display_name="Acme")
    for slug, env in (("web-prod", "prod"), ("ios-prod", "prod"), ("web-dev", "dev")):
        do_create_source(
            principal=Principal(owner),
            workspace=workspace,
            slug=slug,
            display_name=slug,
            labels=[f"environment:{env}"],
        )
    base = live_server.url
    access = f"{base}/workspaces/acme/settings/access"

    admin = browser.new_context().new_page()
    sign_in(admin, base, "olivia")
    admin.get_by_role("link", name="Access Management").click()
    expect(admin).to_have_url(f"{access}/")
    admin.get_by_label("Email").fill("mia@example.com")
    admin.get_by_role("button", name="Send invitation").click()
    expect(admin.get_by_text("Invitation sent to mia@example.com.")).to_be_visible()
    link = next(word for word in mail.outbox[-1].body.split() if "/invites/" in word)

    member = browser.new_context().new_page()
    member.goto(link.replace("http://127.0.0.1:8000", base))
    expect(member.get_by_role("heading", name="Join Acme")).to_be_visible()
    member.get_by_label("Username").fill("mia")
    member.get_by_label("Password").fill("a-long-passphrase")
    member.get_by_role("button", name="Create account and join").click()
    expect(member).to_have_url(f"{base}/workspaces/acme/")
    member.goto(f"{base}/workspaces/acme/sources/")
    expect(member.get_by_text("No sources you can see.")).to_be_visible()

    admin.get_by_role("link", name="User Groups").click()
    admin.get_by_label("Name").fill("Prod admins")
    admin.get_by_role("button", name="Create group").click()
    admin.get_by_role("link", name="Prod admins").click()
    admin.locator("#id_role").select_option(label="Source Admin")
    admin.locator("#id_scope").select_option("labels")
    admin.locator("#id_labels").select_option(label="environment:prod")
    admin.get_by_role("button", name="Grant").click()
    expect(admin.get_by_text("Role granted.")).to_be_visible()
    admin.locator("#add-user").select_option(label="mia")
    admin.get_by_role("button", name="Add to group").click()
    expect(admin.get_by_text("Added mia to Prod admins.")).to_be_visible()

    member.reload()
    rows = member.locator("#sources tbody tr[data-source]")
    expect(rows).to_have_count(2)
    expect(member.locator('tr[data-source="web-prod"]')).to_be_visible()
    expect(member.locator('tr[data-source="ios-prod"]')).to_be_visible()
    expect(member.locator('tr[data-source="web-dev"]')).to_have_count(0)
    assert member.goto(f"{base}/workspaces/acme/sources/web-dev/").status == 404
