"""Benchmark: PII detection (privacy.matching.Detector) vs a naive per-matcher loop.

The bar (issue 13): over typical events, with every default matcher and 100 custom
ones, the Detector reaches at least 10x the throughput of a loop that applies
Python's ``re`` per matcher per field, measured in the same run. Timings are
printed, never asserted (they depend on the machine); agreement on every event is
asserted. Run with ``python -m pytest tests/bench/test_detection_bench.py -s``.

The patterns and values here stay where Python's ``re`` and RE2 agree (ASCII, no
trailing newlines), so the naive loop is a fair reference for the results.
"""

from __future__ import annotations

import gc
import random
import re
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from privacy.matching import (
    SIMILARITY_THRESHOLD,
    Classification,
    Detector,
    Matcher,
    MatchOn,
    Precision,
    compact,
    dice,
    effective,
    fields,
)
from privacy.matching.defaults import DEFAULT_MATCHERS

EVENTS = 400
REPETITIONS = 15  # of the Detector's pass; the naive loop (~20 ms an event) runs once
BAR = 10.0

# -- 100 custom matchers: 40 exact keys with synonyms, 30 similar keys, 30 value patterns --

_KEY_TERMS = [
    ("loyalty id", ("loyalty number", "member id", "rewards id")),
    ("customer number", ("customer no", "client number", "account holder")),
    ("tax id", ("tin", "vat number", "tax number")),
    ("employee id", ("staff id", "badge number")),
    ("insurance number", ("policy number", "insurance id")),
    ("bank account", ("iban", "account number", "routing number")),
    ("national insurance", ("nino", "ni number")),
    ("student id", ("matriculation number", "enrolment id")),
    ("patient id", ("mrn", "medical record number")),
    ("device fingerprint", ("fingerprint", "device hash")),
]
_SUFFIXES = ["", " primary", " secondary", " legacy"]
_SIMILAR_TERMS = [
    "mothers maiden name",
    "security answer",
    "security question",
    "pin code",
    "voter id",
    "biometric template",
    "health plan",
    "blood type",
    "emergency contact",
    "next of kin",
    "spouse name",
    "child name",
    "home phone",
    "work phone",
    "fax number",
    "pager number",
    "geo location",
    "gps coordinates",
    "latitude",
    "longitude",
    "vehicle plate",
    "vin number",
    "court record",
    "criminal record",
    "union membership",
    "political opinion",
    "marital status",
    "household income",
    "credit score",
    "shoe size",
]
_VALUE_PATTERNS = [
    r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$",  # IBAN-like
    r"^ACCT-\d{8}$",
    r"@example\.org$",
    r"(?i)^secret-",
    r"^\d{3}-\d{2}-\d{4}$",  # SSN-like
    r"^[A-Z]\d{8}$",  # passport-like
    r"\bapi_key=[A-Za-z0-9]{16,}",
    r"^sk_(?:live|test)_[A-Za-z0-9]{10,}$",
    r"^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",  # a JWT
    r"^\d{5}(?:-\d{4})?$",  # US ZIP
    r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$",  # UK postcode
    r"(?i)password",
    r"^(?:\d{1,3}\.){3}\d{1,3}/\d{1,2}$",  # CIDR
    r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$",  # MAC
    r"^-?\d{1,3}\.\d{4,},\s?-?\d{1,3}\.\d{4,}$",  # lat,long
    r"^\+\d{10,14}$",  # E.164
    r"^MRN\d{6,10}$",
    r"(?i)\bdiagnos",
    r"^[A-HJ-NPR-Z0-9]{17}$",  # VIN
    r"^EMP-\d{5}$",
    r"^GB\d{9}$",  # VAT
    r"^\d{2}/\d{2}/\d{4}$",  # a date of birth
    r"(?i)confidential",
    r"^BADGE-[A-Z]{3}\d{3}$",
    r"^[A-Z]{2}\d{6}[A-D]$",  # NI number
    r"(?i)\bssn\b",
    r"^pk_[a-z0-9]{24}$",
    r"^tok_[A-Za-z0-9]{14,}$",
    r"^S\d{7}[A-Z]$",  # student id
    r"^VOTER-\d{6}$",
]
_KEY_PATTERNS = [r"^tax_?id\d*$", r"(?i)^x_?ssn", r"^pin_?\d+$", r"(?i)secret$"]


def custom_matchers() -> list[Matcher]:
    customs: list[Matcher] = []
    for i, (name, synonyms) in enumerate(
        (f"{name}{suffix}", tuple(f"{s}{suffix}" for s in synonyms))
        for suffix in _SUFFIXES
        for name, synonyms in _KEY_TERMS
    ):
        customs.append(
            Matcher(
                id=f"pm_key_{i}",
                name=name,
                classification=Classification.RED,
                match_on=MatchOn.KEY,
                synonyms=synonyms,
                pattern=_KEY_PATTERNS[i] if i < len(_KEY_PATTERNS) else "",
            )
        )
    for i, name in enumerate(_SIMILAR_TERMS):
        customs.append(
            Matcher(
                id=f"pm_similar_{i}",
                name=name,
                classification=Classification.YELLOW,
                match_on=MatchOn.KEY,
                precision=Precision.SIMILAR,
            )
        )
    for i, pattern in enumerate(_VALUE_PATTERNS):
        customs.append(
            Matcher(
                id=f"pm_value_{i}",
                name=f"value {i}",
                classification=Classification.YELLOW,
                match_on=MatchOn.VALUE,
                pattern=pattern,
            )
        )
    assert len(customs) == 100
    return customs


