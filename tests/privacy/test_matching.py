"""privacy.matching: the docs' matching rules and every default matcher, without a database."""

from __future__ import annotations

import pytest

from privacy.matching import (
    Classification,
    Detector,
    Matcher,
    MatchOn,
    PatternError,
    Precision,
    compact,
    compile_pattern,
    detect,
    dice,
    effective,
    fields,
)
from privacy.matching.defaults import BY_ID, DEFAULT_MATCHERS

RED, YELLOW = Classification.RED, Classification.YELLOW


def key_matcher(
    name: str, *synonyms: str, precision: Precision = Precision.EXACT, pattern: str = ""
) -> Matcher:
    return Matcher(
        id="m",
        name=name,
        classification=RED,
        match_on=MatchOn.KEY,
        precision=precision,
        synonyms=synonyms,
        pattern=pattern,
    )


def value_matcher(pattern: str) -> Matcher:
    return Matcher(
        id="v", name="value", classification=YELLOW, match_on=MatchOn.VALUE, pattern=pattern
    )


def flagged(matcher: Matcher, event: dict) -> list[str]:
    return detect(event, [matcher]).get(matcher.id, [])


# -- the published list ---------------------------------------------------------------------

PUBLISHED_RED = [
    "social security number",
    "password",
    "visa",
    "veteran",
    "disability",
    "credit card",
    "passport",
    "token",
]
PUBLISHED_YELLOW = [
    "race",
    "birthdate",
    "phone",
    "address",
    "gender",
    "ethnicity",
    "citizenship",
    "name",
    "street",
    "city",
    "zipcode",
    "email",
    "certificate",
    "license",
    "identification",
    "serial",
    "ip",
    "photo",
    "salary",
    "religion",
    "email",
    "mac",
    "sex",
    "gender",
    "sexual orientation",
    "medication",
    "allergy",
    "condition",
    "diagnosis",
    "procedure",
]


def test_every_published_default_is_there_with_its_classification() -> None:
    assert (len(PUBLISHED_RED), len(PUBLISHED_YELLOW)) == (8, 30)  # 38 rows as published
    keys = {m.name: m for m in DEFAULT_MATCHERS if m.match_on == MatchOn.KEY}
    for name in PUBLISHED_RED:
        assert keys[name].classification == RED, name
    for name in PUBLISHED_YELLOW:
        assert keys[name].classification == YELLOW, name
    # email and gender appear twice in the list: one key matcher each; the second email
    # row is the value matcher for addresses.
    assert set(keys) == set(PUBLISHED_RED) | set(PUBLISHED_YELLOW)
    assert BY_ID["email-value"].match_on == MatchOn.VALUE
    assert all(m.default and m.enabled for m in DEFAULT_MATCHERS)
    assert len({m.id for m in DEFAULT_MATCHERS}) == len(DEFAULT_MATCHERS)


def test_every_default_pattern_compiles_under_re2() -> None:
    for matcher in DEFAULT_MATCHERS:
        if matcher.pattern:
            compile_pattern(matcher.pattern)


# A key each default flags and one it must not, under properties.
KEY_SAMPLES = {
    "social-security-number": ("socialSecurityNumber", "social_media"),
    "password": ("Password", "passage"),
    "visa": ("visa", "visit"),
    "veteran": ("veteran_status", "vertical"),
    "disability": ("disability", "stable"),
    "credit-card": ("CCN", "card_color"),
    "passport": ("passport_number", "pass"),
    "token": ("auth_token", "talk"),
    "race": ("race", "trace"),
    "birthdate": ("date_of_birth", "date"),
    "phone": ("phoneNumber", "iphone_model"),
    "address": ("home-address", "dress_size"),
    "gender": ("gender", "genre"),
    "ethnicity": ("ethnicity", "city_id"),
    "citizenship": ("citizenship", "ship_date"),
    "name": ("firstName", "username_length"),
    "street": ("street", "stream"),
    "city": ("city", "ethnicity_code"),
    "zipcode": ("zip_code", "zipped"),
    "email": ("e-mail", "mailbox_size"),
    "certificate": ("certificate", "cert_type"),
    "license": ("licence", "lice"),
    "identification": ("identification", "identity_provider"),
    "serial": ("serial_number", "cereal"),
    "ip": ("ip", "zip"),
    "photo": ("photos", "photon_count"),
    "salary": ("salary", "celery"),
    "religion": ("religion", "region"),
    "mac": ("mac_address", "macro"),
    "sex": ("sex", "sexy_theme"),
    "sexual-orientation": ("sexual_orientation", "screen_orientation_lock"),
    "medication": ("medications", "meditation_minutes"),
    "allergy": ("allergies", "gallery"),
    "condition": ("condition", "conditional_logic"),
    "diagnosis": ("diagnosis", "diagram"),
    "procedure": ("procedure", "produce"),
}
VALUE_SAMPLES = {
    "email-value": ("jane@example.com", "jane at example"),
    "ip-value": ("192.168.10.1", "999.1.1.1"),
    "phone-value": ("123-456-7890", "1234567890"),
    "credit-card-value": ("4111 1111 1111 1111", "1234 5678"),
}


