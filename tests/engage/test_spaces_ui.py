"""Engage > Spaces pages: the empty state's Dev/Prod start, the create form, the
settings page's writes, and what each space role is shown and allowed."""

from __future__ import annotations

import pytest
from django.test import Client

from engage.models import Space, SpaceSource, SpaceToken
from engage.services.space_sources import do_connect_source
from engage.services.spaces import do_request_space_deletion
from engage.services.tokens import digest_of, space_for_token
from tests.engage.spaces_support import Acme, make_acme
from workspace.models import AuditEntry

pytestmark = pytest.mark.django_db

SPACES = "/workspaces/acme/engage/spaces/"


@pytest.fixture
def acme() -> Acme:
    return make_acme()


def browser(acme: Acme, user: object | None = None) -> Client:
    client = Client()
    client.force_login(user or acme.owner)  # type: ignore[arg-type]
    return client


def settings_url(space: str) -> str:
    return f"{SPACES}{space}/settings/"


def test_the_sidebar_has_an_engage_section_with_spaces(acme: Acme) -> None:
    page = browser(acme).get("/workspaces/acme/").content.decode()
    assert 'href="/workspaces/acme/engage/spaces/"' in page


def test_an_empty_workspace_offers_dev_and_prod_and_one_click_creates_them(acme: Acme) -> None:
    owner = browser(acme)
    page = owner.get(SPACES).content.decode()
    assert 'id="no-spaces"' in page
    assert 'id="create-dev"' in page and 'id="create-prod"' in page
    response = owner.post(SPACES, {"starter": "dev"})
    assert response.status_code == 302
    assert response["Location"] == settings_url("dev")
    owner.post(SPACES, {"starter": "prod"})
    dev, prod = Space.objects.get(slug="dev"), Space.objects.get(slug="prod")
    assert (dev.display_name, dev.label_names, dev.required_labels) == (
        "Dev",
        ["environment:dev"],
        ["environment:dev"],
    )
    assert prod.required_labels == ["environment:prod"]
    page = owner.get(SPACES).content.decode()
    assert 'id="space-dev"' in page and 'id="no-spaces"' not in page


def test_the_create_form_creates_or_shows_the_error_and_writes_nothing(acme: Acme) -> None:
    owner = browser(acme)
    bad = owner.post(f"{SPACES}new/", {"display_name": "Growth", "slug": "Not A Slug"})
    assert bad.status_code == 400
    assert "invalid slug" in bad.content.decode()
    assert not Space.objects.exists()
    good = owner.post(
        f"{SPACES}new/",
        {"display_name": "Growth", "slug": "growth", "labels": ["environment:prod"]},
    )
    assert good["Location"] == settings_url("growth")
    assert Space.objects.get(slug="growth").label_names == ["environment:prod"]


def test_the_settings_page_renames_and_sets_the_policy(acme: Acme) -> None:
    acme.space("dev")
    owner = browser(acme)
    response = owner.post(
        settings_url("dev"),
        {"display_name": "Development", "required_labels": ["environment:dev"]},
    )
    assert response.status_code == 302
    space = Space.objects.get(slug="dev")
    assert (space.display_name, space.required_labels) == ("Development", ["environment:dev"])


def test_connect_and_disconnect_a_source_from_the_page(acme: Acme) -> None:
    acme.space("dev", required_labels=["environment:dev"])
    acme.source("web", labels=["environment:dev"])
    acme.source("ios", labels=["environment:prod"])
    owner = browser(acme)
    owner.post(settings_url("dev") + "sources/", {"source": "ios"}, follow=True)
    refused = owner.get(settings_url("dev")).content.decode()
    assert not SpaceSource.objects.exists()
    owner.post(settings_url("dev") + "sources/", {"source": "web"})
    assert list(SpaceSource.objects.values_list("source__slug", flat=True)) == ["web"]
    page = owner.get(settings_url("dev")).content.decode()
    assert 'id="connected-web"' in page and 'id="connected-web"' not in refused
    owner.post(settings_url("dev") + "sources/web/disconnect/")
    assert not SpaceSource.objects.exists()


def test_a_token_is_shown_once_then_only_its_prefix_and_revoking_stops_it(acme: Acme) -> None:
    acme.space("dev")
    owner = browser(acme)
    page = owner.post(settings_url("dev") + "tokens/", {"description": "personalization"})
    token = SpaceToken.objects.get()
    body = page.content.decode()
    start = body.index('id="new-token"')
    secret = body[start:].split("<code>")[1].split("</code>")[0]
    assert digest_of(secret) == token.digest
    assert space_for_token(secret) == Space.objects.get(slug="dev")
    again = owner.get(settings_url("dev")).content.decode()
    assert secret not in again and f"{token.prefix}…" in again
    owner.post(settings_url("dev") + f"tokens/{token.pk}/revoke/")
    assert space_for_token(secret) is None


