"""Which space and profile a request names, in one statement: the token (its space)
joined to the identifier ``{identifier_type}:{value}`` (or the profile's own
``segment_id``, what ``cursor.url`` links to: it keeps PII such as an email out of
the next request's URL) and its profile. A lookup is the API's hot path: one round
trip instead of the ORM's two (the token's, then the profile's) halves its cost.
A merged profile answers as the profile it was merged into (its canonical).

The token rules are engage.services.tokens' (space_for_token): its prefix, its
SHA-256, not revoked, last_used moved at most once a minute."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from engage.models import Profile, Space, SpaceToken
from engage.profile_api.errors import NOT_FOUND, PROFILE_NOT_FOUND, ProfileApiError, invalid
from engage.services.tokens import LAST_USED_RESOLUTION, TOKEN_PREFIX, digest_of

COLLECTIONS = ("users", "accounts")
_SEGMENT_ID_PREFIX = {"users": "use_", "accounts": "acc_"}
_TYPE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_COLLECTION_BAD = re.compile(r"[^a-z0-9_]")
_VALUE_MAX = 1024
# A canonical pointer leads to the survivor in one step when the resolver keeps it
# up to date; a chain is followed this far at most (the merge limit is 100).
_CHAIN_MAX = 100


@dataclass(frozen=True, slots=True)
class Named:
    """A profile as the path names it: by an identifier or by its segment_id."""

    collection: str
    id_type: str  # "" when by segment_id
    value: str


def check_collection(collection: str) -> None:
    bad = "".join(dict.fromkeys(_COLLECTION_BAD.findall(collection)))
    if bad:
        raise invalid("collection", f"has invalid character(s) `{bad}`")
    if collection not in COLLECTIONS:
        raise invalid("collection", "must be users or accounts")


def named(collection: str, identifier: str) -> Named:
    check_collection(collection)
    id_type, colon, value = identifier.partition(":")
    if not colon:
        if not identifier.startswith(_SEGMENT_ID_PREFIX[collection]):
            raise invalid("id", "must be like user_id:u1234 (`<identifier type>:<value>`)")
        return Named(collection, "", identifier)
    if not _TYPE_RE.match(id_type):
        raise invalid("id", "has an invalid identifier type (letters, digits, _ . -)")
    if not value or len(value) > _VALUE_MAX:
        raise invalid("id", f"must have a value of 1 to {_VALUE_MAX} characters")
    return Named(collection, id_type, value)


M = TypeVar("M", bound=Model)


class _Columns(Generic[M]):
    """A model's columns in a hand-written SELECT, and its instance built from them
    (with the fields' own conversions: a raw cursor returns JSON as text)."""

    def __init__(self, model: type[M], alias: str) -> None:
        fields = model._meta.concrete_fields
        self.model = model
        self.names = [f.attname for f in fields]
        self.sql = ", ".join(f'{alias}."{f.column}"' for f in fields)
        self.converters = [getattr(f, "from_db_value", None) for f in fields]

    def build(self, values: tuple[Any, ...]) -> M:
        converted = [
            value if convert is None or value is None else convert(value, None, connection)
            for convert, value in zip(self.converters, values, strict=True)
        ]
        return self.model.from_db(connection.alias, self.names, converted)


_SPACE = _Columns(Space, "s")
_PROFILE = _Columns(Profile, "p")
_SPACE_FIELDS, _SPACE_COLUMNS = _SPACE.names, _SPACE.sql
_PROFILE_COLUMNS = _PROFILE.sql
_SELECT = f"SELECT t.id, t.last_used, {_SPACE_COLUMNS}, {_PROFILE_COLUMNS}"
_FROM = "FROM engage_spacetoken t JOIN engage_space s ON s.id = t.space_id"
_WHERE = "WHERE t.digest = %s AND t.revoke_time IS NULL"
_BY_IDENTIFIER = f"""{_SELECT} {_FROM}
LEFT JOIN engage_profileidentifier i ON i.space_id = t.space_id
    AND i.collection = %s AND i.type = %s AND i.value = %s
LEFT JOIN engage_profile p ON p.id = i.profile_id
{_WHERE}"""
_BY_SEGMENT_ID = f"""{_SELECT} {_FROM}
LEFT JOIN engage_profile p ON p.space_id = t.space_id AND p.collection = %s
    AND p.segment_id = %s
{_WHERE}"""
_NO_PROFILE = f"""{_SELECT} {_FROM}
LEFT JOIN engage_profile p ON false
{_WHERE}"""


def open_space(secret: str, wanted: Named | None) -> tuple[Space, Profile | None] | None:
    """The live token's space and, when ``wanted`` names one, the profile as stored
    (None if there is none); None for an unknown or revoked token."""
    if not secret.startswith(TOKEN_PREFIX + "_") or "\x00" in secret:
        return None
    digest = digest_of(secret)
    if wanted is None:
        sql, params = _NO_PROFILE, [digest]
    elif wanted.id_type:
        sql = _BY_IDENTIFIER
        params = [wanted.collection, wanted.id_type, wanted.value, digest]
    else:
        sql, params = _BY_SEGMENT_ID, [wanted.collection, wanted.value, digest]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    token_id, last_used = row[0], row[1]
    split = 2 + len(_SPACE_FIELDS)
    space = _SPACE.build(row[2:split])
    profile_values = row[split:]
    profile = _PROFILE.build(profile_values) if profile_values[0] is not None else None
    now = timezone.now()
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        # As space_for_token does: one UPDATE, skipped if another request moved it.
        stale = now - LAST_USED_RESOLUTION
        SpaceToken.objects.filter(pk=token_id).exclude(last_used__gt=stale).update(last_used=now)
    return space, profile


def canonical(profile: Profile | None) -> Profile:
    if profile is None:
        raise ProfileApiError(NOT_FOUND, PROFILE_NOT_FOUND)
    for _ in range(_CHAIN_MAX):
        if profile.canonical_id is None:
            return profile
        profile = Profile.objects.get(pk=profile.canonical_id)
    return profile


def merged_group(profile: Profile) -> list[int]:
    """The profile and every profile merged into it, directly or through others:
    what they had (events, links) is the survivor's now."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE merged(id) AS (
                SELECT %s::bigint
                UNION
                SELECT p.id FROM engage_profile p JOIN merged m ON p.canonical_id = m.id
            )
            SELECT id FROM merged
            """,
            [profile.pk],
        )
        return [row[0] for row in cursor.fetchall()]