def test_every_default_has_samples() -> None:
    assert set(KEY_SAMPLES) | set(VALUE_SAMPLES) == set(BY_ID)


@pytest.mark.parametrize("matcher_id", sorted(KEY_SAMPLES))
def test_default_key_matcher(matcher_id: str) -> None:
    matcher = BY_ID[matcher_id]
    positive, negative = KEY_SAMPLES[matcher_id]
    assert flagged(matcher, {"properties": {positive: "x"}}) == [f"properties.{positive}"]
    assert flagged(matcher, {"properties": {negative: "x"}}) == []


@pytest.mark.parametrize("matcher_id", sorted(VALUE_SAMPLES))
def test_default_value_matcher(matcher_id: str) -> None:
    matcher = BY_ID[matcher_id]
    positive, negative = VALUE_SAMPLES[matcher_id]
    assert flagged(matcher, {"properties": {"field": positive}}) == ["properties.field"]
    assert flagged(matcher, {"properties": {"field": negative}}) == []


def test_ipv6_values_are_addresses_and_times_are_not() -> None:
    matcher = BY_ID["ip-value"]
    assert flagged(matcher, {"context": {"ip": "2001:db8::1"}}) == ["context.ip"]
    assert flagged(matcher, {"properties": {"at": "12:30:45"}}) == []


# -- the docs' rules --------------------------------------------------------------------------


def test_exact_matches_phone_number_but_never_phne_number() -> None:
    matcher = key_matcher("phone number")
    event = {
        "properties": {"phone number": 1, "phone_number": 2, "phoneNumber": 3, "phne number": 4}
    }
    assert flagged(matcher, event) == [
        "properties.phone number",
        "properties.phoneNumber",
        "properties.phone_number",
    ]


def test_similar_matches_email_and_e_mail_and_near_misses() -> None:
    matcher = key_matcher("email", precision=Precision.SIMILAR)
    assert flagged(matcher, {"properties": {"e-mail": 1}}) == ["properties.e-mail"]
    assert flagged(matcher, {"properties": {"emails": 1}}) == ["properties.emails"]
    assert flagged(matcher, {"properties": {"female": 1}}) == []
    assert flagged(
        key_matcher("phone number", precision=Precision.SIMILAR), {"traits": {"phne number": 1}}
    ) == ["traits.phne number"]


def test_dice_is_godice_compare_string() -> None:
    assert dice("night", "nacht") == pytest.approx(0.25)
    assert dice("phnenumber", "phonenumber") == pytest.approx(16 / 19)
    assert dice("a", "a") == 1.0
    assert dice("a", "ab") == 0.0
    # Just over and just under the 0.7 threshold ("> 0.7, then we say it's a match").
    assert dice("emails", "email") > 0.7
    assert compact("Social Insurance No.") == "socialinsuranceno"


def test_synonyms_catch_what_exact_and_fuzzy_matching_miss() -> None:
    without = key_matcher("credit card number", precision=Precision.SIMILAR)
    with_synonyms = key_matcher(
        "credit card number", "credit card no", "debit card number", "debit card no"
    )
    event = {"properties": {"debit_card_no": "x"}}
    assert flagged(without, event) == []
    assert flagged(with_synonyms, event) == ["properties.debit_card_no"]


def test_sin_example_matches_every_spelling_through_synonyms() -> None:
    matcher = key_matcher("SIN", "Social Insurance Number", "Social Insurance No.", "SocInsNo")
    event = {
        "traits": {
            "sin": 1,
            "socialInsuranceNumber": 2,
            "social_insurance_no": 3,
            "SocInsNo": 4,
            "sinus": 5,
        }
    }
    assert flagged(matcher, event) == [
        "traits.SocInsNo",
        "traits.sin",
        "traits.socialInsuranceNumber",
        "traits.social_insurance_no",
    ]


def test_key_matcher_pattern_is_searched_in_the_key() -> None:
    matcher = key_matcher("tax", pattern=r"^tax_?id\d*$")
    assert flagged(matcher, {"properties": {"taxid2": 1, "tax": 2, "syntax": 3}}) == [
        "properties.tax",
        "properties.taxid2",
    ]


