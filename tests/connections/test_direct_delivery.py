"""Direct delivery (``connections.services.delivery.deliver_mapped``): a producer's
messages mapped by its own field mappings and performed through one action now,
against a real local HTTP server: one outcome per message in order, batches,
in-call retries, and the failures a message or a setting causes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from connections.dataplane.delivery import direct
from connections.rules import mapping
from connections.services.delivery import deliver_mapped
from tests.connections.delivery_support import Reply, Server, make_setup
from workspace.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True
    settings.RETL_LOAD_ATTEMPTS = 3
    settings.RETL_LOAD_RETRY_BASE_SECONDS = 0.01
    settings.RETL_LOAD_RETRY_MAX_DELAY_SECONDS = 0.02
    waits: list[float] = []
    monkeypatch.setattr(direct, "sleep", waits.append)
    return waits


def messages(n: int) -> list[tuple[str, dict[str, Any]]]:
    return [(f"m{i}", {"type": "track", "properties": {"n": i}}) for i in range(n)]


def test_one_outcome_per_message_in_order_and_one_request_per_batch(
    alice: User, make_workspace: Callable[..., Workspace], server: Server
) -> None:
    web = make_setup(alice, make_workspace(alice, "acme"))
    hook = web.destination("actions-webhook")
    fields = {
        "url": server.url + "/in",
        "method": "POST",
        "enable_batching": True,
        "batch_size": 2,
        "data": {"n": {"@path": "$.properties.n"}},
    }

    outcomes = deliver_mapped(hook, "send", mapping.compile(fields), messages(5))

    assert [(o.message_id, o.delivered, o.attempts) for o in outcomes] == [
        (f"m{i}", True, 1) for i in range(5)
    ]
    assert [r.json() for r in server.requests] == [
        [{"n": 0}, {"n": 1}],
        [{"n": 2}, {"n": 3}],
        [{"n": 4}],
    ]


def test_a_retryable_failure_is_retried_and_a_lasting_one_answers_its_code(
    alice: User, make_workspace: Callable[..., Workspace], server: Server, _fast: list[float]
) -> None:
    web = make_setup(alice, make_workspace(alice, "acme"))
    hook = web.destination("actions-webhook")
    fields = {"url": server.url + "/in", "method": "POST", "data": {"@path": "$.properties"}}
    server.reply(Reply(status=500), Reply(status=200), Reply(status=500), Reply(status=500))

    first, second = deliver_mapped(hook, "send", mapping.compile(fields), messages(2))

    assert (first.delivered, first.attempts) == (False, 3)
    assert first.reason.startswith("errors.awaiting-retry.5xx: HTTP 500")
    assert (second.delivered, second.attempts) == (True, 1)
    assert len(server.requests) == 4
    assert len(_fast) == 2


def test_what_a_message_or_a_setting_breaks_fails_without_sending(
    alice: User, make_workspace: Callable[..., Workspace], server: Server
) -> None:
    web = make_setup(alice, make_workspace(alice, "acme"))
    hook = web.destination("actions-webhook")
    # A path read from the message: a number there makes the mapping kit throw.
    fields = {
        "url": server.url + "/in",
        "method": "POST",
        "data": {"@path": {"@path": "$.properties.where"}},
    }
    good = ("good", {"type": "track", "properties": {"where": "$.properties"}})
    broken = ("bad", {"type": "track", "properties": {"where": 5}})

    ok, bad = deliver_mapped(hook, "send", mapping.compile(fields), [good, broken])
    (unknown,) = deliver_mapped(hook, "nope", mapping.compile(fields), [good])

    assert ok.delivered
    assert server.requests[0].json() == {"where": "$.properties"}
    assert (bad.delivered, bad.code) == (False, "errors.discarded.INVALID_PAYLOAD")
    assert (unknown.delivered, unknown.code) == (False, "errors.discarded.INVALID_SETTINGS")
    assert "nope" in unknown.message
    assert len(server.requests) == 1
