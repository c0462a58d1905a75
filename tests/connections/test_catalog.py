"""The catalog: the shipped files load and hold what the docs describe; settings and
mapping validation; a broken file fails loudly, naming the file and the entry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connections import catalog
from connections.catalog import CatalogError, DestinationDefinition, SettingDef
from connections.catalog.search import filter_destinations, filter_source_types
from connections.rules import fql
from connections.rules import mapping as mapping_kit
from switchyard.errors import InvalidArgument

EVENTS: dict[str, dict[str, Any]] = {
    "track": {
        "type": "track",
        "event": "Order Completed",
        "userId": "u-1",
        "anonymousId": "a-1",
        "messageId": "m-1",
        "timestamp": "2025-02-20T10:00:00Z",
        "properties": {"total": 30},
        "context": {"ip": "1.2.3.4", "traits": {"plan": "pro"}, "page": {"url": "https://x"}},
    },
    "identify": {
        "type": "identify",
        "userId": "u-1",
        "traits": {"email": "ada@example.com", "address": {"city": "Paris"}},
    },
    "page": {"type": "page", "name": "Home", "userId": "u-1", "properties": {"path": "/"}},
    "screen": {"type": "screen", "name": "Cart", "anonymousId": "a-1"},
    "group": {"type": "group", "groupId": "g-1", "userId": "u-1", "traits": {"name": "Acme"}},
    "alias": {"type": "alias", "previousId": "a-1", "userId": "u-1"},
}

# One valid value per setting type, for building a valid settings object.
SAMPLE = {
    "string": "value",
    "password": "s3cret",
    "text": "long text",
    "number": 1.5,
    "integer": 3,
    "boolean": True,
    "array": ["a", "b"],
    "map": {"k": "v"},
    "text-map": {"k": "v"},
}
# One wrong value per setting type.
WRONG = {
    "string": 42,
    "password": 42,
    "text": ["x"],
    "number": True,
    "integer": 1.5,
    "boolean": "true",
    "select": "no-such-choice",
    "array": [1, 2],
    "map": {"k": 1},
    "text-map": "k=v",
}


def valid_settings(definition: DestinationDefinition) -> dict[str, Any]:
    return {
        s.name: s.choices[0] if s.type == "select" else SAMPLE[s.type] for s in definition.settings
    }


def all_triggers() -> list[tuple[str, str]]:
    found = []
    for d in catalog.destinations():
        found += [(f"{d.slug}/{a.key}", a.default_trigger) for a in d.actions if a.default_trigger]
        found += [(f"{d.slug}/preset {p.name}", p.trigger) for p in d.presets]
    return found


# --- the shipped catalog ----------------------------------------------------------------


def test_the_shipped_catalog_loads_and_is_cached() -> None:
    assert catalog.shipped() is catalog.shipped()
    assert catalog.load() == catalog.shipped()  # a fresh read gives the same entries


def test_source_types_cover_the_libraries_in_name_order() -> None:
    types = catalog.source_types()
    by_slug = {s.slug: s for s in types}
    expected = {
        "javascript": "website",
        "http-api": "server",
        "python": "server",
        "node-js": "server",
        "go": "server",
        "java": "server",
        "ruby": "server",
        "php": "server",
        "net": "server",
        "clojure": "server",
        "ios": "mobile",
        "android": "mobile",
        "kotlin": "mobile",
        "swift": "mobile",
        "react-native": "mobile",
        "flutter": "mobile",
    }
    assert {slug: by_slug[slug].category for slug in expected} == expected
    assert [s.name.casefold() for s in types] == sorted(s.name.casefold() for s in types)
    assert all(s.description.endswith(".") for s in types)
    assert by_slug["javascript"].library_tier == "flagship"
    assert by_slug["http-api"].library_tier == ""
    assert catalog.source_type("javascript") is by_slug["javascript"]
    assert catalog.source_type("nope") is None


def test_the_destinations_are_shipped_with_categories_and_methods() -> None:
    slugs = {d.slug for d in catalog.destinations()}
    assert {
        "actions-webhook",
        "actions-equals",
        "segment-connections",
        "connect",
        "userengage",
    } <= slugs
    for d in catalog.destinations():
        assert d.categories and set(d.categories) <= set(catalog.DESTINATION_CATEGORIES)
        assert d.methods and set(d.methods) <= set(catalog.METHODS)
        assert d.description and d.actions
    assert catalog.destination("nope") is None


@pytest.mark.parametrize(("where", "trigger"), all_triggers())
def test_every_trigger_compiles(where: str, trigger: str) -> None:
    assert fql.compile(trigger).source == trigger


def test_every_preset_mapping_is_valid_and_resolves() -> None:
    for d in catalog.destinations():
        for preset in d.presets:
            action = d.action(preset.action)
            assert action is not None, f"{d.slug}: {preset.name}"
            assert action.validate_mapping(preset.mapping) == [], f"{d.slug}: {preset.name}"
            assert mapping_kit.validate(preset.mapping) == []


def test_equals_matches_the_doc_page() -> None:
    equals = catalog.destination("actions-equals")
    assert equals is not None
    assert equals.name == "Equals"
    url = equals.setting("url")
    assert url == SettingDef(
        name="url",
        label="Equals URL",
        type="string",
        required=True,
        description="Equals URL to send data to.",
    )
    send = equals.action("send")
    assert send is not None and send.platform == "cloud"
    assert send.default_trigger == (
        'type = "track" or type = "page" or type = "screen" or type = "identify" or type = "group"'
    )
    data = send.field("data")
    assert data is not None and data.type == "OBJECT" and data.required
    assert send.default_mapping() == {"data": {"@path": "$."}}
    (preset,) = equals.presets
    assert (preset.name, preset.action, preset.mapping) == (
        "Send",
        "send",
        {"data": {"@path": "$."}},
    )
    trigger = fql.compile(preset.trigger)
    for kind in ("track", "page", "screen", "identify", "group"):
        assert trigger.matches(EVENTS[kind])
    assert not trigger.matches(EVENTS["alias"])
    # The preset sends the whole event.
    assert mapping_kit.resolve(preset.mapping, EVENTS["track"]) == {"data": EVENTS["track"]}


def test_webhook_send_action() -> None:
    webhook = catalog.destination("actions-webhook")
    assert webhook is not None
    assert webhook.secret_settings == frozenset({"shared_secret"})
    send = webhook.action("send")
    assert send is not None and send.batching
    fields = {f.key: f for f in send.fields}
    assert list(fields) == ["url", "method", "headers", "data", "enable_batching", "batch_size"]
    assert fields["url"].required and fields["url"].type == "STRING"
    assert fields["method"].choices == ("POST", "PUT", "PATCH")
    assert send.default_mapping() == {
        "method": "POST",
        "data": {"@path": "$."},
        "enable_batching": False,
        "batch_size": 100,
    }
    trigger = fql.compile(send.default_trigger)
    assert all(trigger.matches(EVENTS[k]) for k in ("track", "identify", "page", "screen", "group"))


SEGMENT_CONNECTIONS_CONTEXT = [
    "application",
    "campaign_parameters",
    "device",
    "ip_address",
    "locale",
    "location",
    "network",
    "operating_system",
    "page",
    "screen",
    "user_agent",
    "timezone",
]


@pytest.mark.parametrize(
    ("action", "kind", "fields"),
    [
        ("send_page", "page", ["page_name", "page_category", "group_id", "properties"]),
        ("send_track", "track", ["event_name", "group_id", "properties", "traits"]),
        ("send_identify", "identify", ["group_id", "traits", "address"]),
        ("send_group", "group", ["group_id", "traits"]),
        ("send_screen", "screen", ["screen_name", "group_id", "properties"]),
    ],
)
def test_segment_connections_actions_follow_the_page(
    action: str, kind: str, fields: list[str]
) -> None:
    definition = catalog.destination("segment-connections")
    assert definition is not None
    found = definition.action(action)
    assert found is not None
    assert found.default_trigger == f'type = "{kind}"'
    keys = {f.key for f in found.fields}
    expected = {"user_id", "anonymous_id", "timestamp", "message_id"}
    expected |= set(SEGMENT_CONNECTIONS_CONTEXT) | set(fields)
    assert keys == expected
    timestamp = found.field("timestamp")
    assert timestamp is not None and timestamp.type == "DATETIME"
    assert timestamp.default == {"@path": "$.timestamp"}
    assert any(
        p.action == action and p.trigger == found.default_trigger for p in definition.presets
    )


def test_segment_connections_required_fields_and_defaults() -> None:
    definition = catalog.destination("segment-connections")
    assert definition is not None
    assert definition.secret_settings == frozenset({"source_write_key"})
    track, group = definition.action("send_track"), definition.action("send_group")
    assert track is not None and group is not None
    assert [f.key for f in track.fields if f.required] == ["event_name"]
    assert [f.key for f in group.fields if f.required] == ["group_id"]
    resolved = mapping_kit.resolve(track.default_mapping(), EVENTS["track"])
    assert resolved["event_name"] == "Order Completed"
    assert resolved["ip_address"] == "1.2.3.4"
    assert resolved["traits"] == {"plan": "pro"}
    assert resolved["message_id"] == "m-1"
    identify = definition.action("send_identify")
    assert identify is not None
    resolved = mapping_kit.resolve(identify.default_mapping(), EVENTS["identify"])
    assert resolved["address"] == {"city": "Paris"}


@pytest.mark.parametrize(
    ("slug", "methods"),
    [
        ("connect", {"identify", "track", "page", "alias"}),
        ("userengage", {"identify", "page", "track", "group"}),
    ],
)
def test_classic_destinations_have_a_preset_per_method(slug: str, methods: set[str]) -> None:
    definition = catalog.destination(slug)
    assert definition is not None
    assert set(definition.methods) == methods
    assert definition.secret_settings == frozenset({"api_key"})
    api_key = definition.setting("api_key")
    assert api_key is not None and api_key.required
    covered = {
        m for m in methods for p in definition.presets if fql.compile(p.trigger).matches(EVENTS[m])
    }
    assert covered == methods


def test_userengage_company_action_resolves_a_group_call() -> None:
    definition = catalog.destination("userengage")
    assert definition is not None
    action = definition.action("update_company")
    assert action is not None
    resolved = mapping_kit.resolve(action.default_mapping(), EVENTS["group"])
    assert resolved["group_id"] == "g-1"
    assert resolved["name"] == "Acme"
    assert resolved["user_id"] == "u-1"


# --- settings validation ------------------------------------------------------------------


@pytest.mark.parametrize("slug", [d.slug for d in catalog.destinations()])
def test_settings_validation_for_every_destination(slug: str) -> None:
    definition = catalog.destination(slug)
    assert definition is not None
    good = valid_settings(definition)
    assert definition.validate_settings(good) == good

    with pytest.raises(InvalidArgument) as caught:
        definition.validate_settings({**good, "bogus": 1})
    assert caught.value.field == "settings.bogus"
    assert "unknown setting 'bogus'" in caught.value.message

    for spec in definition.settings:
        wrong = {**good, spec.name: WRONG[spec.type]}
        with pytest.raises(InvalidArgument) as caught:
            definition.validate_settings(wrong)
        assert caught.value.field == f"settings.{spec.name}"
        assert f"setting {spec.label!r} ({spec.name})" in caught.value.message
        if spec.is_secret:  # a secret is never echoed back
            assert str(WRONG[spec.type]) not in caught.value.message

        absent = {k: v for k, v in good.items() if k != spec.name}
        if spec.required:
            with pytest.raises(InvalidArgument) as caught:
                definition.validate_settings(absent)
            assert caught.value.message == f"setting {spec.label!r} ({spec.name}) is required"
            assert caught.value.field == f"settings.{spec.name}"
            # an update may leave it out
            assert spec.name not in definition.validate_settings(absent, partial=True)
        else:
            cleaned = definition.validate_settings(absent)
            if spec.default is None:
                assert spec.name not in cleaned
            else:
                assert cleaned[spec.name] == spec.default


def test_settings_must_be_an_object() -> None:
    equals = catalog.destination("actions-equals")
    assert equals is not None
    with pytest.raises(InvalidArgument) as caught:
        equals.validate_settings(["url"])
    assert caught.value.field == "settings"


def test_required_settings_refuse_empty_and_null() -> None:
    equals = catalog.destination("actions-equals")
    assert equals is not None
    for value in ("", None):
        with pytest.raises(InvalidArgument, match=r"setting 'Equals URL' \(url\) is required"):
            equals.validate_settings({"url": value})
        with pytest.raises(InvalidArgument, match="is required"):
            equals.validate_settings({"url": value}, partial=True)  # cannot clear it either


def test_defaults_fill_absent_settings_but_not_partial_updates() -> None:
    definition = catalog.destination("segment-connections")
    assert definition is not None
    full = definition.validate_settings({"source_write_key": "wk"})
    assert full == {"source_write_key": "wk", "endpoint": "us"}
    assert definition.validate_settings({"endpoint": "eu"}, partial=True) == {"endpoint": "eu"}
    with pytest.raises(InvalidArgument, match="must be one of 'us', 'eu'"):
        definition.validate_settings({"endpoint": "mars"}, partial=True)
    # A null in an update clears an optional setting; the answer says so.
    assert definition.validate_settings({"endpoint": None}, partial=True) == {"endpoint": None}


def test_the_cleaned_settings_are_a_copy() -> None:
    webhook = catalog.destination("actions-webhook")
    assert webhook is not None
    values = {"shared_secret": "abc"}
    cleaned = webhook.validate_settings(values)
    cleaned["shared_secret"] = "changed"
    assert values == {"shared_secret": "abc"}


def test_number_and_integer_settings() -> None:
    definition = DestinationDefinition(
        slug="x",
        name="X",
        settings=(
            SettingDef(name="ratio", label="Ratio", type="number"),
            SettingDef(name="count", label="Count", type="integer"),
        ),
    )
    assert definition.validate_settings({"ratio": 2, "count": 3}) == {"ratio": 2, "count": 3}
    assert definition.validate_settings({"ratio": 0.5}) == {"ratio": 0.5}
    for bad in ({"ratio": False}, {"count": 2.5}, {"count": True}, {"ratio": "1"}):
        with pytest.raises(InvalidArgument):
            definition.validate_settings(bad)


# --- mapping validation -------------------------------------------------------------------


def webhook_send() -> Any:
    webhook = catalog.destination("actions-webhook")
    assert webhook is not None
    send = webhook.action("send")
    assert send is not None
    return send


def test_validate_mapping_accepts_defaults_with_the_required_fields() -> None:
    send = webhook_send()
    assert send.validate_mapping({**send.default_mapping(), "url": "https://example.com"}) == []
    # Directives are accepted for any field type.
    directives = {
        "url": {"@template": "https://x/{{userId}}"},
        "method": {"@path": "$.properties.method"},
        "batch_size": {"@path": "$.n"},
        "enable_batching": {"@if": {"exists": {"@path": "$.b"}, "then": True, "else": False}},
    }
    assert send.validate_mapping(directives) == []
    # A required field with a default is still required in a mapping.
    assert send.validate_mapping({"url": "https://x"}) == ["field 'Method' (method) is required"]


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ("not an object", "the mapping must be an object"),
        ({}, "field 'URL' (url) is required"),
        ({"url": None}, "field 'URL' (url) is required"),
        ({"url": "https://x", "nope": 1}, "unknown field 'nope'"),
        ({"url": 42}, "field 'URL' (url) must be a string, got 42"),
        ({"url": "https://x", "method": "GET"}, "field 'Method' (method) must be one of"),
        ({"url": "https://x", "headers": "a: b"}, "field 'Headers' (headers) must be an object"),
        (
            {"url": "https://x", "batch_size": 1.5},
            "field 'Batch Size' (batch_size) must be an integer",
        ),
        ({"url": "https://x", "batch_size": True}, "must be an integer"),
        ({"url": "https://x", "enable_batching": "yes"}, "must be true or false"),
        ({"url": {"@path": 5}}, "url.@path: expects a path string"),
        ({"url": {"@nope": "x"}}, "url: unknown directive '@nope'"),
        (
            {"url": "https://x", "data": {"a": {"@path": "$.x", "@literal": 1}}},
            "data.a: a directive",
        ),
    ],
)
def test_validate_mapping_names_the_field(mapping: object, problem: str) -> None:
    problems = webhook_send().validate_mapping(mapping)
    assert any(problem in p for p in problems), problems


def test_validate_mapping_reports_every_problem() -> None:
    problems = webhook_send().validate_mapping({"nope": 1, "method": "POST", "batch_size": "x"})
    assert problems == [
        "unknown field 'nope': action 'Send' has fields batch_size, data, enable_batching, "
        "headers, method, url",
        "field 'URL' (url) is required",
        "field 'Batch Size' (batch_size) must be an integer, got \"x\"",
    ]


def test_multiple_fields_want_lists() -> None:
    from connections.catalog import ActionDef, FieldDef

    action = ActionDef(
        key="a",
        name="A",
        fields=(FieldDef(key="tags", label="Tags", type="STRING", multiple=True),),
    )
    assert action.validate_mapping({"tags": ["a", {"@path": "$.b"}]}) == []
    assert action.validate_mapping({"tags": {"@path": "$.tags"}}) == []
    assert action.validate_mapping({"tags": "a"}) == [
        "field 'Tags' (tags) must be a list, got \"a\""
    ]
    assert action.validate_mapping({"tags": ["a", 1]}) == [
        "field 'Tags' (tags) must be a string, got 1"
    ]


def test_default_mapping_is_a_fresh_copy() -> None:
    send = webhook_send()
    first = send.default_mapping()
    first["data"]["@path"] = "$.changed"
    assert send.default_mapping()["data"] == {"@path": "$."}


# --- search -------------------------------------------------------------------------------


def test_search_and_category_filters() -> None:
    found = filter_destinations(catalog.destinations(), search="EQUALS")
    assert [d.slug for d in found] == ["actions-equals"]
    raw = filter_destinations(catalog.destinations(), category="raw data")
    assert {"actions-webhook", "segment-connections", "actions-equals"} <= {d.slug for d in raw}
    assert "connect" not in {d.slug for d in raw}
    mobile = filter_source_types(catalog.source_types(), category="Mobile")
    assert {s.category for s in mobile} == {"mobile"} and len(mobile) == 6
    assert [s.slug for s in filter_source_types(catalog.source_types(), search="react native")] == [
        "react-native"
    ]
    with pytest.raises(InvalidArgument, match="unknown category 'desktop'"):
        filter_source_types(catalog.source_types(), category="desktop")


# --- broken catalogs ----------------------------------------------------------------------

GOOD_DESTINATION = """\
slug: demo
name: Demo
description: A demo destination.
categories: [Analytics]
methods: [track]
settings:
  - name: api_key
    label: API Key
    type: password
    required: true
