"""Fixtures for driving Debian's Chromium through Playwright's sync API."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

# expect() waits 5 s by default; an htmx round trip on a 2-core CI machine running
# the live server, Chromium and the suite's other processes can take longer.
expect.set_options(timeout=15_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def allow_async_unsafe() -> Iterator[None]:
    """Playwright's sync API runs an event loop in the test thread while a browser is
    open, and Django refuses ORM calls there (SynchronousOnlyOperation). Lift that
    check for one browser test and put it back afterwards: once ``sync_playwright``
    has exited no loop is running, so the database teardown needs no exemption."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser(allow_async_unsafe: None) -> Iterator[Browser]:
    # Never download a browser: the system Chromium must be there, else fail (not skip).
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing; install the 'chromium' Debian package"
    earlier = set(threading.enumerate())
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            # Inside sync_playwright the ORM runs in another context (asgiref's
            # Local follows contextvars), so it holds its own connection: close it
            # here, or it blocks dropping the test database at the end of the run.
            from django.db import connections

            connections.close_all()
            browser.close()
    _wait_for_live_server_requests(earlier)


def _wait_for_live_server_requests(earlier: set[threading.Thread], timeout: float = 10.0) -> None:
    """Let the live server's request threads end once the browser is gone.

    Chromium keeps HTTP connections alive; each holds a live-server thread, and
    that thread its database connection, until the socket closes. Waiting keeps
    them from racing the flush and the test database's teardown. Only threads this
    test started: a request thread of an earlier test's local HTTP server, held by
    a client's kept-alive connection, would otherwise cost every browser test the
    whole timeout.
    """
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name and thread not in earlier:
            thread.join(max(0.0, deadline - time.monotonic()))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
