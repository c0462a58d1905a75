"""A workspace with a source and a space, its owner, a space reader without PII Access,
and profiles built through the ORM with events stored in the event store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from connections.models import Event, Source
from connections.services.sources import do_create_source
from engage.models import Profile, ProfileEvent, ProfileIdentifier, Space
from switchyard import names
from switchyard.access import Principal
from workspace.models import Membership, Workspace
from workspace.services.grants import do_create_grant

# Values no page or token holds by chance.
EMAIL = "jane.doe.q7x3@example.org"
USER_ID = "uid-kq93xv"
PLAN = "platinum-v4r"
EVENT = "Order Completedzq"
SOURCE = "Shopfront Webzq"


@dataclass
class Setup:
    workspace: Workspace
    source: Source
    space: Space
    owner: User
    reader: User  # Unify and Engage Read-only on every space, no PII Access

    @property
    def base(self) -> str:
        return f"/workspaces/{self.workspace.slug}/engage/spaces/{self.space.slug}"

    def profile(self, **traits: Any) -> Profile:
        now = timezone.now()
        return Profile.objects.create(
            space=self.space,
            segment_id=names.generate_id("use_", 24),
            traits=traits,
            trait_times={k: now.isoformat() for k in traits},
            create_time=now,
            update_time=now,
        )

    def identify(self, profile: Profile, type_: str, value: str) -> ProfileIdentifier:
        now = timezone.now()
        return ProfileIdentifier.objects.create(
            space=self.space,
            type=type_,
            value=value,
            profile=profile,
            source_id=self.source.pk,
            first_seen=now,
            last_seen=now,
        )

    def event(self, profile: Profile, name: str, **properties: Any) -> Event:
        n = Event.objects.filter(source_id=self.source.pk).count()
        now = timezone.now() + dt.timedelta(milliseconds=n)
        message_id = f"m-{n}"
        payload: dict[str, Any] = {
            "type": "track",
            "event": name,
            "userId": USER_ID,
            "messageId": message_id,
            "properties": properties,
            "context": {"traits": {"email": EMAIL}},
        }
        stored = Event.objects.create(
            received_at=now,
            workspace_id=self.workspace.pk,
            source_id=self.source.pk,
            message_id=message_id,
            type="track",
            event_name=name,
            user_id=USER_ID,
            timestamp=now,
            payload=payload,
        )
        ProfileEvent.objects.create(
            space=self.space,
            profile=profile,
            source_id=self.source.pk,
            message_id=stored.message_id,
            event_id=stored.pk,
            received_at=stored.received_at,
            type="track",
            event_name=name,
            timestamp=now,
        )
        return stored


def make_space(workspace: Workspace, slug: str = "prod") -> Space:
    return Space.objects.create(
        workspace=workspace,
        key_id=names.generate_id("spa_", 24),
        slug=slug,
        display_name=slug.title(),
    )


def setup(
    alice: User, make_user: Callable[..., User], make_workspace: Callable[..., Workspace]
) -> Setup:
    workspace = make_workspace(alice, "acme", "Acme")
    source = do_create_source(
        principal=Principal(alice), workspace=workspace, slug="web", display_name=SOURCE
    )
    space = make_space(workspace)
    reader = make_user("reader")
    Membership.objects.create(workspace=workspace, user=reader)
    do_create_grant(
        principal=Principal(alice),
        workspace=workspace,
        grantee=reader,
        role="unify-and-engage-read-only",
        scope="all",
    )
    return Setup(workspace, source, space, alice, reader)
