"""Send API requests at the same time from threads, for the lost-update tests.

Each thread has its own API client and its own database connection (Django's
are per thread), closed when it is done; a Barrier releases them together, so
their transactions overlap as much as the server lets them. Tests using this
need ``pytest.mark.django_db(transaction=True)``: the threads must see the
fixtures' rows, so those are committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections, transaction
from rest_framework.test import APIClient


def patch_together(secret: str, requests: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """PATCH each ``(url, body)`` from its own thread, authenticated with the access
    token ``secret``; returns the responses in the order of ``requests``."""
    barrier = threading.Barrier(len(requests))
    responses: list[Any] = [None] * len(requests)
    errors: list[BaseException] = []

    def send(index: int, url: str, body: dict[str, Any]) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        try:
            barrier.wait()
            responses[index] = client.patch(url, body, format="json")
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=send, args=(i, url, body)) for i, (url, body) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return responses


def masked(resource_key: str, data: dict[str, Any], *paths: str) -> dict[str, Any]:
    """A PATCH body changing ``paths`` (relative to the resource) to ``data``'s values."""
    return {
        resource_key: data,
        "update_mask": {"paths": [f"{resource_key}.{path}" for path in paths]},
    }


def assert_audit_replays(
    resource_name: str, action: str, start: dict[str, Any], final: dict[str, Any]
) -> int:
    """Replaying the resource's update entries from ``start`` must meet each entry's
    ``before`` and end at ``final``: no update started from a value another had
    already replaced. Returns how many entries there were."""
    from workspace.models import AuditEntry

    state = dict(start)
    entries = AuditEntry.objects.filter(resource_name=resource_name, action=action).order_by("pk")
    for entry in entries:
        assert {k: state.get(k) for k in entry.before} == entry.before, entry.pk
        state.update(entry.after)
    assert state == final
    return len(entries)


def call_behind_a_lock(hold: Callable[[], None], call: Callable[[], Any]) -> Any:
    """Run ``hold`` (which locks a row and changes something) in a transaction, then
    ``call`` in another thread; commit ``hold`` only once ``call`` waits for that
    lock. Returns what ``call`` returned or raised: it must have seen ``hold``'s
    changes if it checks them after taking the lock."""
    backend: list[int] = []
    waiting = threading.Event()
    outcome: list[Any] = []

    def run() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend.append(cursor.fetchone()[0])
            waiting.set()
            outcome.append(call())
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        hold()
        thread = threading.Thread(target=run)
        thread.start()
        waiting.wait()
        _wait_until_blocked(backend[0], thread)
    thread.join()
    return outcome[0]


def _wait_until_blocked(pid: int, thread: threading.Thread) -> None:
    """Until backend ``pid`` waits for a lock (or its thread has ended). pg_locks is
    read live; pg_stat_activity would be a snapshot fixed for our transaction."""
    with connection.cursor() as cursor:
        while thread.is_alive():
            cursor.execute(
                "SELECT EXISTS (SELECT FROM pg_locks WHERE pid = %s AND NOT granted)", [pid]
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
