"""A space with a Profile API token and profiles made with the ORM, for the Profile
API tests (the resolver is not needed to read what it would have written)."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from engage.models import Profile, ProfileIdentifier, Space
from engage.services.tokens import do_create_space_token
from switchyard import names
from switchyard.access import Principal
from workspace.models import Workspace


@dataclass
class Opened:
    space: Space
    token: str


def open_space(owner: User, workspace: Workspace, slug: str = "prod") -> Opened:
    space = Space.objects.create(
        key_id=names.generate_id("spa"), workspace=workspace, slug=slug, display_name=slug.title()
    )
    _token, secret = do_create_space_token(principal=Principal(owner), space=space)
    return Opened(space=space, token=secret)


def make_profile(
    space: Space,
    ids: list[tuple[str, str]],
    *,
    traits: dict[str, Any] | None = None,
    collection: str = "users",
    canonical: Profile | None = None,
    **fields: Any,
) -> Profile:
    now = timezone.now()
    prefix = "use" if collection == "users" else "acc"
    profile = Profile.objects.create(
        space=space,
        segment_id=names.generate_id(prefix, 27),
        collection=collection,
        canonical=canonical,
        traits=traits or {},
        trait_times={k: now.isoformat() for k in traits or {}},
        create_time=fields.pop("create_time", now),
        update_time=fields.pop("update_time", now),
        **fields,
    )
    for n, (id_type, value) in enumerate(ids):
        ProfileIdentifier.objects.create(
            space=space,
            collection=collection,
            type=id_type,
            value=value,
            profile=profile,
            first_message_id=f"msg-{value}",
            first_seen=now + dt.timedelta(microseconds=n),
            last_seen=now + dt.timedelta(seconds=1),
        )
    return profile


def basic(token: str) -> str:
    return "Basic " + base64.b64encode(f"{token}:".encode()).decode()


def path(space: Space | str, identifier: str, resource: str, collection: str = "users") -> str:
    key = space if isinstance(space, str) else space.key_id
    return f"/v1/spaces/{key}/collections/{collection}/profiles/{identifier}/{resource}"


def encoded(id_type: str, value: str) -> str:
    return f"{id_type}:{quote(value, safe='')}"


def get(client: Client, url: str, token: str | None, **query: Any) -> Any:
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": basic(token)} if token is not None else {}
    return client.get(url, query or None, **headers)
