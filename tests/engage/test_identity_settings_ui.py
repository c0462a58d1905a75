"""A space's Identity resolution settings page: the table in priority order, edits
with their errors, custom identifiers, import, and who gets which page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from engage.models import IdentifierSetting, Space
from tests.engage.identity_support import add_member, make_space
from workspace.models import AuditEntry, Workspace

pytestmark = pytest.mark.django_db

URL = "/workspaces/acme/engage/spaces/prod/identity/"
EDIT = {"priority": "2", "limit": "5", "period": "ANNUALLY", "exact": "null\n-1", "patterns": ""}


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    return make_workspace(alice, "acme", "Acme")


@pytest.fixture
def space(acme: Workspace) -> Space:
    return make_space(acme)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner(alice: User, space: Space) -> Client:
    return signed_in(alice)


def state(space: Space) -> tuple[list[tuple[Any, ...]], int]:
    rows = IdentifierSetting.objects.filter(space=space).order_by("priority")
    values = list(rows.values_list("type", "priority", "limit", "period", "blocked_values"))
    return values, AuditEntry.objects.count()


def test_the_page_lists_identifiers_in_priority_order(owner: Client) -> None:
    page = owner.get(URL)
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [r.type for r in rows][:3] == ["user_id", "email", "android.id"]
    html = page.content.decode()
    assert 'data-type="ios.push_token"' in html
    assert "Changes apply only to new data" in html
    assert 'id="add-identifier"' in html


def test_an_identifier_is_edited_and_a_bad_pattern_is_shown_on_the_form(
    owner: Client, space: Space
) -> None:
    url = f"{URL}identifiers/email/"
    assert owner.get(url).context["form"].initial["limit"] == 5
    before = state(space)
    bad = owner.post(url, {**EDIT, "patterns": "(?<=x)y"})
    assert bad.status_code == 400
    assert "not a valid regular expression" in bad.content.decode()
    assert state(space) == before
    saved = owner.post(url, {**EDIT, "limit": "3", "priority": "1"})
    assert saved.status_code == 302
    email = IdentifierSetting.objects.get(space=space, type="email")
    assert (email.limit, email.priority) == (3, 1)
    assert email.blocked_values == [
        {"value": "null", "kind": "EXACT"},
        {"value": "-1", "kind": "EXACT"},
    ]


def test_custom_identifiers_are_added_lower_case_and_removed(owner: Client, space: Space) -> None:
    form = {"type": "Phone", "limit": "2", "period": "EVER", "exact": "", "patterns": ""}
    refused = owner.post(URL, form)
    assert refused.status_code == 400
    assert "must be lower-case" in refused.content.decode()
    assert owner.post(URL, {**form, "type": "phone"}).status_code == 302
    phone = IdentifierSetting.objects.get(space=space, type="phone")
    assert (phone.priority, phone.limit, phone.custom) == (12, 2, True)
    assert owner.post(f"{URL}identifiers/phone/remove/").status_code == 302
    assert not IdentifierSetting.objects.filter(space=space, type="phone").exists()
    owner.post(f"{URL}identifiers/email/remove/")
    assert IdentifierSetting.objects.filter(space=space, type="email").exists()


def test_settings_are_imported_from_another_space(
    owner: Client, acme: Workspace, space: Space
) -> None:
    dev = make_space(acme, "dev")
    IdentifierSetting.objects.filter(space=dev, type="email").update(limit=1)
    page = owner.get(URL)
    assert ("dev", "dev") in page.context["import_form"].fields["from_space"].choices
    assert owner.post(f"{URL}import/", {"from_space": "dev"}).status_code == 302
    assert IdentifierSetting.objects.get(space=space, type="email").limit == 1
    assert AuditEntry.objects.filter(action="identifiers.imported").count() == 1


def test_a_member_without_a_role_gets_404_and_a_reader_gets_no_forms(
    alice: User, acme: Workspace, space: Space, make_user: Callable[..., User]
) -> None:
    nobody = signed_in(add_member(alice, acme, make_user(email="n@example.com")))
    assert nobody.get(URL).status_code == 404
    reader_user = add_member(
        alice, acme, make_user(email="r@example.com"), "unify-and-engage-read-only"
    )
    reader = signed_in(reader_user)
    page = reader.get(URL)
    assert page.status_code == 200
    assert 'id="add-identifier"' not in page.content.decode()
    before = state(space)
    assert reader.post(f"{URL}identifiers/email/", {**EDIT, "limit": "1"}).status_code == 403
    assert state(space) == before


def test_an_identity_admin_edits_through_the_page(
    alice: User, acme: Workspace, space: Space, make_user: Callable[..., User]
) -> None:
    admin = signed_in(add_member(alice, acme, make_user(email="i@example.com"), "identity-admin"))
    assert admin.get(URL).status_code == 200
    assert admin.post(f"{URL}identifiers/email/", {**EDIT, "limit": "4"}).status_code == 302
    assert IdentifierSetting.objects.get(space=space, type="email").limit == 4


def test_the_space_s_tabs_link_to_the_page(owner: Client) -> None:
    profiles = owner.get("/workspaces/acme/engage/spaces/prod/profiles/")
    assert profiles.status_code == 200
    assert f'href="{URL}"' in profiles.content.decode()
