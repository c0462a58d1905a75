"""The mapping editor's typed field inputs (value, path, raw JSON) and the filter
editor's condition builder, with the Django client: each mode posts the right
mapping JSON, a saved mapping loads back in the same modes, errors name the field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.html import escape

from connections.catalog import FieldDef
from connections.forms.field_inputs import mode_for
from connections.models import Destination, DestinationFilter, Source
from connections.services.destinations import do_create_destination
from connections.services.filters import do_create_filter
from connections.services.sources import do_create_source
from connections.services.subscriptions import do_create_subscription
from switchyard.access import Principal
from workspace.models import Workspace

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/in?src=switchyard"


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Source:
    workspace = make_workspace(alice, "acme", "Acme")
    return do_create_source(
        principal=Principal(alice), workspace=workspace, slug="web", display_name="Web"
    )


@pytest.fixture
def owner(alice: User, web: Source) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def webhook(alice: User, web: Source) -> Destination:
    return do_create_destination(
        principal=Principal(alice), source=web, definition="actions-webhook", settings={}
    )


def base(destination: Destination) -> str:
    return f"/workspaces/acme/sources/web/destinations/{destination.key_id}/"


def post_data(**fields: Any) -> dict[str, Any]:
    """A mapping post whose fields are in the modes given (m_<key>); the rest unmapped."""
    data: dict[str, Any] = {
        "name": "Hook",
        "action": "send",
        "enabled": "on",
        "match": "all",
        "cond_field": ["type"],
        "cond_path": [""],
        "cond_op": ["is"],
        "cond_value": ["track"],
        "trigger": "",
        "m_url": "value",
        "m_method": "value",
        "m_headers": "value",
        "m_data": "value",
        "m_enable_batching": "value",
        "m_batch_size": "value",
    }
    data.update(fields)
    return data


def body_of(response: Any) -> str:
    return response.content.decode()


def row_of(body: str, key: str) -> str:
    """The HTML of one field's row."""
    start = body.index(f'id="field-{key}"')
    end = body.find('class="row g-2 mb-3 mapping-field"', start)
    return body[start : end if end != -1 else len(body)]


def mode_of(body: str, key: str) -> str:
    found = re.search(rf'data-field="{key}" data-mode="(\w+)"', body)
    assert found, key
    return found.group(1)


# --- each mode -> the mapping JSON ---------------------------------------------------------


def test_typed_values_become_the_mapping(owner: Client, webhook: Destination) -> None:
    response = owner.post(
        base(webhook) + "mappings/new/",
        post_data(
            v_url=URL,  # no quotes
            v_method="PUT",
            k_headers=["X-Api-Key", "X-User", "X-Note", ""],
            kv_headers=["abc123", "$.userId", "order {{properties.order_id}}", ""],
            m_data="path",
            p_data="$.properties",
            v_enable_batching="true",
            v_batch_size="25",
        ),
    )
    assert response.status_code == 302, body_of(response)
    assert webhook.subscriptions.get().mapping == {
        "url": URL,
        "method": "PUT",
        "headers": {
            "X-Api-Key": "abc123",
            "X-User": {"@path": "$.userId"},
            "X-Note": {"@template": "order {{properties.order_id}}"},
        },
        "data": {"@path": "$.properties"},
        "enable_batching": True,
        "batch_size": 25,
    }


def test_templates_blank_inputs_and_an_off_toggle(owner: Client, webhook: Destination) -> None:
    response = owner.post(
        base(webhook) + "mappings/new/",
        post_data(
            v_url="https://example.com/users/{{userId}}",
            v_method="POST",
            k_headers=[""],
            kv_headers=[""],
            m_data="path",
            p_data="",
            v_batch_size="",
        ),
    )
    assert response.status_code == 302, body_of(response)
    # Empty inputs are not mapped; an unchecked toggle is false.
    assert webhook.subscriptions.get().mapping == {
        "url": {"@template": "https://example.com/users/{{userId}}"},
        "method": "POST",
        "enable_batching": False,
    }


