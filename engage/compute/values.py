# ruff: noqa: S608 - SQL text from our own constants and expressions; values are bound.
"""The CMP operators of an audience or computed-trait condition (engage.md §12.2)
as SQL over a jsonb value: a trait (``traits #> path``) or an event property
(``payload #> path``).

Every function takes SQL expressions (never values) and returns SQL; values go
through ``bind``, which turns one into a named query parameter. Conversions
never raise inside PostgreSQL: a string is cast to a number or a timestamp only
after a regular expression says the cast succeeds, so one odd trait value
cannot fail a whole audience run. Conditions come back as expressions that are
never NULL (a missing value gives false), so ``NOT`` around them is safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

Bind = Callable[..., str]  # bind(value, cast="") -> "%(pN)s[::cast]"


class CompileError(ValueError):
    """The definition has a shape the compiler does not know (validation missed it)."""


# Constants of ours (no quotes, no percent signs), written into the SQL text.
NUMERIC_RE = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*$"
ISO_RE = (
    r"^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?)?"
    r"(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$"
)
TIME_UNITS = {"hour": 1, "hours": 1, "day": 24, "days": 24}
TIME_CMPS = ("within_last", "within_next", "before_last", "after_next")


def present(v: str) -> str:
    """The value exists and is not JSON null."""
    return f"({v} IS NOT NULL AND jsonb_typeof({v}) <> 'null')"


def text(v: str) -> str:
    """A string's text, a number's digits, ``true``/``false``, or an array's or
    object's JSON text (Segment flattens those to strings)."""
    return f"({v} #>> '{{}}')"


def number(v: str) -> str:
    """A JSON number, or a string holding one; otherwise NULL."""
    t = text(v)
    return (
        f"(CASE jsonb_typeof({v}) WHEN 'number' THEN ({v})::numeric "
        f"WHEN 'string' THEN CASE WHEN {t} ~ '{NUMERIC_RE}' THEN {t}::numeric END END)"
    )


def timestamp(v: str) -> str:
    """An ISO-8601 string as a timestamp (UTC when it names no offset); otherwise
    NULL. Nested CASEs because PostgreSQL does not promise the order of AND's
    operands: the day is checked against its month before the cast."""
    t = text(v)
    last_day = (
        f"extract(day FROM make_date(substr({t}, 1, 4)::int, substr({t}, 6, 2)::int, 1) "
        "+ interval '1 month' - interval '1 day')"
    )
    return (
        f"(CASE WHEN jsonb_typeof({v}) = 'string' THEN CASE WHEN {t} ~ '{ISO_RE}' THEN "
        f"CASE WHEN substr({t}, 9, 2)::int <= {last_day} THEN {t}::timestamptz END END END)"
    )


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def duration(value: Any) -> dt.timedelta:
    """A time operator's or window's amount: ``N`` (days) or ``{"value": N, "unit": u}``."""
    if isinstance(value, dict):
        amount, unit = value.get("value"), value.get("unit", "days")
    else:
        amount, unit = value, "days"
    if unit not in TIME_UNITS or isinstance(amount, bool) or not isinstance(amount, int | float):
        raise CompileError(f"not a duration: {value!r}")
    return dt.timedelta(hours=TIME_UNITS[unit] * amount)