# -- typical events, as analytics.js sends them ------------------------------------------------

FIRST = ["Ann", "Bo", "Chen", "Dana", "Eli", "Fatima", "Goran", "Hana"]
LAST = ["Smith", "Okafor", "Larsen", "Nakamura", "Rossi", "Haddad"]
AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
]
PATHS = ["/", "/pricing", "/docs/getting-started", "/checkout", "/cart", "/blog/launch"]
PRODUCTS = [
    ("p-100", "SKU-100-XL", "Trail Shoe", 89.0, "Footwear"),
    ("p-200", "SKU-200-M", "Rain Jacket", 149.5, "Outerwear"),
    ("p-300", "SKU-300-S", "Wool Socks", 12.0, "Accessories"),
    ("p-400", "SKU-400-L", "Day Pack", 64.99, "Bags"),
]


def _context(rng: random.Random, page: dict[str, Any]) -> dict[str, Any]:
    return {
        "ip": ".".join(str(rng.randrange(1, 224)) for _ in range(4)),
        "userAgent": rng.choice(AGENTS),
        "library": {"name": "analytics.js", "version": rng.choice(["5.2.0", "5.2.1"])},
        "locale": rng.choice(["en-US", "de-DE", "ja-JP"]),
        "timezone": rng.choice(["America/New_York", "Europe/Berlin", "Asia/Tokyo"]),
        "page": page,
        "campaign": {"name": "spring_sale", "source": "newsletter", "medium": "email"},
        "screen": {"width": 1440, "height": 900, "density": 2},
    }


def _page(rng: random.Random) -> dict[str, Any]:
    path = rng.choice(PATHS)
    return {
        "path": path,
        "referrer": rng.choice(["https://www.google.com/", "", "https://news.example.net/"]),
        "search": rng.choice(["", "?utm_source=newsletter"]),
        "title": "Switchyard Outfitters",
        "url": f"https://shop.example.com{path}",
    }


def _person(rng: random.Random) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "email": f"{first.lower()}.{last.lower()}{rng.randrange(100)}@example.com",
        "firstName": first,
        "lastName": last,
        "phone": f"{rng.randrange(200, 999)}-555-{rng.randrange(1000, 9999)}",
        "address": {
            "street": f"{rng.randrange(1, 999)} Main St",
            "city": rng.choice(["Springfield", "Portland", "Austin"]),
            "postalCode": f"{rng.randrange(10000, 99999)}",
            "state": rng.choice(["OR", "TX", "IL"]),
            "country": "US",
        },
        "plan": rng.choice(["free", "pro", "business"]),
        "createdAt": "2024-03-01T12:00:00Z",
        "company": {"name": "Acme", "id": f"c-{rng.randrange(50)}", "employees": 120},
    }


def make_event(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["track", "track", "identify", "page"])
    page = _page(rng)
    event: dict[str, Any] = {
        "type": kind,
        "messageId": f"ajs-{rng.getrandbits(64):016x}",
        "anonymousId": f"anon-{rng.getrandbits(32):08x}",
        "userId": f"user-{rng.randrange(1000)}",
        "timestamp": "2024-05-01T12:00:00.000Z",
        "context": _context(rng, page),
    }
    if kind == "identify":
        event["traits"] = _person(rng)
        if rng.random() < 0.2:
            event["traits"]["loyalty_id"] = f"ACCT-{rng.randrange(10**7, 10**8)}"
    elif kind == "page":
        event["name"] = "Pricing"
        event["properties"] = dict(page)
    else:
        items = [rng.choice(PRODUCTS) for _ in range(rng.randrange(1, 4))]
        event["event"] = rng.choice(["Order Completed", "Product Viewed", "Checkout Started"])
        event["properties"] = {
            "order_id": f"o-{rng.randrange(10**6)}",
            "revenue": round(sum(p[3] for p in items), 2),
            "currency": rng.choice(["USD", "EUR"]),
            "coupon": rng.choice(["", "SPRING24"]),
            "discount": rng.choice([0, 5, 10.5]),
            "products": [
                {"product_id": p[0], "sku": p[1], "name": p[2], "price": p[3], "category": p[4]}
                for p in items
            ],
        }
        event["context"]["traits"] = {"email": _person(rng)["email"]}
    return event


# -- the naive baseline: every matcher on every field, Python's re ----------------------------


def _scalars(value: Any) -> Iterator[str]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, Mapping | list):
                yield from _scalars(item)