def test_raw_json_is_the_advanced_mode(owner: Client, webhook: Destination) -> None:
    response = owner.post(
        base(webhook) + "mappings/new/",
        post_data(
            v_url=URL,
            v_method="POST",
            m_data="json",
            f_data='{"@if": {"exists": {"@path": "$.userId"}, "then": "known", "else": "anon"}}',
        ),
    )
    assert response.status_code == 302, body_of(response)
    mapping = webhook.subscriptions.get().mapping
    assert mapping["data"] == {
        "@if": {"exists": {"@path": "$.userId"}, "then": "known", "else": "anon"}
    }


# --- load -> the same modes ------------------------------------------------------------------


def test_a_saved_mapping_loads_in_the_modes_it_was_made_in(
    owner: Client, alice: User, webhook: Destination
) -> None:
    saved = do_create_subscription(
        principal=Principal(alice),
        destination=webhook,
        action="send",
        name="Hook",
        trigger='type = "track"',
        mapping={
            "url": URL,
            "method": "PATCH",
            "headers": {"X-User": {"@path": "$.userId"}, "X-Key": "k1"},
            "data": {"@path": "$.properties"},
            "enable_batching": True,
            "batch_size": 7,
        },
    )
    url = base(webhook) + f"mappings/{saved.key_id}/"
    body = body_of(owner.get(url))
    assert {k: mode_of(body, k) for k in saved.mapping} == {
        "url": "value",
        "method": "value",
        "headers": "value",
        "data": "path",
        "enable_batching": "value",
        "batch_size": "value",
    }
    assert f'name="v_url" id="id_v_url" value="{escape(URL)}"' in body
    assert '<option value="PATCH" selected>' in row_of(body, "method")
    headers = row_of(body, "headers")
    assert 'value="X-User"' in headers and 'value="$.userId"' in headers
    assert 'value="X-Key"' in headers and 'value="k1"' in headers
    assert 'value="$.properties"' in row_of(body, "data")
    assert "checked" in row_of(body, "enable_batching")
    assert 'value="7"' in row_of(body, "batch_size")

    # Posting the page back as drawn saves the same mapping.
    response = owner.post(
        url,
        post_data(
            v_url=URL,
            v_method="PATCH",
            k_headers=["X-User", "X-Key", ""],
            kv_headers=["$.userId", "k1", ""],
            m_data="path",
            p_data="$.properties",
            v_enable_batching="true",
            v_batch_size="7",
            **{f"rm_{k}": mode_of(body, k) for k in saved.mapping},
        ),
    )
    assert response.status_code == 302, body_of(response)
    before = saved.mapping
    saved.refresh_from_db()
    assert saved.mapping == before


def test_what_the_typed_inputs_cannot_show_loads_as_raw_json(
    owner: Client, alice: User, webhook: Destination
) -> None:
    saved = do_create_subscription(
        principal=Principal(alice),
        destination=webhook,
        action="send",
        name="Hook",
        trigger='type = "track"',
        mapping={
            "url": {"@if": {"exists": {"@path": "$.context.url"}, "then": URL, "else": URL}},
            "method": "POST",
            "headers": {"X-Nested": {"a": 1}},
            "data": {"user": {"@path": "$.userId"}},
        },
    )
    body = body_of(owner.get(base(webhook) + f"mappings/{saved.key_id}/"))
    assert mode_of(body, "url") == "json"
    assert mode_of(body, "headers") == "json"
    assert mode_of(body, "data") == "value"  # an object of paths is key/value rows
    assert escape('{"X-Nested": {"a": 1}}') in row_of(body, "headers")