def instant(value: Any) -> dt.datetime:
    """A before_date/after_date value: an ISO-8601 date or time (UTC if naive)."""
    if not isinstance(value, str):
        raise CompileError(f"not an ISO-8601 date: {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise CompileError(f"not an ISO-8601 date: {value!r}") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


_ORDER = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def compare(
    v: str, cmp: str, value: Any, bind: Bind, now: dt.datetime, *, total: bool = True
) -> str:
    """``v`` (a jsonb expression) against a literal ``value``. Never NULL unless
    ``total`` is false (a conjunct of a WHERE, where NULL already means false:
    without the coalesce PostgreSQL estimates the condition's selectivity as it
    would a hand-written one)."""
    if cmp == "exists":
        return present(v)
    if cmp == "not_exists":
        return f"NOT {present(v)}"
    if cmp in ("neq", "not_contains"):
        positive = "eq" if cmp == "neq" else "contains"
        return f"({present(v)} AND NOT {compare(v, positive, value, bind, now)})"
    condition = _literal(v, cmp, value, bind, now)
    return f"coalesce({condition}, false)" if total else condition


def _literal(v: str, cmp: str, value: Any, bind: Bind, now: dt.datetime) -> str:
    t = text(v)
    if cmp == "eq":
        if _is_number(value):
            return f"{number(v)} = {bind(value, 'numeric')}"
        return f"{t} = {bind(None if value is None else _scalar_text(value))}"
    if cmp in _ORDER:
        op = _ORDER[cmp]
        if _is_number(value):
            return f"{number(v)} {op} {bind(value, 'numeric')}"
        return f'{t} COLLATE "C" {op} {bind(_scalar_text(value))}'
    if cmp in ("contains", "starts_with", "ends_with"):
        core = escape_like(_scalar_text(value))
        pattern = {
            "contains": f"%{core}%",
            "starts_with": f"{core}%",
            "ends_with": f"%{core}",
        }[cmp]
        return f"{t} LIKE {bind(pattern)} ESCAPE '\\'"
    if cmp in ("in", "contains_any"):
        items = value if isinstance(value, list) else [value]
        if cmp == "contains_any":
            patterns = [f"%{escape_like(_scalar_text(i))}%" for i in items]
            return f"{t} LIKE ANY({bind(patterns, 'text[]')})"
        numbers = [i for i in items if _is_number(i)]
        texts = [_scalar_text(i) for i in items if not _is_number(i) and i is not None]
        return (
            f"({number(v)} = ANY({bind(numbers, 'numeric[]')}) "
            f"OR {t} = ANY({bind(texts, 'text[]')}))"
        )
    if cmp == "before_date":
        return f"{timestamp(v)} < {bind(instant(value), 'timestamptz')}"
    if cmp == "after_date":
        return f"{timestamp(v)} > {bind(instant(value), 'timestamptz')}"
    if cmp in TIME_CMPS:
        span = duration(value)
        ts = timestamp(v)
        if cmp == "within_last":
            low, high = bind(now - span, "timestamptz"), bind(now, "timestamptz")
            return f"{ts} BETWEEN {low} AND {high}"
        if cmp == "within_next":
            low, high = bind(now, "timestamptz"), bind(now + span, "timestamptz")
            return f"{ts} BETWEEN {low} AND {high}"
        if cmp == "before_last":
            return f"{ts} < {bind(now - span, 'timestamptz')}"
        return f"{ts} > {bind(now + span, 'timestamptz')}"
    raise CompileError(f"unknown comparison {cmp!r}")


def compare_ref(v: str, cmp: str, r: str) -> str:
    """``v`` against another jsonb expression ``r`` (a trait or the parent event's
    property): numbers numerically when both are numbers, else as text. Both
    must exist (``neq`` included: "differs" from nothing is not known)."""
    both = f"{present(v)} AND {present(r)}"
    if cmp == "exists":
        return present(v)
    if cmp == "not_exists":
        return f"NOT {present(v)}"
    if cmp in ("neq", "not_contains"):
        positive = "eq" if cmp == "neq" else "contains"
        return f"({both} AND NOT {compare_ref(v, positive, r)})"
    return f"coalesce(({both} AND {_referenced(v, cmp, r)}), false)"


def _referenced(v: str, cmp: str, r: str) -> str:
    tv, tr = text(v), text(r)
    if cmp == "eq" or cmp in _ORDER:
        op = "=" if cmp == "eq" else _ORDER[cmp]
        nv, nr = number(v), number(r)
        return (
            f"(CASE WHEN {nv} IS NOT NULL AND {nr} IS NOT NULL THEN {nv} {op} {nr} "
            f'ELSE {tv} COLLATE "C" {op} {tr} END)'
        )
    if cmp == "contains":
        return f"strpos({tv}, {tr}) > 0"
    if cmp == "starts_with":
        return f"starts_with({tv}, {tr})"
    if cmp == "ends_with":
        return f"right({tv}, length({tr})) = {tr}"
    if cmp in ("in", "contains_any"):
        # The referenced value is a list (or one value): any of its items.
        listed = f"CASE WHEN jsonb_typeof({r}) = 'array' THEN {r} ELSE jsonb_build_array({r}) END"
        items = f"jsonb_array_elements({listed})"
        one = "eq" if cmp == "in" else "contains"
        return f"EXISTS (SELECT 1 FROM {items} AS item(x) WHERE {_referenced(v, one, 'item.x')})"
    if cmp == "before_date":
        return f"{timestamp(v)} < {timestamp(r)}"
    if cmp == "after_date":
        return f"{timestamp(v)} > {timestamp(r)}"
    raise CompileError(f"{cmp!r} cannot compare with a reference")
