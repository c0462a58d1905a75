"""The Event Tester: one event through a destination's real actions, now, with
the request and response shown and nothing recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from connections.models import Delivery, PipelineCount
from connections.services.delivery import do_send_test_event
from connections.services.filters import do_create_filter
from connections.services.subscriptions import do_update_subscription
from switchyard.access import Principal
from switchyard.errors import InvalidArgument, NotFound, PermissionDenied
from tests.connections.delivery_support import (
    Reply,
    Server,
    Setup,
    make_setup,
    track,
)
from workspace.models import Membership, Workspace
from workspace.services.grants import do_create_grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_network(settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Setup:
    return make_setup(alice, make_workspace(alice, "acme"))


def test_sends_through_matching_enabled_mappings_and_shows_the_exchange(
    web: Setup, server: Server
) -> None:
    destination, subscription = web.webhook(
        f"{server.url}/hook",
        headers={"Authorization": "Bearer hook-token"},
        settings={"shared_secret": "s3cret-value"},
    )
    web.mapping(destination, "send", {"url": server.url, "method": "POST"}, trigger='type = "page"')
    do_create_filter(
        principal=web.principal,
        destination=destination,
        title="Drop everything",
        if_="all",
        actions=[{"type": "DROP"}],
    )
    server.reply(Reply(201, b'{"received": true}', headers={"Content-Type": "application/json"}))

    answer = do_send_test_event(web.principal, destination, track(messageId="t-1"))

    assert answer["message_id"] == "t-1"
    assert answer["summary"] == "1 mapping(s) matched and sent, 1 succeeded."
    mapping, page = answer["mappings"]
    assert mapping["id"] == subscription.key_id and mapping["sent"] is True
    assert (page["matched"], page["sent"]) == (False, False)  # its trigger wants pages
    result = mapping["result"]
    assert result["status"] == "delivered"
    request = result["request"]
    assert request["method"] == "POST" and request["url"] == f"{server.url}/hook"
    assert request["headers"]["Authorization"] == "[redacted]"
    assert request["headers"]["X-Signature"] == "[redacted]"
    assert '"messageId":"t-1"' in request["body"]
    assert result["response"] == {
        "status": 201,
        "body": '{"received": true}',
        "content_type": "application/json",
    }
    assert len(server.requests) == 1  # the filter was bypassed, as Segment's tester does
    assert not Delivery.objects.exists()
    assert not PipelineCount.objects.filter(stage="delivery").exists()


def test_a_failure_is_shown_with_its_code(web: Setup, server: Server) -> None:
    destination, _ = web.webhook(server.url)
    server.reply(Reply(500, b"boom"))
    answer = do_send_test_event(web.principal, destination, track())
    result = answer["mappings"][0]["result"]
    assert result["status"] == "retry" and result["code"] == "errors.awaiting-retry.5xx"
    assert result["response"]["body"] == "boom"
    assert not Delivery.objects.exists()


def test_one_mapping_is_sent_whatever_its_trigger_and_state(web: Setup, server: Server) -> None:
    destination, subscription = web.webhook(server.url, trigger='type = "identify"')
    do_update_subscription(
        principal=web.principal, subscription=subscription, changes={"enabled": False}
    )
    assert do_send_test_event(web.principal, destination, track())["mappings"] == []

    answer = do_send_test_event(web.principal, destination, track(), subscription)
    (mapping,) = answer["mappings"]
    assert mapping["matched"] is False and mapping["sent"] is True
    assert len(server.requests) == 1


def test_no_match_sends_nothing(web: Setup, server: Server) -> None:
    destination, _ = web.webhook(server.url, trigger='event = "Other"')
    answer = do_send_test_event(web.principal, destination, track())
    assert answer["summary"] == "No enabled mapping matches this event: nothing was sent."
    assert server.requests == []


def test_needs_change_permission(
    web: Setup, server: Server, make_user: Callable[..., User]
) -> None:
    destination, _ = web.webhook(server.url)
    outsider = make_user("outsider")
    with pytest.raises(NotFound):
        do_send_test_event(Principal(outsider), destination, track())
    reader = make_user("reader")
    Membership.objects.create(workspace=web.workspace, user=reader)
    do_create_grant(
        principal=web.principal,
        workspace=web.workspace,
        grantee=reader,
        role="source-read-only",
        scope="all",
    )
    with pytest.raises(PermissionDenied):
        do_send_test_event(Principal(reader), destination, track())
    assert server.requests == []


def test_the_event_must_be_a_spec_message(web: Setup, server: Server) -> None:
    destination, _ = web.webhook(server.url)
    with pytest.raises(InvalidArgument):
        do_send_test_event(web.principal, destination, ["not", "an", "object"])
    with pytest.raises(InvalidArgument):
        do_send_test_event(web.principal, destination, {"event": "no type"})
