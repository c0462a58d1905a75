from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from switchyard import embedded
from switchyard.access import Principal
from workspace.models import AccessToken, Workspace
from workspace.services.tokens import do_create_access_token
from workspace.services.workspaces import do_create_workspace


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Rate-limit counters live in Redis and outlast a run; user and token ids
    # repeat across runs, so each run counts under its own prefix.
    settings.CACHES["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    # Celery's keys too (queues, the control channel workers answer pings on,
    # results): a worker that another run started on the same Redis database must
    # never take this run's tasks. Workers the tests start read it from the environment.
    prefix = os.environ.get("SWITCHYARD_CELERY_KEY_PREFIX", "")
    prefix += f"test-{uuid.uuid4().hex[:12]}:"
    os.environ["SWITCHYARD_CELERY_KEY_PREFIX"] = prefix
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": prefix}
    settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": prefix}
    from switchyard.celery import app

    # Celery reads the settings on first use; if something used it already, tell it too.
    if app.configured:
        app.conf.broker_transport_options = {"global_keyprefix": prefix}
        app.conf.result_backend_transport_options = {"global_keyprefix": prefix}


# What the second CI phase runs against the machine's configured PostgreSQL and
# Redis (the first runs everything on the embedded ones): the tests whose
# behaviour depends on which services they talk to — settings and the embedded
# stack, Celery workers and the broker, Redis-backed rate limits and caches, the
# Tracking API server, ingest gates and regulations' tasks, and one browser walk.
# The rest is the same SQL on the same PostgreSQL version either way.
SMOKE = (
    "tests/switchyard/",
    "tests/connections/test_tracking_",
    "tests/connections/test_delivery_worker.py",
    "tests/connections/test_delivery_engine.py",
    "tests/connections/test_ingest_rate_limit.py",
    "tests/connections/test_event_store.py",
    "tests/workspace/test_audit_tasks.py",
    "tests/workspace/test_login_lockout.py",
    "tests/privacy/test_gate",
    "tests/privacy/test_regulation",
    "tests/engage/test_spaces_worker.py",
    "tests/engage/test_pipeline",
    "tests/engage/test_csv_upload.py",
    "tests/engage/test_profile_api_errors.py",
    "tests/engage/test_computations_realtime_worker.py",
    "tests/engage/test_computation_destinations_worker.py",
    "tests/connections/reverse_etl/test_syncs_worker.py",
    "tests/browser/test_engage_profiles.py",
    "tests/browser/test_source_flow.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        where = Path(str(item.path)).relative_to(root).as_posix()
        if where.startswith(SMOKE):
            item.add_marker(pytest.mark.smoke)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the embedded services this run started; leave a running stack alone."""
    from django.db import connections

    connections.close_all()
    if "redis" in embedded.started_here:
        embedded.stop_redis()
    if "postgres" in embedded.started_here:
        embedded.stop_postgres()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str | None = None, **extra: object) -> User:
        username = username or f"user-{uuid.uuid4().hex[:8]}"
        return User.objects.create_user(username=username, password="correct-horse-42", **extra)

    return make


@pytest.fixture
def alice(make_user: Callable[..., User]) -> User:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob")


@pytest.fixture
def make_workspace(db: None) -> Callable[..., Workspace]:
    def make(owner: User, slug: str, display_name: str | None = None) -> Workspace:
        return do_create_workspace(
            principal=Principal(owner), slug=slug, display_name=display_name or slug.title()
        )

    return make


@pytest.fixture
def token_client(db: None) -> Callable[..., APIClient]:
    """An API client authenticating with a fresh access token of ``user``."""

    def make(user: User, *, read_only: bool = False) -> APIClient:
        scope = AccessToken.Scope.WORKSPACE_READ if read_only else AccessToken.Scope.WORKSPACE
        _token, secret = do_create_access_token(
            principal=Principal(user), user=user, description="test", scope=scope
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


@pytest.fixture
def api(alice: User, token_client: Callable[..., APIClient]) -> APIClient:
    return token_client(alice)


@pytest.fixture
def worker_process() -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on the real broker, stopped after the test.

    (celery.contrib.testing's in-thread worker closes the test thread's database
    connection when it starts, so tests that also use the database take this.)
    """
    from django.conf import settings

    from switchyard.celery import app

    # Named, so that the readiness check waits for this worker and no other.
    name = f"test-{uuid.uuid4().hex[:12]}@localhost"
    command = [sys.executable, "-m", "celery", "-A", "switchyard", "worker", "--pool", "solo"]
    command += ["--hostname", name, "--queues", settings.CELERY_TASK_DEFAULT_QUEUE]
    command += ["--loglevel", "WARNING"]
    worker = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent, env=os.environ)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=0.5):
            assert worker.poll() is None, "the worker exited while starting"
            assert time.monotonic() < deadline, "the worker did not answer within 60 s"
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)