def test_deletion_needs_the_typed_name_shows_the_banner_and_cancels(acme: Acme) -> None:
    acme.space("dev")
    owner = browser(acme)
    owner.post(settings_url("dev") + "delete/", {"confirm_name": "dev-typo"})
    assert Space.objects.get(slug="dev").delete_time is None
    owner.post(settings_url("dev") + "delete/", {"confirm_name": "Dev"})
    assert Space.objects.get(slug="dev").delete_time is not None
    page = owner.get(settings_url("dev")).content.decode()
    assert 'id="deletion-banner"' in page and 'id="cancel-deletion"' in page
    owner.post(settings_url("dev") + "cancel-deletion/")
    assert Space.objects.get(slug="dev").delete_time is None
    assert list(
        AuditEntry.objects.filter(action__startswith="space.deletion")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["space.deletion_requested", "space.deletion_cancelled"]


def test_a_read_only_member_of_a_labelled_space_sees_only_it_and_cannot_edit(acme: Acme) -> None:
    prod = acme.space("prod", labels=["environment:prod"])
    acme.space("dev", labels=["environment:dev"])
    acme.source("web")
    do_connect_source(principal=acme.principal, space=prod, source=acme.source("app"))
    reader = acme.member(
        "unify-and-engage-read-only", scope="labels", labels=[acme.label("environment:prod")]
    )
    client = browser(acme, reader)
    listing = client.get(SPACES).content.decode()
    assert 'id="space-prod"' in listing and 'id="space-dev"' not in listing
    assert 'id="new-space"' not in listing
    assert client.get(settings_url("dev")).status_code == 404
    page = client.get(settings_url("prod")).content.decode()
    for control in ('id="settings-form"', 'id="token-form"', 'id="connect-form"', "Disconnect"):
        assert control not in page
    assert 'id="delete-form"' not in page
    before = AuditEntry.objects.count()
    assert client.post(settings_url("prod"), {"display_name": "Mine"}).status_code == 403
    assert client.post(settings_url("prod") + "tokens/", {}).status_code == 403
    assert client.post(settings_url("prod") + "sources/", {"source": "web"}).status_code == 403
    assert client.post(settings_url("prod") + "sources/app/disconnect/").status_code == 403
    assert (
        client.post(settings_url("prod") + "delete/", {"confirm_name": "Prod"}).status_code == 403
    )
    assert client.post(f"{SPACES}new/", {"display_name": "X", "slug": "x"}).status_code == 403
    assert AuditEntry.objects.count() == before
    assert Space.objects.get(slug="prod").display_name == "Prod"


def test_an_admin_of_a_listed_space_edits_it_but_cannot_delete_it(acme: Acme) -> None:
    prod = acme.space("prod")
    admin = acme.member("unify-and-engage-admin", scope="specific", resources=[prod])
    client = browser(acme, admin)
    page = client.get(settings_url("prod")).content.decode()
    assert 'id="settings-form"' in page and 'id="token-form"' in page
    assert 'id="delete-form"' not in page
    client.post(settings_url("prod"), {"display_name": "Production"})
    assert Space.objects.get(slug="prod").display_name == "Production"
    assert (
        client.post(settings_url("prod") + "delete/", {"confirm_name": "Production"}).status_code
        == 403
    )
    assert Space.objects.get(slug="prod").delete_time is None
    # Not all spaces: no creating new ones.
    assert 'id="new-space"' not in client.get(SPACES).content.decode()


def test_an_engage_user_cannot_edit_space_settings(acme: Acme) -> None:
    acme.space("prod")
    user = acme.member("unify-read-only-engage-user")
    client = browser(acme, user)
    assert 'id="settings-form"' not in client.get(settings_url("prod")).content.decode()
    assert client.post(settings_url("prod"), {"display_name": "Mine"}).status_code == 403


def test_owners_cancel_from_the_banner_others_only_see_it(acme: Acme) -> None:
    prod = acme.space("prod")
    do_request_space_deletion(principal=acme.principal, space=prod)
    admin = acme.member("unify-and-engage-admin")
    page = browser(acme, admin).get(settings_url("prod")).content.decode()
    assert 'id="deletion-banner"' in page and 'id="cancel-deletion"' not in page
    assert browser(acme, admin).post(settings_url("prod") + "cancel-deletion/").status_code == 403
    assert Space.objects.get(slug="prod").delete_time is not None
