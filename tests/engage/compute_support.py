"""Profiles built by the real resolver from events stored in the event store, and
the compiled audience / computed-trait queries run against them."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection

from connections.models import Event
from engage.compute.sql import audience_members, trait_values
from engage.models import (
    Computation,
    ComputationMember,
    ComputationRun,
    ProfileIdentifier,
    RunTrigger,
    Space,
)
from engage.services import computation_runs
from engage.services.computations import do_create_computation
from engage.services.resolution import ResolverEvent, resolve_events
from switchyard.access import Principal

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
SOURCE = 7
_numbers = itertools.count(1)


def ago(**delta: float) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


class World:
    """One space; events go to the event store and through ``resolve_events``."""

    def __init__(self, space: Space) -> None:
        self.space = space

    def send(
        self, kind: str, *, at: dt.datetime = NOW, source_id: int = SOURCE, **payload: Any
    ) -> None:
        message_id = f"cm-{next(_numbers)}"
        body = {"type": kind, "messageId": message_id, "timestamp": at.isoformat(), **payload}
        name = str(payload.get("event") or payload.get("name") or "")
        stored = Event.objects.create(
            received_at=at,
            workspace_id=self.space.workspace_id,
            source_id=source_id,
            message_id=message_id,
            type=kind,
            event_name=name,
            user_id=str(payload.get("userId", "")),
            anonymous_id=str(payload.get("anonymousId", "")),
            timestamp=at,
            payload=body,
        )
        resolve_events(
            self.space,
            [ResolverEvent(stored.pk, at, source_id, message_id, kind, name, body, at)],
        )

    def track(
        self,
        user: str,
        event: str,
        *,
        at: dt.datetime = NOW,
        anonymous: bool = False,
        context: dict[str, Any] | None = None,
        source_id: int = SOURCE,
        **properties: Any,
    ) -> None:
        who = {"anonymousId": user} if anonymous else {"userId": user}
        extra = {"context": context} if context else {}
        self.send(
            "track",
            at=at,
            source_id=source_id,
            event=event,
            properties=properties,
            **who,
            **extra,
        )

    def identify(self, user: str, *, at: dt.datetime = NOW, **traits: Any) -> None:
        self.send("identify", at=at, userId=user, traits=traits)

    def group(self, user: str, account: str, *, at: dt.datetime = NOW, **traits: Any) -> None:
        self.send("group", at=at, userId=user, groupId=account, traits=traits)

    def pid(self, value: str, type_: str = "user_id") -> int:
        collection = "accounts" if type_ == "group_id" else "users"
        return int(
            ProfileIdentifier.objects.get(
                space=self.space, collection=collection, type=type_, value=value
            ).profile_id
        )

    def label(self, ids: Sequence[int]) -> list[str]:
        """Each profile by its user_id, else group_id, else anonymous_id."""
        rank = {"user_id": 0, "group_id": 1, "anonymous_id": 2, "email": 3}
        best: dict[int, tuple[int, str]] = {}
        rows = ProfileIdentifier.objects.filter(profile_id__in=ids, type__in=rank)
        for pid, type_, value in rows.values_list("profile_id", "type", "value"):
            mine = (rank[type_], value)
            if pid not in best or mine < best[pid]:
                best[pid] = mine
        return [best[i][1] if i in best else f"#{i}" for i in ids]

    def members(
        self,
        root: dict[str, Any],
        *,
        now: dt.datetime = NOW,
        type_: str = "users",
        include_anonymous: bool = False,
        profile_ids: Sequence[int] | None = None,
    ) -> set[str]:
        definition = {
            "version": 1,
            "type": type_,
            "include_anonymous": include_anonymous,
            "include_historical": True,
            "root": root,
        }
        sql, params = audience_members(self.space.pk, definition, now, profile_ids=profile_ids)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        labels = self.label(ids)
        assert len(set(labels)) == len(labels)
        return set(labels)

    def values(
        self, now: dt.datetime = NOW, profile_ids: Sequence[int] | None = None, **definition: Any
    ) -> dict[str, Any]:
        spec = {"version": 1, "type": "users", "where": None, "window": None, **definition}
        sql, params = trait_values(self.space.pk, spec, now, profile_ids=profile_ids)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        labels = self.label([r[0] for r in rows])
        # Django reads jsonb as text (its JSONField parses it).
        return {
            label: json.loads(row[1]) if isinstance(row[1], str) else row[1]
            for label, row in zip(labels, rows, strict=True)
        }


def did(
    event: str,
    *,
    where: dict[str, Any] | None = None,
    window: dict[str, Any] | None = None,
    cmp: str = "gte",
    times: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "kind": "event",
        "event": event,
        "where": where,
        "window": window,
        "count": {"cmp": cmp, "value": times},
        **extra,
    }


def within(value: int, unit: str = "days", relative_to: str = "now") -> dict[str, Any]:
    return {"type": "within", "value": value, "unit": unit, "relative_to": relative_to}


def prop(path: str, cmp: str, value: Any = None, kind: str = "property") -> dict[str, Any]:
    return {"kind": kind, "path": path, "cmp": cmp, "value": value}


def trait(name: str, cmp: str, value: Any = None) -> dict[str, Any]:
    return {"kind": "trait", "trait": name, "cmp": cmp, "value": value}


def audience(root: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A users audience definition around ``root``."""
    return {
        "version": 1,
        "type": "users",
        "include_anonymous": False,
        "include_historical": True,
        "root": root,
        **extra,
    }


def create(me: Principal, world: World, name: str, definition: dict[str, Any], **kw: Any) -> Any:
    """An audience (or ``kind="trait"``) created through the service, as the API does."""
    kind = kw.pop("kind", "audience")
    return do_create_computation(
        principal=me,
        space=world.space,
        kind=kind,
        display_name=name,
        definition=definition,
        **kw,
    )


def run_now(computation: Computation, at: dt.datetime = NOW) -> ComputationRun:
    """The run its create/edit queued (or a new one), executed to the end."""
    run = computation_runs.queue_run(computation, RunTrigger.MANUAL)
    computation_runs.execute(run.pk, now=at)
    run.refresh_from_db()
    return run


def members(world: World, computation: Computation) -> set[str]:
    """The members' labels (user ids)."""
    ids = ComputationMember.objects.filter(computation=computation).values_list(
        "profile_id", flat=True
    )
    return set(world.label(list(ids)))
