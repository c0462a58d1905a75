"""Mappings and filters keep an order and a per-destination limit."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Max

from connections.models import Destination
from switchyard.errors import FailedPrecondition


def next_position(
    destination: Destination, rows: models.QuerySet[Any], *, limit: int, noun: str
) -> int:
    """The position after the last of ``rows``, refusing past ``limit``. Call inside
    the create's transaction: the destination row lock makes concurrent creates
    count one after another, so two requests cannot both take the last place."""
    Destination.objects.select_for_update().filter(pk=destination.pk).first()
    if rows.count() >= limit:
        raise FailedPrecondition(
            f"a destination holds at most {limit} {noun}; delete one before adding another"
        )
    last = rows.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1
