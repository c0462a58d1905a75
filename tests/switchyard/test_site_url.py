"""Links in emails (invitations) point at the address this install serves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from switchyard.management.commands.run import site_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("0.0.0.0", 9001, "http://127.0.0.1:9001"),  # noqa: S104
        ("cdp.internal", 8080, "http://cdp.internal:8080"),
        ("::1", 8002, "http://[::1]:8002"),
    ],
)
def test_run_gives_its_children_the_address_it_serves(host: str, port: int, url: str) -> None:
    assert site_url(host, port) == url


def settings_site_url(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT")}
    # Addresses only parsed, never dialled: importing settings starts nothing.
    environ.update(
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
        **env,
    )
    code = "from switchyard import settings; print(settings.SITE_URL)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_site_url_defaults_to_the_port_served() -> None:
    assert settings_site_url(PORT="8123") == "http://127.0.0.1:8123"
    assert settings_site_url() == "http://127.0.0.1:8000"


def test_an_explicit_site_url_wins() -> None:
    assert settings_site_url(PORT="8123", SITE_URL="https://cdp.example") == "https://cdp.example"
