"""List pagination: ``page_size`` and opaque, signed keyset ``page_token``s.

A token carries the sort key of the last item served, so inserts between pages
neither repeat nor skip items that were already there (an offset would). It is
signed with the list's scope: a token edited by hand, or taken from another
list, is an invalid argument rather than a silently wrong page.

``KeysetPagination`` is the DRF pagination class of every Config API List (and
so what drf-spectacular documents for them); ``paginate`` and ``paginate_items``
are the same rules for callers outside DRF (the audit trail page).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.core import signing
from django.db import models
from django.db.models import Q
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from switchyard.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100

M = TypeVar("M", bound=models.Model)


def page_size_from(params: Mapping[str, str]) -> int:
    raw = params.get("page_size")
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    # ASCII digits only: int() would also take " 5", "+5" and other scripts' digits,
    # which the document (an integer) does not allow.
    size = int(raw) if raw.isascii() and raw.isdigit() else 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidArgument(
            f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, got {raw!r}",
            field="page_size",
        )
    return size


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"dt"}:
        return dt.datetime.fromisoformat(value["dt"])
    return value


def _salt(scope: str) -> str:
    return f"switchyard.page_token:{scope}"


def make_token(scope: str, key: Sequence[Any]) -> str:
    return signing.dumps([_encode(v) for v in key], salt=_salt(scope), compress=True)


def read_token(scope: str, token: str, width: int) -> list[Any]:
    try:
        key = signing.loads(token, salt=_salt(scope))
        if not isinstance(key, list) or len(key) != width:
            raise ValueError("wrong shape")
        return [_decode(v) for v in key]
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidArgument("invalid page_token", field="page_token") from exc


def _after(ordering: Sequence[str], key: Sequence[Any]) -> Q:
    """Rows strictly after ``key`` in ``ordering`` ("-field" descends):
    (a > x) or (a = x and b > y) ..."""
    condition = Q()
    for i, field in enumerate(ordering):
        name = field.removeprefix("-")
        step = Q(**{f"{name}__{'lt' if field.startswith('-') else 'gt'}": key[i]})
        for prior, value in zip(ordering[:i], key[:i], strict=True):
            step &= Q(**{prior.removeprefix("-"): value})
        condition |= step
    return condition


def paginate(
    queryset: models.QuerySet[M],
    params: Mapping[str, str],
    *,
    scope: str,
    ordering: Sequence[str] = ("create_time", "pk"),
) -> tuple[list[M], str]:
    """One page of ``queryset`` and the token for the next ("" at the end)."""
    size = page_size_from(params)
    queryset = queryset.order_by(*ordering)
    if token := params.get("page_token"):
        queryset = queryset.filter(_after(ordering, read_token(scope, token, len(ordering))))
    rows = list(queryset[: size + 1])
    if len(rows) <= size:
        return rows, ""
    rows = rows[:size]
    last = rows[-1]
    key = [getattr(last, f.removeprefix("-")) for f in ordering]
    return rows, make_token(scope, key)


T = TypeVar("T")


def paginate_items(
    items: Iterable[T],
    params: Mapping[str, str],
    *,
    scope: str,
    key: Callable[[T], tuple[Any, ...]],
) -> tuple[list[T], str]:
    """``paginate`` for a list held in memory (the catalog): the same page size
    rules and signed keyset tokens, ordered by ``key`` (unique per item)."""
    size = page_size_from(params)
    ordered = sorted(items, key=key)
    if token := params.get("page_token"):
        width = len(key(ordered[0])) if ordered else None
        after = tuple(read_token(scope, token, width) if width else _read_any(scope, token))
        ordered = [item for item in ordered if key(item) > after]
    if len(ordered) <= size:
        return ordered, ""
    page = ordered[:size]
    return page, make_token(scope, list(key(page[-1])))


def _read_any(scope: str, token: str) -> list[Any]:
    """Check a token's signature when there is nothing to page (its width is unknown)."""
    try:
        key = signing.loads(token, salt=_salt(scope))
    except signing.BadSignature as exc:
        raise InvalidArgument("invalid page_token", field="page_token") from exc
    if not isinstance(key, list):
        raise InvalidArgument("invalid page_token", field="page_token")
    return [_decode(v) for v in key]


class KeysetPagination(BasePagination):
    """``page_size`` (1-100, default 10) and signed keyset ``page_token``s; the answer
    is ``{<collection_key>: [...], "next_page_token": ""}`` ("" on the last page).

    It reads from the view: ``collection_key`` (the list's key in the answer),
    ``list_ordering`` (the keyset order; the last field must be unique) and,
    when the view has one, ``page_token_scope()`` (what a token is valid for;
    by default this path's list). It pages a QuerySet in SQL, or a list held in
    code (the role catalogue, the connections catalog) sorted by the ordering's
    attributes, ascending.
    """

    # drf-spectacular instantiates the class without a view to document the
    # answer, so each collection gets a subclass carrying its key (``for_collection``).
    collection_key = ""

    @classmethod
    @functools.cache
    def for_collection(cls, collection_key: str) -> type[KeysetPagination]:
        name = "".join(part.title() for part in collection_key.split("_")) + "Pagination"
        return type(name, (cls,), {"collection_key": collection_key})

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any | None = None
    ) -> list[Any]:
        assert view is not None, "KeysetPagination pages a view's list"
        self.collection_key = view.collection_key
        ordering: Sequence[str] = view.list_ordering
        scope_of = getattr(view, "page_token_scope", None)
        scope = scope_of() if scope_of else f"{request.path}:{self.collection_key}"
        params = request.query_params
        if isinstance(queryset, models.QuerySet):
            rows, self.next_page_token = paginate(queryset, params, scope=scope, ordering=ordering)
        else:
            rows, self.next_page_token = paginate_items(
                queryset,
                params,
                scope=scope,
                key=lambda item: tuple(getattr(item, name) for name in ordering),
            )
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        return Response({self.collection_key: data, "next_page_token": self.next_page_token})

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": f"1-{MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE} (also when empty)",
                "allowEmptyValue": True,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAGE_SIZE,
                    "default": DEFAULT_PAGE_SIZE,
                },
            },
            {
                "name": "page_token",
                "in": "query",
                "required": False,
                "description": "next_page_token of the previous page; empty for the first. "
                "Opaque and signed: any other value is an invalid argument (400)",
                "allowEmptyValue": True,
                "schema": {"type": "string"},
            },
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        assert self.collection_key, "use KeysetPagination.for_collection(<collection key>)"
        return {
            "type": "object",
            "required": [self.collection_key, "next_page_token"],
            "properties": {
                self.collection_key: schema,
                "next_page_token": {
                    "type": "string",
                    "description": "pass as page_token for the next page; empty on the last",
                },
            },
        }