actions:
  - key: send
    name: Send
    description: Send it.
    default_trigger: 'type = "track"'
    fields:
      - key: data
        label: Data
        type: OBJECT
        required: true
        default: {"@path": "$."}
presets:
  - name: Send
    action: send
    trigger: 'type = "track"'
"""
GOOD_SOURCES = """\
- slug: python
  name: Python
  category: server
  description: Python.
"""


def write_catalog(
    root: Path, *, destination: str = GOOD_DESTINATION, sources: str = GOOD_SOURCES
) -> Path:
    (root / "destinations").mkdir(parents=True, exist_ok=True)
    (root / "sources.yaml").write_text(sources)
    (root / "destinations" / "demo.yaml").write_text(destination)
    return root


def test_a_minimal_catalog_directory_loads(tmp_path: Path) -> None:
    loaded = catalog.load(write_catalog(tmp_path))
    demo = loaded.destination("demo")
    assert demo is not None
    assert demo.secret_settings == frozenset({"api_key"})
    assert demo.presets[0].mapping == {"data": {"@path": "$."}}
    assert [s.slug for s in loaded.source_types] == ["python"]


@pytest.mark.parametrize(
    ("old", "new", "entry", "problem"),
    [
        (
            "name: Demo\n",
            "name: Demo\ncolour: blue\n",
            "destination 'demo'",
            "unknown key(s) colour",
        ),
        ("[Analytics]", "[Analytic]", "destination 'demo'", "categories: unknown value 'Analytic'"),
        (
            "methods: [track]",
            "methods: [track, click]",
            "destination 'demo'",
            "unknown value 'click'",
        ),
        ("type: password", "type: secret", "setting 'api_key'", "type: must be one of"),
        (
            "    required: true\nactions",
            "    required: true\n    default: abc\nactions",
            "setting 'api_key'",
            "a secret setting cannot have a default",
        ),
        (
            "default_trigger: 'type = \"track\"'",
            "default_trigger: 'type = = track'",
            "action 'send'",
            "default_trigger: 'type = = track' is not valid FQL",
        ),
        (
            "    trigger: 'type = \"track\"'\n",
            "    trigger: 'type ='\n",
            "preset 'Send'",
            "trigger: 'type =' is not valid FQL",
        ),
        ("action: send", "action: post", "preset 'Send'", "unknown action 'post'"),
        (
            'default: {"@path": "$."}',
            'default: {"@path": 3}',
            "field 'data'",
            "data.@path: expects a path",
        ),
        ('default: {"@path": "$."}', "default: 12", "field 'data'", "must be an object, got 12"),
        ("type: OBJECT", "type: MAP", "field 'data'", "type: must be one of"),
        (
            "    trigger: 'type = \"track\"'\n",
            "    trigger: 'type = \"track\"'\n    mapping: {data: 5}\n",
            "preset 'Send'",
            "field 'Data' (data) must be an object, got 5",
        ),
        (
            "    trigger: 'type = \"track\"'\n",
            "    trigger: 'type = \"track\"'\n    mapping: {}\n",
            "preset 'Send'",
            "field 'Data' (data) is required",
        ),
        ("slug: demo", "slug: other", "destination 'other'", "must be named other.yaml"),
        (
            "      - key: data\n",
            "      - key: data\n        required: maybe\n",
            "invalid YAML",
            "found duplicate key 'required'",
        ),
        (
            "presets:\n",
            "  - key: send\n    name: Again\n    description: x\n    fields: []\npresets:\n",
            "destination 'demo'",
            "duplicate action key(s) 'send'",
        ),
        (
            "    fields:\n",
            "    platform: web\n    fields:\n",
            "action 'send'",
            "platform: must be one of",
        ),
        (
            "type: password\n",
            "type: select\n",
            "setting 'api_key'",
            "a select setting needs choices",
        ),
        ("[Analytics]", "[Analytics, Analytics]", "destination 'demo'", "duplicate value(s)"),
        ("methods: [track]", "methods: []", "destination 'demo'", "needs at least one method"),
        (
            "actions:\n",
            "website: ftp://example.com\nactions:\n",
            "destination 'demo'",
            "website: must be an http(s) URL, got 'ftp://example.com'",
        ),
        ("name: Demo\n", "name: '  '\n", "destination 'demo'", "name: must not be empty"),
        ("name: Demo\n", "name: 12\n", "destination 'demo'", "name: must be a string, got 12"),
        (
            "type: OBJECT\n",
            "type: OBJECT\n        choices: [a]\n",
            "destination 'demo' > action 'send' > field 'data'",
            "choices: only STRING fields have choices",
        ),
        (
            "      - key: data\n",
            "      - key: Data\n",
            "destination 'demo' > action 'send' > field 'Data'",
            "key: 'Data' is not a valid key",
        ),
    ],
)
def test_a_broken_destination_fails_naming_file_entry_and_problem(
    tmp_path: Path, old: str, new: str, entry: str, problem: str
) -> None:
    assert old in GOOD_DESTINATION
    write_catalog(tmp_path, destination=GOOD_DESTINATION.replace(old, new, 1))
    with pytest.raises(CatalogError) as caught:
        catalog.load(tmp_path)
    message = str(caught.value)
    assert "demo.yaml" in message
    assert entry in message
    assert problem in message


def test_a_required_setting_with_a_wrong_typed_default_fails(tmp_path: Path) -> None:
    broken = GOOD_DESTINATION.replace(
        "    type: password\n    required: true\n",
        "    type: integer\n    required: true\n    default: ten\n",
    )
    write_catalog(tmp_path, destination=broken)
    with pytest.raises(
        CatalogError, match=r"setting 'api_key': default: the default must be an integer"
    ):
        catalog.load(tmp_path)


@pytest.mark.parametrize(
    ("sources", "problem"),
    [
        (GOOD_SOURCES + GOOD_SOURCES, "duplicate source type slug(s) python"),
        (
            GOOD_SOURCES.replace("server", "desktop"),
            "source type 'python': category: must be one of",
        ),
        (
            GOOD_SOURCES.replace("  description: Python.\n", ""),
            "missing required key(s) description",
        ),
        (
            GOOD_SOURCES + "- slug: Bad Slug\n  name: B\n  category: server\n  description: B.\n",
            "source type 'Bad Slug': slug: 'Bad Slug' is not a valid slug",
        ),
        ("slug: python\n", "must be a list of source types"),
        ("- [unclosed\n", "invalid YAML"),
    ],
)
def test_a_broken_sources_file_fails(tmp_path: Path, sources: str, problem: str) -> None:
    write_catalog(tmp_path, sources=sources)
    with pytest.raises(CatalogError) as caught:
        catalog.load(tmp_path)
    assert "sources.yaml" in str(caught.value)
    assert problem in str(caught.value)


def test_the_schemas_are_draft_2020_12_and_agree_with_the_code() -> None:
    from jsonschema import Draft202012Validator

    from connections.catalog import schemas
    from switchyard.names import SLUG_RE

    for name in ("source", "destination"):
        found = schemas.schema(name)
        assert found["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(found)
        assert found["$defs"]["slug"]["pattern"] == SLUG_RE.pattern
    assert "Raw Data" in catalog.DESTINATION_CATEGORIES  # the constants come from them
    assert set(catalog.SETTING_TYPES) == set(SAMPLE) | {"select"}


def test_a_missing_catalog_fails(tmp_path: Path) -> None:
    with pytest.raises(
        CatalogError, match=r"sources\.yaml: the source type catalog file is missing"
    ):
        catalog.load(tmp_path)


def test_startup_fails_loudly_on_a_broken_catalog(tmp_path: Path) -> None:
    # A fresh process (app registries fill once per process): django.setup() runs
    # ConnectionsConfig.ready(), which reads the catalog from the directory given.
    write_catalog(tmp_path, destination=GOOD_DESTINATION.replace("action: send", "action: nope"))
    script = (
        "import sys, pathlib, django\n"
        "from connections.catalog import loader\n"
        "loader.DATA_DIR = pathlib.Path(sys.argv[1])\n"
        "django.setup()\n"
    )
    started = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "switchyard.settings"},
        check=False,
    )
    assert started.returncode != 0
    assert "connections.catalog.loader.CatalogError" in started.stderr
    assert "demo.yaml: destination 'demo' > preset 'Send': action: unknown action 'nope'" in (
        started.stderr
    )
    assert catalog.destination("actions-equals") is not None  # this process is untouched
