"""The Config API does what its OpenAPI document says: a Schemathesis run with every
check, the stateful phase included, against a live server on the test database.

What the run leaves out, and why, is written in ``api_contract.toml`` beside this
file, and in ``_no_forged_page_tokens`` below. The run is bounded (6 examples per
operation, a fixed seed, 2 workers): about 3.5 minutes on a 2-core machine, most of
it the coverage phase, whose cases the document fixes. Marked slow, so CI runs it
once (on the embedded services), not in both phases.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import schemathesis
from _pytest.assertion import rewrite
from click.testing import CliRunner
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer
from schemathesis.auths import GLOBAL_AUTH_STORAGE
from schemathesis.cli import schemathesis as schemathesis_cli
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from connections.services.destinations import do_create_destination
from connections.services.filters import do_create_filter
from connections.services.sources import do_create_source
from connections.services.subscriptions import do_create_subscription
from privacy.services.matchers import do_create_pii_matcher
from switchyard.access import Principal
from workspace.models import AccessToken
from workspace.services import groups, labels
from workspace.services.tokens import do_create_access_token
from workspace.services.workspaces import do_create_workspace

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CONFIG = Path(__file__).with_name("api_contract.toml")


def _seed(owner: User) -> None:
    """One of each resource, so that paths and links reach real objects."""
    principal = Principal(owner)
    workspace = do_create_workspace(principal=principal, slug="acme", display_name="Acme")
    source = do_create_source(
        principal=principal, workspace=workspace, slug="web", display_name="Web"
    )
    destination = do_create_destination(
        principal=principal, source=source, definition="actions-webhook", display_name="Hook"
    )
    # Nothing delivers during the run (no worker runs), and the send-test operation,
    # the one that sends for real, is excluded: this URL is never called.
    do_create_subscription(
        principal=principal,
        destination=destination,
        action="send",
        name="Send",
        mapping={"url": "http://127.0.0.1:9/hook", "method": "POST"},
    )
    do_create_filter(
        principal=principal,
        destination=destination,
        title="Drop tests",
        if_='event = "Test"',
        actions=[{"type": "DROP"}],
    )
    labels.do_create_label(principal=principal, workspace=workspace, key="env", value="prod")
    groups.do_create_group(principal=principal, workspace=workspace, name="Team")
    do_create_pii_matcher(
        principal=principal,
        workspace=workspace,
        name="SIN",
        classification="RED",
        match_on="VALUE",
        pattern=r"^\d{3}-\d{3}-\d{3}$",
    )


class _OwnersToken:
    """The run's credentials: the owner's personal token. The run may revoke it
    (DELETE .../access-tokens/{id} is an operation like any other); then the next
    request gets a new one, so that one revocation does not turn the rest of the
    run into 401s."""

    owner: ClassVar[User]

    def __init__(self) -> None:
        self.token: AccessToken | None = None
        self.secret = ""

    def get(self, case: Any, context: Any) -> str:
        if self.token is not None:
            self.token.refresh_from_db(fields=["revoke_time"])
        if self.token is None or self.token.revoke_time is not None:
            self.token, self.secret = do_create_access_token(
                principal=Principal(self.owner), user=self.owner, description="contract run"
            )
        return self.secret

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _no_forged_page_tokens(context: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
    """EXCLUSION: a page_token is opaque and signed: the document says only a List's
    own next_page_token is one, and any other string is an invalid argument (400),
    which the positive-data check would count against a schema-valid request. So
    every page_token the run sends is the empty one (the first page); paging with
    real tokens and refusing tampered ones are tested in test_pagination."""
    if query and isinstance(query.get("page_token"), str):
        query["page_token"] = ""
    return query


@pytest.fixture
def one_ast_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPython 3.11 keeps one AST conversion depth per interpreter, so two threads
    converting ASTs at once fail with "AST constructor recursion depth mismatch":
    the run's two workers do, when Hypothesis parses a lambda's source to describe it
    and when pytest rewrites a schemathesis module imported lazily (a pytest plugin's
    modules are rewritten). An error of the run, not of the API; they take turns."""
    lock = threading.RLock()

    def serialized(function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return function(*args, **kwargs)

        return call

    monkeypatch.setattr(ast, "parse", serialized(ast.parse))
    monkeypatch.setattr(rewrite, "_rewrite_test", serialized(rewrite._rewrite_test))


@pytest.fixture
def owners_token(make_user: Any) -> Iterator[None]:
    owner = make_user("contract-owner")
    _seed(owner)
    # Schemathesis takes a provider class; this one's tokens are the owner's.
    provider = type("RunToken", (_OwnersToken,), {"owner": owner})
    schemathesis.auth(refresh_interval=None)(provider)
    GLOBAL_HOOK_DISPATCHER.register_hook_with_name(_no_forged_page_tokens, "map_query")
    try:
        yield
    finally:
        GLOBAL_AUTH_STORAGE.unregister()
        GLOBAL_HOOK_DISPATCHER.unregister(_no_forged_page_tokens)


def test_the_api_does_what_its_openapi_document_says(
    live_server: LiveServer, owners_token: None, one_ast_at_a_time: None
) -> None:
    started = timezone.now()
    # Explore rather than wait: the 429 is documented, and tested in test_rate_limit.
    with override_settings(API_RATE_LIMIT_PER_MINUTE=1_000_000):
        result = _run(live_server)
    elapsed = (timezone.now() - started).total_seconds()
    assert result.exit_code == 0, f"{result.output}\n(the run took {elapsed:.0f} s)"


def _run(live_server: LiveServer) -> Any:
    return CliRunner().invoke(
        schemathesis_cli,
        [
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{live_server.url}/v1beta/openapi.json",
        ],
        catch_exceptions=False,
    )
