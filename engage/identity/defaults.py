"""The identity resolution defaults a new space starts from: pure data.

Types and where each is read from: reference engage.md §3.2 (the docs' table).
"Segment's 11 default" external id types are seeded into every new space.
``braze_id`` and ``cross_domain_id`` appear only on the settings page and only
when Braze is connected or cross-domain analytics (XID) is on; neither exists
here, so they are not seeded. Their locations are known (``OPTIONAL``): an
admin who adds one by name gets it read from its documented place instead of
only from ``context.externalIds`` and a trait or property key.

Priorities (§3.4): ``user_id`` 1, ``email`` 2, then the others alphabetically
from 3. Limits: ``user_id`` 1, every other type 5. Periods follow the docs'
guidance where it names the type (immutable ids "1 ever"; the fast-changing
``anonymous_id`` and ``ga_client_id`` "5 weekly", the settings page's own
example; ``email``, ``android.id`` and ``ios.id`` "5 annually"), and are
``EVER`` for the rest. Every type blocks the suggested values: zeroes and
dashes (a pattern), ``-1``, ``null`` and ``anonymous`` (exact matches).
"""

from __future__ import annotations

from typing import Any, NamedTuple

USERS, ACCOUNTS = "users", "accounts"  # the collections
Path = tuple[str, ...]  # keys from the message's root; a key may contain dots or spaces
# Every (path, value) pair must hold in the message for the location to apply.
Condition = tuple[tuple[Path, Any], ...]


class IdentifierSource(NamedTuple):
    type: str
    paths: tuple[Path, ...]  # read in this order; the first present value is taken
    condition: Condition = ()


class Default(NamedTuple):
    type: str
    priority: int
    limit: int
    period: str  # engage.models.Period's values: EVER, WEEKLY, MONTHLY, ANNUALLY


ANDROID: Condition = ((("context", "device", "type"), "android"),)
IOS: Condition = ((("context", "device", "type"), "ios"),)
TRACKING = (("context", "device", "adTrackingEnabled"), True)

SOURCES: tuple[IdentifierSource, ...] = (
    IdentifierSource("user_id", (("userId",),)),
    IdentifierSource(
        "email",
        (("traits", "email"), ("context", "traits", "email"), ("properties", "email")),
    ),
    IdentifierSource("android.id", (("context", "device", "id"),), ANDROID),
    IdentifierSource(
        "android.idfa", (("context", "device", "advertisingId"),), (*ANDROID, TRACKING)
    ),
    IdentifierSource("android.push_token", (("context", "device", "token"),), ANDROID),
    IdentifierSource("anonymous_id", (("anonymousId",),)),
    # Only when the Google Analytics integration captured it explicitly.
    IdentifierSource(
        "ga_client_id", (("context", "integrations", "Google Analytics", "clientId"),)
    ),
    IdentifierSource("group_id", (("groupId",),)),
    IdentifierSource("ios.id", (("context", "device", "id"),), IOS),
    IdentifierSource("ios.idfa", (("context", "device", "advertisingId"),), (*IOS, TRACKING)),
    IdentifierSource("ios.push_token", (("context", "device", "token"),), IOS),
)

OPTIONAL: tuple[IdentifierSource, ...] = (
    IdentifierSource("braze_id", (("context", "Braze", "braze_id"),)),
    IdentifierSource("cross_domain_id", (("cross_domain_id",),)),
)


def collection(type_: str) -> str:
    """The collection a default location's value identifies: a group's id is an
    account's, every other type a user's."""
    return ACCOUNTS if type_ == "group_id" else USERS


DEFAULT_TYPES: tuple[str, ...] = tuple(source.type for source in SOURCES)
LOCATIONS: dict[str, IdentifierSource] = {s.type: s for s in (*SOURCES, *OPTIONAL)}

FIRST = ("user_id", "email")  # ranked 1 and 2; everything else alphabetically after
DEFAULT_LIMIT = 5
LIMITS: dict[str, int] = {"user_id": 1}
PERIODS: dict[str, str] = {
    "anonymous_id": "WEEKLY",
    "ga_client_id": "WEEKLY",
    "email": "ANNUALLY",
    "android.id": "ANNUALLY",
    "ios.id": "ANNUALLY",
}
DEFAULT_PERIOD = "EVER"

EXACT, REGEX = "EXACT", "REGEX"
SUGGESTED_BLOCKED_VALUES: tuple[dict[str, str], ...] = (
    {"value": "^[0-]*$", "kind": REGEX},  # "Zeroes and Dashes"
    {"value": "-1", "kind": EXACT},
    {"value": "null", "kind": EXACT},
    {"value": "anonymous", "kind": EXACT},
)


def ranked(types: tuple[str, ...] | list[str]) -> list[str]:
    """``user_id``, ``email``, then the rest alphabetically: the default order."""
    first = [t for t in FIRST if t in types]
    return first + sorted(t for t in set(types) if t not in FIRST)


def defaults() -> tuple[Default, ...]:
    return tuple(
        Default(
            type=name,
            priority=rank,
            limit=LIMITS.get(name, DEFAULT_LIMIT),
            period=PERIODS.get(name, DEFAULT_PERIOD),
        )
        for rank, name in enumerate(ranked(DEFAULT_TYPES), start=1)
    )


def suggested_blocked_values() -> list[dict[str, str]]:
    return [dict(entry) for entry in SUGGESTED_BLOCKED_VALUES]
