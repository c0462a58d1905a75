"""The UI kit: workspace pages resolve their object through the authorization module
(404 for what the user may not see, 403 for what they may see but not do), the
403/404 pages keep the app's layout, and service errors land on form fields."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django import forms
from django.contrib.auth.models import User
from django.test import Client

from connections.models import Destination, Source
from connections.services.destinations import do_create_destination
from connections.services.sources import do_create_source
from switchyard import errors
from switchyard.access import Principal
from switchyard.ui import add_service_error, get_object
from workspace.models import Membership, Workspace
from workspace.services.grants import do_create_grant

KIT = "/workspaces/acme/kit/web/"
WORKSPACE_NAV = 'aria-label="Workspace"'


@pytest.fixture
def acme(alice: User, make_workspace: Callable[..., Workspace]) -> Workspace:
    workspace = make_workspace(alice, "acme", "Acme")
    do_create_source(
        principal=Principal(alice), workspace=workspace, slug="web", display_name="Web"
    )
    return workspace


@pytest.fixture
def web(acme: Workspace) -> Source:
    return Source.objects.get(workspace=acme, slug="web")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner(alice: User, acme: Workspace) -> Client:
    return signed_in(alice)


@pytest.fixture
def member(acme: Workspace, make_user: Callable[..., User]) -> User:
    """In the workspace, with no grant: sees the workspace, none of its sources."""
    user = make_user("mo")
    Membership.objects.create(workspace=acme, user=user)
    return user


@pytest.fixture
def reader(acme: Workspace, alice: User, make_user: Callable[..., User]) -> User:
    """Sees every source of the workspace and may change none."""
    user = make_user("rita")
    Membership.objects.create(workspace=acme, user=user)
    do_create_grant(
        principal=Principal(alice),
        workspace=acme,
        grantee=user,
        role="source-read-only",
        scope="all",
    )
    return user


def page(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


# --- the kit on its own (tests/switchyard/ui_kit_urls.py) -------------------------------


@pytest.mark.django_db
@pytest.mark.urls("tests.switchyard.ui_kit_urls")
class TestWorkspaceView:
    def test_the_view_gets_the_principal_the_workspace_and_the_object(
        self, owner: Client, web: Source
    ) -> None:
        assert page(owner.get(KIT)) == "alice|acme|web|GET"
        assert page(owner.post(KIT)) == "alice|acme|web|POST"

    def test_seen_but_not_allowed_is_the_styled_403(self, reader: User, web: Source) -> None:
        client = signed_in(reader)
        assert client.get(KIT).status_code == 200  # viewing is allowed
        refused = client.post(KIT)
        assert refused.status_code == 403
        html = page(refused)
        assert 'id="error-403"' in html and "Kit refusal." in html
        assert WORKSPACE_NAV in html and 'href="/workspaces/acme/sources/"' in html

    def test_unseen_object_is_the_styled_404_in_the_workspace_layout(
        self, member: User, web: Source
    ) -> None:
        for method in ("get", "post"):
            response = getattr(signed_in(member), method)(KIT)
            assert response.status_code == 404
            html = page(response)
            assert 'id="error-404"' in html and WORKSPACE_NAV in html
            assert 'id="user-menu"' in html

    def test_hidden_and_missing_objects_answer_alike(
        self, owner: Client, member: User, web: Source
    ) -> None:
        missing = owner.get("/workspaces/acme/kit/nope/")
        hidden = signed_in(member).get(KIT)
        assert missing.status_code == hidden.status_code == 404
        for response in (missing, hidden):
            assert 'id="error-404"' in page(response)
            assert "source not found" not in page(response)  # the error's text is not shown

    def test_stranger_gets_the_404_without_the_workspace_nav(self, bob: User, web: Source) -> None:
        response = signed_in(bob).get(KIT)
        assert response.status_code == 404
        html = page(response)
        assert 'id="error-404"' in html and WORKSPACE_NAV not in html
        assert "Acme" not in html

    def test_anonymous_users_are_sent_to_sign_in(self, web: Source) -> None:
        response = Client().get(KIT)
        assert response.status_code == 302
        assert response["Location"].startswith("/login?next=")

    def test_a_refusal_the_view_lets_through_is_the_403_page(self, owner: Client) -> None:
        response = owner.get("/workspaces/acme/kit-refuses/")
        assert response.status_code == 403
        assert "The service said no" in page(response)


@pytest.mark.django_db
def test_get_object_asks_require_like_the_api(
    web: Source, reader: User, member: User, alice: User
) -> None:
    sources = Source.objects.filter(pk=web.pk)
    assert get_object(Principal(alice), sources, "change") == web
    assert get_object(Principal(reader), sources) == web
    with pytest.raises(errors.PermissionDenied):
        get_object(Principal(reader), sources, "change")
    with pytest.raises(errors.PermissionDenied, match=r"^read only$"):
        get_object(Principal(reader), sources, "delete", refusal="read only")
    with pytest.raises(errors.NotFound):
        get_object(Principal(member), sources)
    with pytest.raises(errors.NotFound):
        get_object(Principal(member), sources, "change")


# --- the app's pages on the kit -------------------------------------------------------------


@pytest.mark.django_db
def test_member_opening_a_source_they_may_not_see_gets_the_styled_404(
    member: User, web: Source
) -> None:
    client = signed_in(member)
    for url in ("/workspaces/acme/sources/web/", "/workspaces/acme/sources/web/debugger/"):
        response = client.get(url)
        assert response.status_code == 404, url
        html = page(response)
        assert 'id="error-404"' in html and WORKSPACE_NAV in html


@pytest.mark.django_db
def test_reader_saving_a_destination_gets_the_styled_403(
    reader: User, alice: User, web: Source
) -> None:
    destination = do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        settings={"url": "https://equals.example.com/hook"},
    )
    url = f"/workspaces/acme/sources/web/destinations/{destination.key_id}/"
    response = signed_in(reader).post(url, {"intent": "save", "display_name": "Hacked"})
    assert response.status_code == 403
    html = page(response)
    assert 'id="error-403"' in html and WORKSPACE_NAV in html
    assert "You have read-only access to this destination." in html
    assert Destination.objects.get(pk=destination.pk).display_name != "Hacked"


@pytest.mark.django_db
def test_owner_only_pages_refuse_members_with_the_styled_403(member: User) -> None:
    response = signed_in(member).get("/workspaces/acme/settings/access/")
    assert response.status_code == 403
    html = page(response)
    assert "Only Workspace Owners manage access." in html and WORKSPACE_NAV in html


@pytest.mark.django_db
def test_unknown_page_is_the_styled_404_for_anyone() -> None:
    response = Client().get("/no/such/page")
    assert response.status_code == 404
    html = page(response)
    assert 'id="error-404"' in html and 'class="navbar' in html
    assert 'href="/login?next=/no/such/page"' in html


@pytest.mark.django_db
def test_api_paths_keep_their_json_envelope(member: User) -> None:
    response = signed_in(member).get("/v1beta/no/such/thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


# --- service errors on forms --------------------------------------------------------------


class DemoForm(forms.Form):
    slug = forms.CharField()
    s_url = forms.CharField(required=False)
    condition = forms.CharField(required=False)


def bound() -> DemoForm:
    form = DemoForm({"slug": "acme"})
    assert form.is_valid()
    return form


def test_a_field_error_lands_on_the_field() -> None:
    form = bound()
    add_service_error(form, errors.AlreadyExists("acme is taken", field="slug"))
    assert form.errors == {"slug": ["acme is taken"]}
    assert form.non_field_errors() == []


def test_an_error_naming_no_field_goes_above_the_form() -> None:
    form = bound()
    add_service_error(form, errors.PermissionDenied("you may not change this"))
    assert form.non_field_errors() == ["you may not change this"]
    assert "slug" not in form.errors


def test_an_error_naming_a_field_the_form_lacks_goes_above_the_form() -> None:
    form = bound()
    add_service_error(form, errors.InvalidArgument("bad page token", field="page_token"))
    assert form.non_field_errors() == ["bad page token"]


def test_field_names_are_translated_exactly_by_prefix_or_by_a_function() -> None:
    form = bound()
    add_service_error(form, errors.AlreadyExists("taken", field="name"), {"name": "slug"})
    add_service_error(
        form, errors.InvalidArgument("not a URL", field="settings.url"), {"settings.": "s_"}
    )
    add_service_error(
        form,
        errors.InvalidArgument("bad FQL", field="if"),
        lambda field: "condition" if field == "if" else None,
    )
    assert form.errors == {"slug": ["taken"], "s_url": ["not a URL"], "condition": ["bad FQL"]}