def naive_detector(matchers: list[Matcher]) -> Callable[[dict[str, Any]], dict[str, list[str]]]:
    compiled = [
        (
            m,
            [compact(n) for n in m.key_names if compact(n)],
            re.compile(m.pattern) if m.pattern else None,
        )
        for m in matchers
    ]

    def detect(event: dict[str, Any]) -> dict[str, list[str]]:
        found: dict[str, set[str]] = {}
        for item in fields(event):
            folded = compact(item.key)  # once per field, not per matcher: that much care
            for matcher, names, regex in compiled:
                if matcher.match_on == MatchOn.KEY:
                    hit = bool(folded) and (
                        folded in names
                        or (
                            matcher.precision == Precision.SIMILAR
                            and any(dice(folded, n) > SIMILARITY_THRESHOLD for n in names)
                        )
                    )
                    hit = hit or (regex is not None and regex.search(item.key) is not None)
                else:
                    hit = regex is not None and any(
                        regex.search(text) is not None for text in _scalars(item.value)
                    )
                if hit:
                    found.setdefault(matcher.id, set()).add(item.path)
        return {matcher_id: sorted(paths) for matcher_id, paths in found.items()}

    return detect


def _median_seconds(fn: Callable[[dict[str, Any]], Any], events: list[dict[str, Any]]) -> float:
    timings = []
    for _ in range(REPETITIONS):
        gc.disable()
        try:
            start = time.perf_counter()
            for event in events:
                fn(event)
            timings.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(timings)


def _timed_once(
    fn: Callable[[dict[str, Any]], dict[str, list[str]]], events: list[dict[str, Any]]
) -> tuple[float, list[dict[str, list[str]]]]:
    gc.disable()
    try:
        start = time.perf_counter()
        results = [fn(event) for event in events]
        return time.perf_counter() - start, results
    finally:
        gc.enable()


def test_detector_vs_naive_loop() -> None:
    rng = random.Random(20260513)
    events = [make_event(rng) for _ in range(EVENTS)]
    matchers = effective(DEFAULT_MATCHERS, custom_matchers())
    assert len(matchers) == len(DEFAULT_MATCHERS) + 100
    detector = Detector(matchers)
    naive = naive_detector(matchers)

    # The first pass, timed apart, starts from empty caches; it warms them (keys and
    # short values repeat from event to event, which is what they are for) for the
    # timed passes. The naive loop has nothing to warm.
    cold, fast_results = _timed_once(detector.detect, events)
    slow, naive_results = _timed_once(naive, events)
    disagreements = [
        (e, a, b)
        for e, a, b in zip(events, fast_results, naive_results, strict=True)
        if list(a.items()) != list(b.items())
    ]
    assert not disagreements, disagreements[:2]
    flagged = {matcher_id for result in fast_results for matcher_id in result}
    assert {"email", "email-value", "pm_value_1", "ip-value"} <= flagged, "the data should flag"
    field_count = sum(len(list(fields(e))) for e in events)

    fast = _median_seconds(detector.detect, events)
    print(
        f"\nPII detection over {EVENTS} events ({field_count / EVENTS:.1f} fields each), "
        f"{len(matchers)} matchers ({len(DEFAULT_MATCHERS)} defaults + 100 custom):"
    )
    print(f"Detector {EVENTS / fast:,.0f} events/s ({fast * 1000:.1f} ms, median of {REPETITIONS})")
    print(f"Detector, first pass from empty caches {EVENTS / cold:,.0f} events/s")
    print(f"naive re loop {EVENTS / slow:,.0f} events/s ({slow * 1000:.1f} ms, one pass)")
    print(
        f"Detector/naive throughput: {slow / fast:.1f}x, first pass {slow / cold:.1f}x "
        f"(bar: >= {BAR:.0f}x)"
    )


def test_value_matchers_alone() -> None:
    """The same comparison without key matchers: in the naive loop above Dice scores
    dominate, so this shows what one RE2 set per scalar buys over a pattern each."""
    rng = random.Random(20260514)
    events = [make_event(rng) for _ in range(EVENTS)]
    matchers = [
        m for m in effective(DEFAULT_MATCHERS, custom_matchers()) if m.match_on == MatchOn.VALUE
    ]
    detector = Detector(matchers)
    naive = naive_detector(matchers)

    cold, fast_results = _timed_once(detector.detect, events)
    slow, naive_results = _timed_once(naive, events)
    assert [list(r.items()) for r in fast_results] == [list(r.items()) for r in naive_results]
    fast = _median_seconds(detector.detect, events)
    print(f"\nValue matchers alone ({len(matchers)}), {EVENTS} events:")
    print(
        f"Detector {EVENTS / fast:,.0f} events/s (first pass {EVENTS / cold:,.0f}), "
        f"naive re loop {EVENTS / slow:,.0f} events/s"
    )
    print(f"Detector/naive throughput: {slow / fast:.1f}x, first pass {slow / cold:.1f}x")
