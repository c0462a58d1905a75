"""Helpers the browser tests share."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page


def watch_csp(page: Page) -> list[str]:
    """Chromium's "Refused to ..." errors: what the Content-Security-Policy blocked."""
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", on_console)
    return refused
