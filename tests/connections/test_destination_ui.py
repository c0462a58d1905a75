"""The destination pages with the Django client: the add flow, settings, mappings
(trigger builder, field JSON), filters, the test panel and read-only access."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from connections.models import Destination, DestinationFilter, Source, Subscription
from connections.services.destinations import do_create_destination
from connections.services.filters import do_create_filter
from connections.services.sources import do_create_source
from connections.services.subscriptions import do_create_subscription
from switchyard.access import Principal
from workspace.models import Membership, Workspace
from workspace.services.grants import do_create_grant

pytestmark = pytest.mark.django_db

ADD = "/workspaces/acme/destinations/new/"
EQUALS_URL = "https://equals.example.com/hook/abc"


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


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def owner(alice: User, acme: Workspace, client_for: Callable[[User], Client]) -> Client:
    return client_for(alice)


def page_of(destination: Destination) -> str:
    return f"/workspaces/acme/sources/{destination.source.slug}/destinations/{destination.key_id}/"


@pytest.fixture
def equals(alice: User, web: Source) -> Destination:
    return do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="actions-equals",
        settings={"url": EQUALS_URL},
        presets=True,
    )


@pytest.fixture
def userengage(alice: User, web: Source) -> Destination:
    return do_create_destination(
        principal=Principal(alice),
        source=web,
        definition="userengage",
        settings={"api_key": "ue-secret-key-123"},
    )


@pytest.fixture
def webhook(alice: User, web: Source) -> Destination:
    return do_create_destination(
        principal=Principal(alice), source=web, definition="actions-webhook", settings={}
    )


def html(response: Any) -> str:
    return response.content.decode()


# --- the add flow -------------------------------------------------------------------------


def test_add_flow_steps(owner: Client, acme: Workspace) -> None:
    catalog_step = html(owner.get(ADD + "?q=equals"))
    assert 'data-definition="actions-equals"' in catalog_step
    assert 'data-definition="userengage"' not in catalog_step
    source_step = html(owner.get(ADD + "?definition=actions-equals"))
    assert 'data-source="web"' in source_step
    settings_step = owner.get(ADD + "?definition=actions-equals&source=web")
    body = html(settings_step)
    assert 'name="s_url"' in body and "Equals URL" in body
    assert 'name="quick_setup" id="id_quick_setup" checked' in body
    assert 'name="enabled"' in body


def test_source_shortcut_redirects_to_the_flow(owner: Client, web: Source) -> None:
    response = owner.get("/workspaces/acme/sources/web/destinations/new/")
    assert response.status_code == 302
    assert response["Location"] == ADD + "?source=web"


def test_add_creates_with_presets_and_redirects(owner: Client, web: Source) -> None:
    response = owner.post(
        ADD,
        {
            "definition": "actions-equals",
            "source": "web",
            "display_name": "Equals prod",
            "s_url": EQUALS_URL,
            "quick_setup": "on",
            "enabled": "on",
        },
    )
    destination = Destination.objects.get(source=web)
    assert response.status_code == 302
    assert response["Location"] == page_of(destination)
    assert destination.display_name == "Equals prod"
    assert destination.enabled is True
    assert destination.settings == {"url": EQUALS_URL}
    assert [(s.name, s.action, s.enabled) for s in destination.subscriptions.all()] == [
        ("Send", "send", True)
    ]


def test_add_without_quick_setup_creates_no_mappings(owner: Client, web: Source) -> None:
    owner.post(ADD, {"definition": "actions-equals", "source": "web", "s_url": EQUALS_URL})
    destination = Destination.objects.get(source=web)
    assert destination.enabled is False
    assert destination.subscriptions.count() == 0


def test_missing_required_setting_rerenders_and_creates_nothing(owner: Client, web: Source) -> None:
    response = owner.post(
        ADD, {"definition": "actions-equals", "source": "web", "s_url": "", "quick_setup": "on"}
    )
    assert response.status_code == 400
    body = html(response)
    assert "setting &#x27;Equals URL&#x27; (url) is required" in body
    # The message sits under the URL input, which is marked invalid.
    field = body[body.index('name="s_url"') - 200 : body.index("(url) is required")]
    assert "is-invalid" in field
    assert not Destination.objects.exists()


def test_secret_is_never_echoed(owner: Client, web: Source) -> None:
    response = owner.post(
        ADD, {"definition": "userengage", "source": "web", "s_api_key": "", "quick_setup": "on"}
    )
    assert response.status_code == 400
    response = owner.post(
        ADD,
        {"definition": "userengage", "source": "web", "s_api_key": "ue-secret-key-123"},
    )
    destination = Destination.objects.get(source=web)
    assert destination.settings["api_key"] == "ue-secret-key-123"
    page = html(owner.get(page_of(destination)))
    assert "ue-secret-key-123" not in page
    assert 'type="password"' in page
    assert ">set</span>" in page


# --- settings -------------------------------------------------------------------------------


def test_settings_save_keeps_blank_secret(owner: Client, userengage: Destination) -> None:
    response = owner.post(
        page_of(userengage), {"intent": "save", "display_name": "UE", "s_api_key": ""}
    )
    assert response.status_code == 302
    userengage.refresh_from_db()
    assert userengage.display_name == "UE"
    assert userengage.settings["api_key"] == "ue-secret-key-123"
    owner.post(
        page_of(userengage), {"intent": "save", "display_name": "UE", "s_api_key": "new-key"}
    )
    userengage.refresh_from_db()
    assert userengage.settings["api_key"] == "new-key"


def test_settings_error_shows_at_field(owner: Client, equals: Destination) -> None:
    response = owner.post(page_of(equals), {"intent": "save", "display_name": "E", "s_url": ""})
    assert response.status_code == 400
    assert "(url) is required" in html(response)
    equals.refresh_from_db()
    assert equals.settings == {"url": EQUALS_URL}
    assert equals.display_name == "Equals"


def test_enable_toggle(owner: Client, equals: Destination) -> None:
    assert equals.enabled is False
    response = owner.post(page_of(equals), {"intent": "enable", "enabled": "1"})
    assert response.status_code == 302
    equals.refresh_from_db()
    assert equals.enabled is True
    assert "Disable destination" in html(owner.get(page_of(equals)))
    owner.post(page_of(equals), {"intent": "enable", "enabled": "0"})
    equals.refresh_from_db()
    assert equals.enabled is False


def test_delete_needs_confirm_step(owner: Client, equals: Destination) -> None:
    assert "Yes, delete" not in html(owner.get(page_of(equals)))
    confirm = html(owner.get(page_of(equals) + "?tab=settings&delete=1"))
    assert "Yes, delete Equals" in confirm
    response = owner.post(page_of(equals), {"intent": "delete"})
    assert response.status_code == 302
    assert response["Location"] == "/workspaces/acme/sources/web/"
    assert not Destination.objects.exists()


# --- mappings -------------------------------------------------------------------------------


def mapping_post(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Orders",
        "action": "send",
        "enabled": "on",
        "match": "all",
        "cond_field": ["type", "event"],
        "cond_path": ["", ""],
        "cond_op": ["is", "starts_with"],
        "cond_value": ["track", "Order"],
        "trigger": "",
        "f_data": '{"@path": "$.properties"}',
    }
    data.update(extra)
    return data


def test_mappings_tab_lists_presets(owner: Client, equals: Destination) -> None:
    body = html(owner.get(page_of(equals) + "?tab=mappings"))
    preset = equals.subscriptions.get()
    assert f'data-mapping="{preset.key_id}"' in body
    assert "Add mapping" in body and "mappings/new/" in body


def test_mapping_create_with_builder_rows(owner: Client, equals: Destination) -> None:
    response = owner.post(page_of(equals) + "mappings/new/", mapping_post())
    assert response.status_code == 302, html(response)
    created = equals.subscriptions.get(name="Orders")
    assert created.trigger == 'type = "track" and match(event, "Order*")'
    assert created.mapping == {"data": {"@path": "$.properties"}}
    assert created.enabled is True


def test_mapping_edit_shows_rows_and_saves(owner: Client, equals: Destination) -> None:
    preset = equals.subscriptions.get()
    url = page_of(equals) + f"mappings/{preset.key_id}/"
    body = html(owner.get(url))
    # The preset's trigger is shown as five ANY rows of "Event type is ...".
    assert (
        body.count('class="row g-2 mb-2 align-items-center trigger-condition"') == 6
    )  # + template
    assert 'value="identify"' in body
    assert '<option value="any" selected>' in body
    # The preset's {"@path": "$."} shows in the path picker.
    assert 'name="p_data" id="id_p_data" list="event-paths" value="$."' in body
    response = owner.post(
        url,
        mapping_post(
            name="Only pages",
            enabled="",
            match="any",
            cond_field=["type"],
            cond_path=[""],
            cond_op=["is"],
            cond_value=["page"],
        ),
    )
    assert response.status_code == 302
    preset.refresh_from_db()
    assert (preset.name, preset.trigger, preset.enabled) == ("Only pages", 'type = "page"', False)


def test_raw_fql_wins_and_errors_show_position(owner: Client, equals: Destination) -> None:
    response = owner.post(
        page_of(equals) + "mappings/new/", mapping_post(trigger='type = "track" and')
    )
    assert response.status_code == 400
    body = html(response)
    assert "invalid FQL at position" in body
    assert 'id="trigger-error"' in body
    assert equals.subscriptions.count() == 1
    response = owner.post(page_of(equals) + "mappings/new/", mapping_post(trigger='event = "X"'))
    assert response.status_code == 302
    assert equals.subscriptions.get(name="Orders").trigger == 'event = "X"'


def test_builder_row_error(owner: Client, equals: Destination) -> None:
    response = owner.post(
        page_of(equals) + "mappings/new/",
        mapping_post(
            cond_field=["property"],
            cond_path=["properties.total"],
            cond_op=["gt"],
            cond_value=["lots"],
        ),
    )
    assert response.status_code == 400
    assert "needs a number" in html(response)
    assert equals.subscriptions.count() == 1


def test_invalid_field_json_names_the_field(owner: Client, webhook: Destination) -> None:
    response = owner.post(
        page_of(webhook) + "mappings/new/",
        mapping_post(f_data="", f_url="https://example.com/in", f_method="POST"),
    )
    assert response.status_code == 400
    body = html(response)
    assert "Method: not valid JSON" in body
    assert re.search(r'<textarea [^>]*name="f_method" id="id_f_method"[^>]*>POST</textarea>', body)
    assert not webhook.subscriptions.exists()
    response = owner.post(
        page_of(webhook) + "mappings/new/",
        mapping_post(f_data="", f_url='"https://example.com/in"', f_method='"POST"'),
    )
    assert response.status_code == 302
    assert webhook.subscriptions.get().mapping == {
        "url": "https://example.com/in",
        "method": "POST",
    }


def test_missing_required_field(owner: Client, webhook: Destination) -> None:
    response = owner.post(
        page_of(webhook) + "mappings/new/", mapping_post(f_url="", f_method='"POST"')
    )
    assert response.status_code == 400
    assert "(url) is required" in html(response)
    assert not webhook.subscriptions.exists()


def test_action_change_reloads_fields(owner: Client, userengage: Destination) -> None:
    response = owner.get(page_of(userengage) + "mappings/new/fields/?action=identify_user")
    body = html(response)
    assert 'name="m_user_id"' in body and 'name="m_email"' in body
    assert 'name="p_email" id="id_p_email" list="event-paths" value="$.traits.email"' in body


def test_trigger_preview(owner: Client, equals: Destination) -> None:
    url = page_of(equals) + "mappings/new/trigger/"
    body = html(owner.post(url, mapping_post()))
    assert "type = &quot;track&quot; and match(event, &quot;Order*&quot;)" in body
    body = html(owner.post(url, mapping_post(trigger="type =")))
    assert "invalid FQL at position" in body


def test_mapping_toggle_and_delete(owner: Client, equals: Destination) -> None:
    preset = equals.subscriptions.get()
    base = page_of(equals) + f"mappings/{preset.key_id}/"
    response = owner.post(base + "toggle/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    preset.refresh_from_db()
    assert preset.enabled is False
    assert f'id="mapping-{preset.key_id}"' in html(response) and ">Off</button>" in html(response)
    owner.post(base + "toggle/")
    preset.refresh_from_db()
    assert preset.enabled is True
    owner.post(base + "delete/")
    assert not Subscription.objects.exists()


def test_51st_mapping_is_refused(owner: Client, alice: User, webhook: Destination) -> None:
    Subscription.objects.bulk_create(
        Subscription(
            destination=webhook,
            key_id=f"sub_{i}",
            name=f"m{i}",
            action="send",
            trigger='type = "track"',
            mapping={"url": "https://x", "method": "POST"},
            position=i,
        )
        for i in range(50)
    )
    tab = html(owner.get(page_of(webhook) + "?tab=mappings"))
    assert "At most 50 mappings" in tab
    response = owner.post(
        page_of(webhook) + "mappings/new/",
        mapping_post(f_data="", f_url='"https://example.com"', f_method='"POST"'),
    )
    assert response.status_code == 400
    assert "at most 50 mappings" in html(response)
    assert webhook.subscriptions.count() == 50


# --- filters --------------------------------------------------------------------------------


def test_filter_create_with_sample_and_drop_properties(owner: Client, equals: Destination) -> None:
    response = owner.post(
        page_of(equals) + "filters/new/",
        {
            "title": "Trim PII",
            "description": "no emails",
            "enabled": "on",
            "condition": 'type = "track"',
            "sample": "on",
            "sample_percent": "25",
            "sample_path": "userId",
            "drop_properties": "on",
            "drop_fields": "properties.email\nuserId\ncontext.ip\n",
        },
    )
    assert response.status_code == 302, html(response)
    row = DestinationFilter.objects.get(destination=equals)
    assert row.condition == 'type = "track"'
    assert row.actions == [
        {"type": "SAMPLE", "percent": 0.25, "path": "userId"},
        {
            "type": "DROP_PROPERTIES",
            "fields": {"": ["userId"], "properties": ["email"], "context": ["ip"]},
        },
    ]
    tab = html(owner.get(page_of(equals) + "?tab=filters"))
    assert "Sample 25% by userId" in tab
    edit = html(owner.get(page_of(equals) + f"filters/{row.key_id}/"))
    assert 'value="25.0"' in edit
    drop_fields = edit.split('id="id_drop_fields"', 1)[1].split("</textarea>", 1)[0]
    assert sorted(drop_fields.split(">", 1)[1].splitlines()) == [
        "context.ip",
        "properties.email",
        "userId",
    ]


def test_filter_errors_show_at_the_field(owner: Client, equals: Destination) -> None:
    url = page_of(equals) + "filters/new/"
    response = owner.post(url, {"title": "T", "condition": "type = ", "drop": "on"})
    assert response.status_code == 400
    assert "position" in html(response)
    response = owner.post(url, {"title": "T", "condition": "all"})
    assert response.status_code == 400
    assert "Choose at least one action" in html(response)
    response = owner.post(
        url, {"title": "T", "condition": "all", "drop_properties": "on", "drop_fields": "type"}
    )
    assert response.status_code == 400
    assert "type cannot be dropped" in html(response)
    assert not DestinationFilter.objects.exists()


def test_filter_edit_toggle_delete(owner: Client, alice: User, equals: Destination) -> None:
    row = do_create_filter(
        principal=Principal(alice),
        destination=equals,
        title="Drop tests",
        if_='event = "Test"',
        actions=[{"type": "DROP"}],
    )
    base = page_of(equals) + f"filters/{row.key_id}/"
    response = owner.post(
        base,
        {
            "title": "Allow some",
            "condition": "all",
            "enabled": "on",
            "allow_properties": "on",
            "allow_fields": "properties.revenue",
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.title == "Allow some"
    assert row.actions == [{"type": "ALLOW_PROPERTIES", "fields": {"properties": ["revenue"]}}]
    owner.post(base + "toggle/", HTTP_HX_REQUEST="true")
    row.refresh_from_db()
    assert row.enabled is False
    owner.post(base + "delete/")
    assert not DestinationFilter.objects.exists()


# --- the test panel ---------------------------------------------------------------------


def test_panel_shows_payload(owner: Client, equals: Destination) -> None:
    assert "Order Completed" in html(owner.get(page_of(equals) + "?tab=test"))
    event = {"type": "track", "event": "Signed Up", "userId": "u1", "properties": {"plan": "pro"}}
    response = owner.post(page_of(equals) + "test/", {"event": json.dumps(event)})
    body = html(response)
    assert response.status_code == 200
    assert "1 mapping would send this event." in body
    assert "&quot;plan&quot;: &quot;pro&quot;" in body  # the mapped payload, pretty JSON
    assert "matched" in body


def test_panel_shows_dropped_by(owner: Client, alice: User, equals: Destination) -> None:
    do_create_filter(
        principal=Principal(alice),
        destination=equals,
        title="No signups",
        if_='event = "Signed Up"',
        actions=[{"type": "DROP"}],
    )
    body = html(
        owner.post(page_of(equals) + "test/", {"event": '{"type":"track","event":"Signed Up"}'})
    )
    assert 'id="test-dropped-by"' in body and "No signups" in body
    assert "mapped-payload" not in body


def test_panel_invalid_json(owner: Client, equals: Destination) -> None:
    body = html(owner.post(page_of(equals) + "test/", {"event": "{not json"}))
    assert "The sample event is refused: not valid JSON" in body
    body = html(owner.post(page_of(equals) + "test/", {"event": "[1, 2]"}))
    assert "must be a JSON object" in body


# --- read-only members -------------------------------------------------------------------


@pytest.fixture
def reader(
    acme: Workspace,
    alice: User,
    make_user: Callable[..., User],
    client_for: Callable[[User], Client],
) -> Client:
    user = make_user("rita")
    Membership.objects.create(workspace=acme, user=user)
    do_create_grant(
        principal=Principal(alice),
        workspace=acme,
        grantee=user,
        role="source-read-only",
        scope="all",
    )
    return client_for(user)


def test_read_only_sees_no_edit_controls(reader: Client, alice: User, equals: Destination) -> None:
    do_create_filter(
        principal=Principal(alice),
        destination=equals,
        title="F",
        if_='event = "Internal"',
        actions=[{"type": "DROP"}],
    )
    settings = html(reader.get(page_of(equals)))
    assert "read-only access" in settings
    assert "Save changes" not in settings and "Delete destination" not in settings
    assert "Enable destination</button>" not in settings
    mappings = html(reader.get(page_of(equals) + "?tab=mappings"))
    assert (
        "Add mapping" not in mappings and "toggle/" not in mappings and "Edit</a>" not in mappings
    )
    filters = html(reader.get(page_of(equals) + "?tab=filters"))
    assert "Add filter" not in filters and "toggle/" not in filters
    # The test panel only reads: it works for them.
    result = html(reader.post(page_of(equals) + "test/", {"event": '{"type": "track"}'}))
    assert "1 mapping would send this event." in result
    # No source they may change: the add flow offers none.
    assert 'id="no-sources"' in html(reader.get(ADD + "?definition=actions-equals"))


def test_read_only_posts_are_refused(reader: Client, alice: User, equals: Destination) -> None:
    preset = equals.subscriptions.get()
    row = do_create_filter(
        principal=Principal(alice),
        destination=equals,
        title="F",
        if_="all",
        actions=[{"type": "DROP"}],
    )
    base = page_of(equals)
    attempts = [
        (base, {"intent": "save", "display_name": "Hacked", "s_url": "https://evil"}),
        (base, {"intent": "enable", "enabled": "1"}),
        (base, {"intent": "delete"}),
        (base + "mappings/new/", mapping_post()),
        (base + f"mappings/{preset.key_id}/", mapping_post()),
        (base + f"mappings/{preset.key_id}/toggle/", {}),
        (base + f"mappings/{preset.key_id}/delete/", {}),
        (base + "filters/new/", {"title": "x", "condition": "all", "drop": "on"}),
        (base + f"filters/{row.key_id}/toggle/", {}),
        (base + f"filters/{row.key_id}/delete/", {}),
        (ADD, {"definition": "actions-equals", "source": "web", "s_url": EQUALS_URL}),
    ]
    for url, data in attempts:
        assert reader.post(url, data).status_code == 403, url
    equals.refresh_from_db()
    preset.refresh_from_db()
    row.refresh_from_db()
    assert (equals.display_name, equals.enabled, equals.settings) == (
        "Equals",
        False,
        {"url": EQUALS_URL},
    )
    assert (preset.name, preset.enabled) == ("Send", True)
    assert row.enabled is True
    assert Destination.objects.count() == 1
    assert Subscription.objects.count() == 1
    assert DestinationFilter.objects.count() == 1


def test_other_workspace_sees_404(
    equals: Destination, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    stranger = client_for(make_user("sam"))
    assert stranger.get(page_of(equals)).status_code == 404
    assert stranger.post(page_of(equals) + "test/", {"event": "{}"}).status_code == 404


def test_subscription_service_default_starts_disabled(
    owner: Client, alice: User, webhook: Destination
) -> None:
    """A mapping made by the API shows in the tab as Off with its action's name."""
    do_create_subscription(
        principal=Principal(alice),
        destination=webhook,
        action="send",
        name="Hook",
        mapping={"url": "https://x", "method": "POST"},
    )
    body = html(owner.get(page_of(webhook) + "?tab=mappings"))
    assert "Hook" in body and ">Off</button>" in body and "<td>Send</td>" in body


def test_new_mappings_and_new_filters_both_start_disabled(
    owner: Client, equals: Destination
) -> None:
    enabled = re.compile(r'<input[^>]*name="enabled"[^>]*>')
    for page in ("mappings/new/?action=send", "filters/new/"):
        box = enabled.search(html(owner.get(page_of(equals) + page)))
        assert box is not None, page
        assert "checked" not in box.group(0), page
