"""A workspace with a source, its owner, a Source Read-only member, and stored events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from connections.models import Event, Source
from connections.services.sources import do_create_source
from switchyard.access import Principal
from workspace.models import Membership, RoleGrant, Workspace
from workspace.services.grants import do_create_grant

# Raw values no page or token holds by chance.
EMAIL = "jane.doe.q7x3@example.org"
LAST_NAME = "Lovelacezq"
COLOR = "ultramarine-k9w"  # properties.favorite_color: no matcher flags it
PLAN = "platinum-v4r"  # properties.plan: never masked

API = "/v1beta/workspaces/acme/sources/web"
UI = "/workspaces/acme/sources/web"


@dataclass
class Setup:
    workspace: Workspace
    source: Source
    owner: User
    reader: User  # Source Read-only, no PII Access

    def grant(self, role: str, grantee: Any = None) -> RoleGrant:
        return do_create_grant(
            principal=Principal(self.owner),
            workspace=self.workspace,
            grantee=grantee or self.reader,
            role=role,
            scope="all",
        )

    def store(self, properties: dict[str, Any] | None = None, **extra: Any) -> Event:
        n = Event.objects.filter(source_id=self.source.pk).count()
        payload = {
            "type": "identify",
            "userId": f"u-{n}",
            "messageId": f"m-{n}",
            "traits": {"email": EMAIL, "last_name": LAST_NAME},
            "properties": {"favorite_color": COLOR, "plan": PLAN, **(properties or {})},
            **extra,
        }
        return Event.objects.create(
            received_at=timezone.now() + dt.timedelta(milliseconds=n),
            workspace_id=self.source.workspace_id,
            source_id=self.source.pk,
            message_id=payload["messageId"],
            type="identify",
            event_name="",
            user_id=payload["userId"],
            timestamp=timezone.now(),
            payload=payload,
        )


def setup(
    alice: User, make_user: Callable[..., User], make_workspace: Callable[..., Workspace]
) -> Setup:
    workspace = make_workspace(alice, "acme", "Acme")
    source = do_create_source(
        principal=Principal(alice), workspace=workspace, slug="web", display_name="Web"
    )
    reader = make_user("reader")
    Membership.objects.create(workspace=workspace, user=reader)
    s = Setup(workspace, source, alice, reader)
    s.grant("source-read-only")
    return s


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