@pytest.mark.parametrize(
    ("spec", "value", "mode"),
    [
        (FieldDef("u", "U", "STRING"), None, "value"),
        (FieldDef("u", "U", "STRING"), "https://x", "value"),
        (FieldDef("u", "U", "STRING"), {"@template": "a {{b}}"}, "value"),
        (FieldDef("u", "U", "STRING"), {"@template": "no braces"}, "json"),
        (FieldDef("u", "U", "STRING"), "literal {{b}}", "json"),  # would save as a template
        (FieldDef("u", "U", "STRING"), {"@path": "$.a"}, "path"),
        (FieldDef("u", "U", "STRING"), 3, "json"),
        (FieldDef("m", "M", "STRING", choices=("A", "B")), "B", "value"),
        (FieldDef("m", "M", "STRING", choices=("A", "B")), "C", "json"),
        (FieldDef("n", "N", "INTEGER"), 3, "value"),
        (FieldDef("n", "N", "INTEGER"), 3.5, "json"),
        (FieldDef("n", "N", "NUMBER"), 3.5, "value"),
        (FieldDef("n", "N", "NUMBER"), True, "json"),
        (FieldDef("b", "B", "BOOLEAN"), False, "value"),
        (FieldDef("b", "B", "BOOLEAN"), "yes", "json"),
        (FieldDef("o", "O", "OBJECT"), {"k": "$.not-a-path-literal"}, "json"),
        (FieldDef("o", "O", "OBJECT"), {}, "json"),
        (FieldDef("o", "O", "OBJECT"), {"k": 1}, "json"),
        (FieldDef("o", "O", "OBJECT"), {"@path": "$.a", "@x": 1}, "json"),
        (FieldDef("l", "L", "STRING", multiple=True), ["a", "b"], "value"),
        (FieldDef("l", "L", "OBJECT", multiple=True), None, "path"),
    ],
)
def test_the_mode_a_stored_value_loads_in(spec: FieldDef, value: Any, mode: str) -> None:
    assert mode_for(spec, value) == mode


# --- errors name the field --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"v_batch_size": "3.5"}, "Batch Size: &#x27;3.5&#x27; is not a whole number"),
        ({"v_batch_size": "many"}, "Batch Size: &#x27;many&#x27; is not a number"),
        ({"v_method": "GET"}, "Method: choose one of POST, PUT, PATCH"),
        ({"k_headers": ["", "A"], "kv_headers": ["x", "1"]}, "Headers: the value"),
        ({"k_headers": ["A", "A"], "kv_headers": ["1", "2"]}, "Headers: the key &#x27;A&#x27;"),
        ({"m_data": "path", "p_data": "properties"}, "Data: a path starts with $"),
        ({"m_data": "json", "f_data": "{nope"}, "Data: not valid JSON"),
        ({"v_url": ""}, "(url) is required"),
    ],
)
def test_bad_input_names_the_field(
    owner: Client, webhook: Destination, fields: dict[str, Any], error: str
) -> None:
    data = post_data(v_url=URL, v_method="POST")
    data.update(fields)
    response = owner.post(base(webhook) + "mappings/new/", data)
    assert response.status_code == 400
    assert error in body_of(response)
    assert not webhook.subscriptions.exists()


def test_a_field_shown_again_after_an_error_keeps_what_was_typed(
    owner: Client, webhook: Destination
) -> None:
    response = owner.post(
        base(webhook) + "mappings/new/",
        post_data(
            v_url=URL,
            v_method="POST",
            k_headers=["X-A", ""],
            kv_headers=["$.userId", ""],
            v_batch_size="3.5",
        ),
    )
    body = body_of(response)
    assert f'value="{escape(URL)}"' in row_of(body, "url")
    assert 'value="X-A"' in row_of(body, "headers")
    assert 'value="3.5"' in row_of(body, "batch_size")


def test_a_mode_changed_without_js_is_drawn_again_not_saved(
    owner: Client, webhook: Destination
) -> None:
    response = owner.post(
        base(webhook) + "mappings/new/",
        post_data(v_url=URL, rm_url="value", m_url="json", v_method="POST"),
    )
    assert response.status_code == 400
    body = body_of(response)
    assert "URL: now in JSON (advanced) mode" in body
    assert mode_of(body, "url") == "json"
    assert escape(f'"{URL}"') in row_of(body, "url")
    assert not webhook.subscriptions.exists()


# --- switching a row's mode (htmx) --------------------------------------------------------------


