"""Connecting a source replays its stored events into the space by default
(Segment's "Replay data"), from the service, the API and the settings page;
asked not to, it only takes new events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from engage.models import SpaceSource
from engage.services.replay import ReplayStatus
from engage.services.space_sources import do_connect_source
from switchyard.access import Principal
from tests.engage.pipeline_support import add_source, add_space
from tests.resource_contract import client_for
from workspace.models import AuditEntry, Workspace

pytestmark = pytest.mark.django_db


def test_the_service_queues_a_replay_on_commit_by_default(
    alice: User,
    make_workspace: Callable[..., Workspace],
    django_capture_on_commit_callbacks: Any,
) -> None:
    workspace = make_workspace(alice, "acme")
    space, web = add_space(alice, workspace), add_source(alice, workspace)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = do_connect_source(principal=Principal(alice), space=space, source=web)
    assert SpaceSource.objects.get(pk=row.pk).replay_status == ReplayStatus.QUEUED
    assert len(callbacks) == 1  # the replay task, sent once the connection is committed
    entry = AuditEntry.objects.filter(action="space_source.connected").latest("time", "id")
    assert entry.after["replay"] is True


def test_without_replay_the_connection_takes_new_events_only(
    alice: User,
    make_workspace: Callable[..., Workspace],
    django_capture_on_commit_callbacks: Any,
) -> None:
    workspace = make_workspace(alice, "acme")
    space, web = add_space(alice, workspace), add_source(alice, workspace)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = do_connect_source(principal=Principal(alice), space=space, source=web, replay=False)
    assert SpaceSource.objects.get(pk=row.pk).replay_status == ""
    assert callbacks == []


def test_the_api_and_the_page_pass_the_replay_choice(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    workspace = make_workspace(alice, "acme")
    space = add_space(alice, workspace)
    web, app = add_source(alice, workspace, "web"), add_source(alice, workspace, "app")
    api = client_for(alice)[0]
    answer = api.post(
        f"/v1beta/workspaces/acme/spaces/{space.slug}/sources",
        {"source": {"source": "workspaces/acme/sources/web", "replay": False}},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert SpaceSource.objects.get(source=web).replay_status == ""

    page = Client()
    page.force_login(alice)
    url = f"/workspaces/acme/engage/spaces/{space.slug}/settings/"
    assert 'name="replay" id="id_replay" checked' in page.get(url).content.decode()
    page.post(f"{url}sources/", {"source": "app", "replay": "on"})
    assert SpaceSource.objects.get(source=app).replay_status == ReplayStatus.QUEUED
    assert "Replay queued: 0 events" in page.get(url).content.decode()
