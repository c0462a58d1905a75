"""Helpers the browser tests share."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, expect


def watch_csp(page: Page) -> list[str]:
    """Chromium's "Refused to ..." errors: what the Content-Security-Policy blocked."""
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", on_console)
    return refused


# The password tests/conftest.py's make_user gives every user.
PASSWORD = "correct-horse-42"


def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form and wait until the sign-in page is gone."""
    page.goto(f"{base}/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
