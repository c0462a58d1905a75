"""Concurrent creates cannot pass the limit of 100 custom matchers together."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connections, transaction

from privacy.models import PiiMatcher
from privacy.services import matchers as service
from switchyard.access import Principal
from switchyard.errors import FailedPrecondition
from tests.resource_contract import wait_for_lock_waiters
from workspace.models import Workspace


@pytest.mark.django_db(transaction=True)
def test_two_creates_racing_for_the_last_place_take_one(
    alice: User, make_workspace: Callable[..., Workspace]
) -> None:
    acme = make_workspace(alice, "acme", "Acme")
    owner = Principal(alice)
    for n in range(service.LIMIT - 1):
        service.do_create_pii_matcher(
            principal=owner, workspace=acme, name=f"m{n}", classification="RED", match_on="KEY"
        )
    outcomes: dict[str, str] = {}

    def create(name: str) -> None:
        try:
            service.do_create_pii_matcher(
                principal=owner, workspace=acme, name=name, classification="RED", match_on="KEY"
            )
            outcomes[name] = "created"
        except FailedPrecondition:
            outcomes[name] = "refused"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(name,)) for name in ("a", "b")]
    # Hold the workspace row until both creates wait on it: each one has read
    # nothing yet, so only the service's own lock can make them take turns.
    with transaction.atomic():
        Workspace.objects.select_for_update().get(pk=acme.pk)
        for thread in threads:
            thread.start()
        wait_for_lock_waiters(threads, outcomes)
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["created", "refused"]
    assert PiiMatcher.objects.filter(workspace=acme).count() == service.LIMIT
