"""The Profile API's query parameters, checked: a bad one is a 400
``validation_error`` naming it, never a silent default.

Limits (the docs conflict; decided here): ``/traits`` returns 10 traits by default
and up to 200 (the Profile API page: "up to 200 traits by appending ?limit=200"),
every other list 1-100 (the pagination section's "between 1 and 100"), defaulting
to 10 events, 25 external ids (the docs' example) and 20 links (the docs' "return
limit for the /links endpoint is 20 records")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import QueryDict

from engage.profile_api.errors import invalid

# resource -> (default, maximum)
LIMITS = {
    "traits": (10, 200),
    "external_ids": (25, 100),
    "events": (10, 100),
    "links": (20, 100),
}
_NAMES_MAX = 200  # names in one include/exclude list


@dataclass(frozen=True, slots=True)
class Params:
    limit: int
    next: str
    verbose: bool
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    trait_class: str
    start: dt.datetime | None
    end: dt.datetime | None
    sort: str


def _limit(query: QueryDict, resource: str) -> int:
    default, maximum = LIMITS.get(resource, (0, 0))
    raw = query.get("limit")
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise invalid("limit", f"must be an integer between 1 and {maximum}")
    return int(raw)


def _names(query: QueryDict, name: str) -> tuple[str, ...]:
    raw = query.get(name, "")
    found = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if len(found) > _NAMES_MAX:
        raise invalid(name, f"lists at most {_NAMES_MAX} comma-separated names")
    return found


def _bool(query: QueryDict, name: str) -> bool:
    raw = query.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise invalid(name, "must be true or false")
    return raw == "true"


def _time(query: QueryDict, name: str) -> dt.datetime | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(name, "must be an ISO 8601 date-time, like 2024-05-01T12:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse(query: QueryDict, resource: str) -> Params:
    sort = query.get("sort", "desc").lower()
    if sort not in ("asc", "desc"):
        raise invalid("sort", "must be asc or desc")
    trait_class = query.get("class", "")
    if trait_class not in ("", "audience", "computed_trait"):
        raise invalid("class", "must be audience or computed_trait")
    start, end = _time(query, "start"), _time(query, "end")
    if start and end and start > end:
        raise invalid("start", "must not be after `end`")
    return Params(
        limit=_limit(query, resource),
        next=query.get("next", ""),
        verbose=_bool(query, "verbose"),
        include=_names(query, "include"),
        exclude=_names(query, "exclude"),
        trait_class=trait_class,
        start=start,
        end=end,
        sort=sort,
    )
