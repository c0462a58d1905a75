"""The pure identity engine (engage.identity): extraction, blocked values and the
flat matching decision, on the docs' examples. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engage.identity import (
    ACCOUNTS,
    MAPPINGS_MAX,
    MERGES_MAX,
    USERS,
    Action,
    Code,
    Identifier,
    ProfileView,
    Rule,
    Settings,
    decide,
    dropped,
    examine,
    extract,
    rejected,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DEFAULTS = Settings.from_defaults()


def uid(value: str) -> Identifier:
    return Identifier("user_id", value)


def email(value: str) -> Identifier:
    return Identifier("email", value)


def anon(value: str) -> Identifier:
    return Identifier("anonymous_id", value)


def profile(
    key: str, *identifiers: Identifier, seen: datetime = NOW, merges: int = 0, mappings: int = 0
) -> ProfileView:
    view = ProfileView(key, merges=merges, mappings=mappings)
    for i in identifiers:
        view.values.setdefault(i.type, {})[i.value] = seen
    return view


def matches(*profiles: ProfileView) -> dict[Identifier, ProfileView]:
    return {Identifier(t, v): p for p in profiles for t, values in p.values.items() for v in values}


# --- extraction ----------------------------------------------------------------


def test_default_locations_are_read() -> None:
    message = {
        "type": "track",
        "userId": "u1",
        "anonymousId": "a1",
        "properties": {"email": "jane@example.com"},
        "context": {
            "device": {
                "type": "ios",
                "id": "dev-1",
                "advertisingId": "ad-1",
                "adTrackingEnabled": True,
                "token": "push-1",
            },
            "integrations": {"Google Analytics": {"clientId": "ga-1"}},
        },
    }

    assert extract(message, DEFAULTS) == [
        uid("u1"),
        email("jane@example.com"),
        anon("a1"),
        Identifier("ga_client_id", "ga-1"),
        Identifier("ios.id", "dev-1"),
        Identifier("ios.idfa", "ad-1"),
        Identifier("ios.push_token", "push-1"),
    ]


def test_advertising_id_needs_ad_tracking_and_the_device_type() -> None:
    message = {
        "anonymousId": "a1",
        "context": {"device": {"type": "android", "id": "d", "advertisingId": "ad"}},
    }

    assert set(extract(message, DEFAULTS)) == {anon("a1"), Identifier("android.id", "d")}


def test_traits_email_comes_before_context_traits() -> None:
    message = {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "a@example.com"},
        "context": {"traits": {"email": "b@example.com"}},
    }

    assert email("a@example.com") in extract(message, DEFAULTS)
    assert email("b@example.com") not in extract(message, DEFAULTS)


def test_group_id_is_an_account_identifier() -> None:
    assert extract({"type": "group", "userId": "u1", "groupId": "g1"}, DEFAULTS) == [
        uid("u1"),
        Identifier("group_id", "g1", ACCOUNTS),
    ]


def test_numbers_are_read_as_strings_and_objects_are_not_identifiers() -> None:
    assert extract({"userId": 42, "anonymousId": {"x": 1}}, DEFAULTS) == [uid("42")]


def test_types_the_space_has_not_configured_are_not_read_from_default_locations() -> None:
    settings = Settings([Rule("user_id", 1, 1)])

    assert extract({"userId": "u1", "anonymousId": "a1"}, settings) == [uid("u1")]


def test_external_ids_need_all_four_fields_and_lowercase_types() -> None:
    settings = Settings.from_defaults()
    phone = {"id": "123-456-7890", "type": "phone", "collection": "users", "encoding": "none"}
    message = {
        "userId": "u1",
        "context": {
            "externalIds": [
                phone,
                {"id": "x", "type": "crm_id", "collection": "users"},  # no encoding
                {"id": "y", "type": "Shopify_Id", "collection": "users", "encoding": "none"},
                {"id": "z", "type": "erp_id", "collection": "teams", "encoding": "none"},
                {"id": "acc-1", "type": "account_no", "collection": "accounts", "encoding": "none"},
            ]
        },
    }

    examined = examine(message, settings)

    assert examined.identifiers == [
        uid("u1"),
        Identifier("phone", "123-456-7890", USERS),
        Identifier("account_no", "acc-1", ACCOUNTS),
    ]
    # Unknown types are returned for the service to add with the preset rule.
    assert examined.new_types == ["phone", "account_no"]
    preset = settings.rule("phone")
    assert preset.priority == max(r.priority for r in settings.rules.values()) + 1
    assert (preset.limit, preset.period) == (5, "EVER")


def test_custom_identifiers_from_trait_and_property_keys_in_either_case() -> None:
    settings = Settings([*DEFAULTS.rules.values(), Rule("shopify_id", 12, 1), Rule("phone", 13, 5)])

    from_camel = extract({"userId": "u1", "traits": {"shopifyId": "s-1"}}, settings)
    from_snake = extract({"properties": {"shopify_id": "s-2", "phone": "555"}}, settings)
    from_context = extract({"context": {"traits": {"phone": "556"}}}, settings)

    assert Identifier("shopify_id", "s-1") in from_camel
    assert from_snake == [Identifier("phone", "555"), Identifier("shopify_id", "s-2")]
    assert from_context == [Identifier("phone", "556")]


def test_custom_identifier_from_group_traits_is_the_accounts() -> None:
    settings = Settings([*DEFAULTS.rules.values(), Rule("domain", 12, 1)])

    found = extract({"type": "group", "groupId": "g1", "traits": {"domain": "acme.com"}}, settings)

    assert Identifier("domain", "acme.com", ACCOUNTS) in found


@pytest.mark.parametrize("value", ["0", "000-000", "-", "-1", "null", "anonymous"])
def test_suggested_blocked_values_are_not_promoted(value: str) -> None:
    examined = examine({"userId": value, "anonymousId": "a1"}, DEFAULTS)

    assert examined.identifiers == [anon("a1")]
    assert examined.blocked == [uid(value)]


def test_custom_exact_and_regex_blocks_apply_to_their_type_only() -> None:
    settings = Settings(
        [
            Rule("user_id", 1, 1, blocked_values=({"value": "abc123", "kind": "EXACT"},)),
            Rule("email", 2, 5, blocked_values=({"value": "@test\\.com$", "kind": "REGEX"},)),
            Rule("anonymous_id", 3, 5),
        ]
    )
    message = {"userId": "abc123", "anonymousId": "abc123", "traits": {"email": "qa@test.com"}}

    examined = examine(message, settings)

    assert examined.identifiers == [anon("abc123")]
    assert examined.blocked == [uid("abc123"), email("qa@test.com")]
    assert extract({"traits": {"email": "qa@test.community"}}, settings) == [
        email("qa@test.community")
    ]


def test_an_invalid_blocked_pattern_blocks_nothing() -> None:
    settings = Settings(
        [Rule("user_id", 1, 1, blocked_values=({"value": "(?=x)", "kind": "REGEX"},))]
    )

    assert extract({"userId": "x"}, settings) == [uid("x")]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"type": "track", "messageId": "m" * 101}, "messageId longer than 100 characters"),
        ({"type": "group", "groupId": ""}, "empty groupId in a group call"),
        ({"type": "group"}, "empty groupId in a group call"),
        ({"type": "group", "groupId": "g" * 501}, "groupId longer than 500 characters"),
        ({"type": "track", "context": {"groupId": ""}}, "empty context.groupId in a track call"),
        (
            {"type": "track", "properties": {str(n): n for n in range(301)}},
            "more than 300 properties",
        ),
    ],
)
def test_silent_drops(message: dict[str, object], reason: str) -> None:
    assert dropped(message) == reason


def test_limits_are_not_drops_at_the_boundary() -> None:
    assert dropped({"type": "track", "messageId": "m" * 100, "properties": {"a": 1}}) is None
    assert dropped({"type": "group", "groupId": "g" * 500}) is None


def test_identify_with_300_traits_is_rejected_and_299_is_not() -> None:
    assert rejected({"type": "identify", "traits": {str(n): n for n in range(300)}})
    assert rejected({"type": "identify", "traits": {str(n): n for n in range(299)}}) is None


# --- the matching decision -------------------------------------------------------


def test_no_identifiers_is_the_documented_error() -> None:
    decision = decide([], {}, DEFAULTS, NOW)

    assert decision.action is Action.NONE
    assert [(v.code, v.message) for v in decision.violations] == [
        (Code.NO_IDENTIFIERS, "No matching identifiers on event")
    ]


def test_no_match_creates_a_profile_with_every_identifier() -> None:
    decision = decide([anon("a1"), uid("u1")], {}, DEFAULTS, NOW)

    assert decision.action is Action.CREATE
    assert decision.add == [uid("u1"), anon("a1")]


def test_one_match_attaches_and_adds_the_new_values() -> None:
    known = profile("p1", uid("u1"))

    decision = decide([uid("u1"), anon("a1")], matches(known), DEFAULTS, NOW)

    assert decision.action is Action.ATTACH
    assert decision.profile is known
    assert decision.add == [anon("a1")]
    assert decision.seen == [uid("u1")]


def test_several_matches_merge_into_the_highest_priority_match() -> None:
    identified = profile("p1", uid("u1"))
    anonymous = profile("p2", anon("a1"))

    decision = decide([anon("a1"), uid("u1")], matches(identified, anonymous), DEFAULTS, NOW)

    assert decision.action is Action.MERGE
    assert decision.profile is identified
    assert decision.merged == [anonymous]
    assert decision.violations == []


def test_docs_worked_example_demotes_email_and_creates_a_profile() -> None:
    jane = profile("p1", uid("abc123"), email("jane@example1.com"))

    decision = decide([uid("abc456"), email("jane@example1.com")], matches(jane), DEFAULTS, NOW)

    assert decision.action is Action.CREATE
    assert decision.add == [uid("abc456")]
    assert decision.demoted == [email("jane@example1.com")]
    assert [(v.code, v.message, v.detail["type"]) for v in decision.violations] == [
        (Code.VALUE_LIMIT, "Identifier value limit exceeded", "user_id")
    ]


def test_merge_protection_shared_anonymous_id_never_merges_two_user_ids() -> None:
    u1 = profile("p1", uid("u1"), anon("a1"))
    u2 = profile("p2", uid("u2"))

    decision = decide([uid("u2"), anon("a1")], matches(u1, u2), DEFAULTS, NOW)

    assert decision.action is Action.ATTACH
    assert decision.profile is u2
    assert decision.add == []
    assert decision.demoted == [anon("a1")]


def test_merge_protection_blob_email_keeps_users_apart() -> None:
    u1 = profile("p1", uid("u1"), email("team@company.com"))

    decision = decide([uid("u2"), email("team@company.com")], matches(u1), DEFAULTS, NOW)

    assert decision.action is Action.CREATE
    assert decision.add == [uid("u2")]


def test_merge_of_anonymous_profiles_without_user_ids_is_allowed() -> None:
    browsing = profile("p1", anon("a1"))
    mobile = profile("p2", anon("a2"))

    decision = decide([anon("a1"), anon("a2")], matches(browsing, mobile), DEFAULTS, NOW)

    assert decision.action is Action.MERGE


def test_merging_union_over_a_limit_is_refused_even_without_new_values() -> None:
    settings = Settings([Rule("user_id", 1, 1), Rule("email", 2, 1), Rule("anonymous_id", 3, 5)])
    a = profile("p1", uid("u1"), email("x@example.com"))
    b = profile("p2", anon("a1"), email("y@example.com"))

    decision = decide([uid("u1"), anon("a1")], matches(a, b), settings, NOW)

    assert decision.action is Action.ATTACH
    assert decision.profile is a
    assert decision.demoted == [anon("a1")]


def test_count_ever_limit_demotes_the_extra_value() -> None:
    settings = Settings([Rule("user_id", 1, 1), Rule("anonymous_id", 2, 2)])
    known = profile("p1", uid("u1"), anon("a1"), anon("a2"))

    decision = decide([uid("u1"), anon("a3")], matches(known), settings, NOW)

    assert decision.action is Action.ATTACH
    assert decision.add == []
    assert decision.demoted == [anon("a3")]
    assert decision.violations[0].code is Code.VALUE_LIMIT


def test_weekly_limit_counts_only_values_seen_in_the_last_week() -> None:
    settings = Settings([Rule("user_id", 1, 1), Rule("anonymous_id", 2, 2, "WEEKLY")])
    stale = profile("p1", uid("u1"), anon("a1"), anon("a2"), seen=NOW - timedelta(days=8))
    fresh = profile("p1", uid("u1"), anon("a1"), anon("a2"), seen=NOW - timedelta(days=6))

    allowed = decide([uid("u1"), anon("a3")], matches(stale), settings, NOW)
    refused = decide([uid("u1"), anon("a3")], matches(fresh), settings, NOW)

    assert allowed.add == [anon("a3")]
    assert refused.add == []
    assert [(v.code, v.message) for v in refused.violations] == [
        (Code.TIME_LIMIT, "Identifier value time limit exceeded")
    ]


def test_tightened_limits_do_not_evict_values_already_on_the_profile() -> None:
    settings = Settings([Rule("user_id", 1, 1), Rule("anonymous_id", 2, 1)])
    known = profile("p1", uid("u1"), anon("a1"), anon("a2"))

    decision = decide([uid("u1"), anon("a1")], matches(known), settings, NOW)

    assert decision.action is Action.ATTACH
    assert decision.demoted == []


def test_event_with_two_values_over_the_limit_keeps_the_higher_ranked() -> None:
    decision = decide([uid("u1"), uid("u2")], {}, DEFAULTS, NOW)

    assert decision.action is Action.CREATE
    assert decision.add == [uid("u1")]
    assert decision.demoted == [uid("u2")]


def test_priority_order_decides_which_identifier_is_demoted() -> None:
    # anonymous_id outranks email here: the email goes instead.
    settings = Settings([Rule("user_id", 1, 1), Rule("anonymous_id", 2, 5), Rule("email", 3, 5)])
    known = profile("p1", uid("u1"), anon("a1"), email("e@example.com"))

    decision = decide(
        [uid("u2"), anon("a1"), email("e@example.com")], matches(known), settings, NOW
    )

    assert decision.demoted == [email("e@example.com"), anon("a1")]
    assert decision.action is Action.CREATE


def test_merge_cap_keeps_the_event_on_the_highest_priority_match() -> None:
    full = profile("p1", uid("u1"), merges=MERGES_MAX)
    other = profile("p2", anon("a1"))

    decision = decide(
        [uid("u1"), anon("a1"), email("e@example.com")], matches(full, other), DEFAULTS, NOW
    )

    assert decision.action is Action.ATTACH
    assert decision.profile is full
    assert decision.merged == []
    assert decision.add == [email("e@example.com")]
    assert [(v.code, v.message) for v in decision.violations] == [
        (Code.MERGE_LIMIT, "Profile merge limit exceeded")
    ]


def test_merge_just_under_the_cap_is_allowed() -> None:
    nearly = profile("p1", uid("u1"), merges=MERGES_MAX - 1)
    other = profile("p2", anon("a1"))

    assert (
        decide([uid("u1"), anon("a1")], matches(nearly, other), DEFAULTS, NOW).action
        is Action.MERGE
    )


def test_mapping_cap_adds_no_more_values_but_the_event_resolves() -> None:
    full = profile("p1", uid("u1"), mappings=MAPPINGS_MAX)

    decision = decide([uid("u1"), anon("a9")], matches(full), DEFAULTS, NOW)

    assert decision.action is Action.ATTACH
    assert decision.profile is full
    assert decision.add == []
    assert [(v.code, v.message) for v in decision.violations] == [
        (Code.MAPPING_LIMIT, "Identifier mapping limit exceeded")
    ]


def test_mapping_cap_refuses_a_merge_past_it() -> None:
    big = profile("p1", uid("u1"), mappings=600)
    other = profile("p2", anon("a1"), mappings=401)

    decision = decide([uid("u1"), anon("a1")], matches(big, other), DEFAULTS, NOW)

    assert decision.action is Action.ATTACH
    assert decision.profile is big
    assert decision.violations[0].code is Code.MAPPING_LIMIT