def test_switching_mode_carries_the_value(owner: Client, webhook: Destination) -> None:
    url = base(webhook) + "mappings/new/field/"
    body = body_of(
        owner.get(
            url,
            {"action": "send", "field": "url", "rm_url": "value", "m_url": "json", "v_url": URL},
        )
    )
    assert mode_of(body, "url") == "json" and escape(f'"{URL}"') in body
    body = body_of(
        owner.get(
            url,
            {
                "action": "send",
                "field": "url",
                "rm_url": "json",
                "m_url": "value",
                "f_url": '"https://b.example"',
            },
        )
    )
    assert mode_of(body, "url") == "value" and 'value="https://b.example"' in body
    body = body_of(
        owner.get(
            url,
            {
                "action": "send",
                "field": "headers",
                "rm_headers": "json",
                "m_headers": "value",
                "f_headers": '{"X-A": {"@path": "$.userId"}}',
            },
        )
    )
    assert 'value="X-A"' in body and 'value="$.userId"' in body
    body = body_of(
        owner.get(
            url,
            {
                "action": "send",
                "field": "batch_size",
                "rm_batch_size": "value",
                "m_batch_size": "path",
                "v_batch_size": "3",
            },
        )
    )
    assert mode_of(body, "batch_size") == "path" and 'name="p_batch_size"' in body
    assert owner.get(url, {"action": "send", "field": "nope"}).status_code == 404


# --- the filter's condition builder ------------------------------------------------------------


def test_a_filter_built_from_conditions_saves_their_fql(
    owner: Client, webhook: Destination
) -> None:
    response = owner.post(
        base(webhook) + "filters/new/",
        {
            "title": "No tests",
            "match": "any",
            "cond_field": ["event", "property"],
            "cond_path": ["", "properties.email"],
            "cond_op": ["starts_with", "ends_with"],
            "cond_value": ["Test", "@example.com"],
            "condition": "",
            "drop": "on",
        },
    )
    assert response.status_code == 302, body_of(response)
    row = DestinationFilter.objects.get()
    assert row.condition == ('match(event, "Test*") or match(properties.email, "*@example.com")')
    # Loading it shows the builder rows and an empty (closed) advanced box.
    body = body_of(owner.get(base(webhook) + f"filters/{row.key_id}/"))
    assert (
        body.count('class="row g-2 mb-2 align-items-center trigger-condition"') == 3
    )  # + template
    assert 'value="properties.email"' in body and 'value="@example.com"' in body
    assert '<option value="any" selected>' in body
    assert re.search(r'id="id_condition"[^>]*></textarea>', body)
    assert '<details class="mb-2" id="condition-advanced">' in body  # closed


def test_a_filter_the_builder_cannot_show_opens_in_fql(
    owner: Client, alice: User, webhook: Destination
) -> None:
    row = do_create_filter(
        principal=Principal(alice),
        destination=webhook,
        title="Everything",
        if_="all",
        actions=[{"type": "DROP"}],
    )
    body = body_of(owner.get(base(webhook) + f"filters/{row.key_id}/"))
    assert re.search(r'<details class="mb-2" open id="condition-advanced">', body)
    assert re.search(r'id="id_condition"[^>]*>all</textarea>', body)


def test_a_filter_needs_conditions_or_fql(owner: Client, webhook: Destination) -> None:
    response = owner.post(
        base(webhook) + "filters/new/",
        {
            "title": "T",
            "match": "all",
            "cond_field": ["type"],
            "cond_op": ["is"],
            "cond_value": [""],
            "cond_path": [""],
            "condition": "",
            "drop": "on",
        },
    )
    assert response.status_code == 400
    assert "add at least one condition, or write the expression in FQL" in body_of(response)
    response = owner.post(
        base(webhook) + "filters/new/",
        {
            "title": "T",
            "cond_field": ["property"],
            "cond_op": ["gt"],
            "cond_value": ["lots"],
            "cond_path": ["properties.total"],
            "condition": "",
            "drop": "on",
        },
    )
    assert response.status_code == 400
    assert "needs a number" in body_of(response)
    assert not DestinationFilter.objects.exists()


def test_the_filter_preview_shows_the_fql(owner: Client, webhook: Destination) -> None:
    url = base(webhook) + "filters/new/preview/"
    body = body_of(
        owner.post(
            url,
            {
                "match": "all",
                "cond_field": ["type"],
                "cond_op": ["is_not"],
                "cond_value": ["identify"],
                "cond_path": [""],
                "condition": "",
            },
        )
    )
    assert escape('type != "identify"') in body
    assert "all" in body_of(owner.post(url, {"condition": "all"}))
    assert "position" in body_of(owner.post(url, {"condition": "type ="}))
