from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import QuerySet

from switchyard.errors import InvalidArgument


def apply_filters(
    filterset_class: type[django_filters.FilterSet],
    params: Mapping[str, Any],
    queryset: QuerySet[Any],
) -> QuerySet[Any]:
    """Filter ``queryset`` by ``params``; a bad value is an invalid argument naming it."""
    filterset = filterset_class(params, queryset=queryset)
    if not filterset.is_valid():
        problems = "; ".join(
            f"{field}: {' '.join(str(m) for m in messages)}"
            for field, messages in filterset.errors.items()
        )
        raise InvalidArgument(f"invalid filter: {problems}")
    return filterset.qs