@pytest.mark.parametrize(
    ("pattern", "matching", "other"),
    [
        ("@example.com", "jane@example.com", "jane@example.org"),
        (r"Number \d", "Number 1", "Number one"),
        (r"Year \d+", "Year 2019", "Year"),
        ("Apple", "Big Apple pie", "apple"),
        ("Apple|Orange", "Orange juice", "Pear"),
    ],
)
def test_the_docs_regex_examples_search_values(pattern: str, matching: str, other: str) -> None:
    matcher = value_matcher(pattern)
    assert flagged(matcher, {"properties": {"a": matching, "b": other}}) == ["properties.a"]


def test_values_are_strings_and_numbers_not_booleans_or_objects() -> None:
    matcher = value_matcher(r"^\d{7}$")
    event = {
        "properties": {"n": 1234567, "s": "1234567", "b": True, "list": ["1234567"], "o": {"x": 1}}
    }
    assert flagged(matcher, event) == ["properties.list", "properties.n", "properties.s"]


def test_only_context_traits_and_properties_are_scanned() -> None:
    matcher = key_matcher("email")
    event = {
        "email": "top",
        "userId": "u1",
        "integrations": {"email": 1},
        "context": {"traits": {"email": 1}},
        "traits": {"email": 1},
        "properties": {"user": {"email": 1}},
    }
    assert flagged(matcher, event) == [
        "context.traits.email",
        "properties.user.email",
        "traits.email",
    ]


def test_arrays_are_walked_without_indexes_and_objects_flag_their_key() -> None:
    matcher = key_matcher("address", precision=Precision.SIMILAR)
    event = {
        "properties": {"products": [{"address": "a"}, {"address": "b"}], "address": {"city": "x"}}
    }
    assert flagged(matcher, event) == ["properties.address", "properties.products.address"]
    paths = [f.path for f in fields({"properties": {"a": [{"b": 1}, [{"c": 2}]]}})]
    assert paths == ["properties.a", "properties.a.b", "properties.a.c"]


def test_deep_nesting_is_bounded() -> None:
    node: dict = {}
    event = {"properties": node}
    for _ in range(500):
        node["x"] = {}
        node = node["x"]
    assert len(list(fields(event))) == 32


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?=a)b", "invalid perl operator"),  # lookahead: Go's regexp has none
        (r"(a)\1", "invalid escape sequence"),  # backreference
        ("[", "missing ]"),
        ("a{1001}", "invalid repetition size"),
        ("x" * 1001, "longer than 1000"),
    ],
)
def test_patterns_re2_refuses_say_why(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert reason in str(caught.value)


def test_go_syntax_is_accepted() -> None:
    for pattern in [r"(?i)apple", r"\p{Greek}+", r"(?P<year>\d{4})", r"[[:alpha:]]+"]:
        compile_pattern(pattern)


def test_a_custom_matcher_overrides_the_default_of_the_same_name() -> None:
    custom = Matcher(id="pm_1", name="Email", classification=RED, match_on=MatchOn.KEY)
    matchers = effective(DEFAULT_MATCHERS, [custom])
    assert "email" not in {m.id for m in matchers}
    assert matchers[-1] is custom
    found = Detector(matchers).detect({"properties": {"email": "x"}})
    assert found["pm_1"] == ["properties.email"]


def test_a_disabled_override_switches_the_default_off_and_others_are_skipped() -> None:
    off = Matcher(id="pm_1", name="ip", classification=RED, match_on=MatchOn.KEY, enabled=False)
    idle = Matcher(
        id="pm_2", name="loyalty", classification=RED, match_on=MatchOn.KEY, enabled=False
    )
    ids = {m.id for m in effective(DEFAULT_MATCHERS, [off, idle])}
    assert {"ip", "pm_1", "pm_2"} & ids == set()
    assert "ip-value" in ids


def test_all_defaults_on_a_typical_event() -> None:
    event = {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "ann@example.com", "firstName": "Ann", "phone": "555-123-4567"},
        "context": {"ip": "203.0.113.9", "library": {"name": "analytics.js"}},
        "properties": {"plan": "pro", "credit_card": "4111-1111-1111-1111"},
    }
    found = detect(event, DEFAULT_MATCHERS)
    assert found == {
        "email": ["traits.email"],
        "email-value": ["traits.email"],
        "name": ["context.library.name", "traits.firstName"],
        "phone": ["traits.phone"],
        "phone-value": ["traits.phone"],
        "ip": ["context.ip"],
        "ip-value": ["context.ip"],
        "credit-card": ["properties.credit_card"],
        "credit-card-value": ["properties.credit_card"],
    }
