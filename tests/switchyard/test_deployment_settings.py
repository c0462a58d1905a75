"""Deployment hardening: SWITCHYARD_HTTPS=true (behind a TLS proxy) and the
Content-Security-Policy every page carries.

settings.py reads the environment once, at import: the HTTPS mode is read in a
subprocess (``manage.py check --deploy``, and a dump of the settings it produces),
and those very values are then applied here to real requests through the test client.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[2]
SITE = "https://cdp.example.com"

# The settings SWITCHYARD_HTTPS touches (read back from a process started with it).
HTTPS_SETTINGS = [
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
]


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_HSTS")}
    for name in ("DEBUG", "SWITCHYARD_HTTPS", "SWITCHYARD_SSL_REDIRECT", "CSRF_TRUSTED_ORIGINS"):
        env.pop(name, None)
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        SITE_URL=SITE,
        ALLOWED_HOSTS="cdp.example.com",
        DJANGO_SETTINGS_MODULE="switchyard.settings",
    )
    env.update(overrides)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_behind_tls() -> None:
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        _env(SWITCHYARD_HTTPS="true"),
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "WARNING" not in out and "no issues" in out


def test_without_the_flag_check_deploy_still_warns() -> None:
    """The clean run above is the flag's doing, not a silenced check."""
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _env())
    out = result.stdout + result.stderr
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in out


def test_https_mode_refuses_a_plain_http_site_url() -> None:
    result = _run(
        ["manage.py", "check"], _env(SWITCHYARD_HTTPS="1", SITE_URL="http://cdp.example.com")
    )
    assert result.returncode != 0
    assert "SWITCHYARD_HTTPS=true needs SITE_URL=https://" in result.stderr


DUMP = f"""
import json, django
django.setup()
from django.conf import settings
print(json.dumps({{name: getattr(settings, name) for name in {HTTPS_SETTINGS!r}}}))
"""


@pytest.fixture(scope="module")
def https_settings() -> dict[str, Any]:
    result = _run(["-c", DUMP], _env(SWITCHYARD_HTTPS="yes"))
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture
def behind_tls(https_settings: dict[str, Any]) -> Iterator[dict[str, Any]]:
    with override_settings(**https_settings):
        yield https_settings


# What the proxy adds to every request it forwards after terminating TLS.
FORWARDED = {"HTTP_X_FORWARDED_PROTO": "https"}


def test_https_mode_values(https_settings: dict[str, Any]) -> None:
    assert https_settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert https_settings["CSRF_TRUSTED_ORIGINS"] == [SITE]
    assert https_settings["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert https_settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert https_settings["SECURE_HSTS_PRELOAD"] is False


@pytest.mark.django_db
def test_https_responses_carry_hsts_and_secure_cookies(behind_tls: dict[str, Any]) -> None:
    User.objects.create_user(username="alice", password="correct-horse-42")
    client = Client()
    page = client.get("/login", **FORWARDED)  # type: ignore[arg-type]
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert page.cookies["csrftoken"]["secure"] is True

    signed_in = client.post(
        "/login",
        {"username": "alice", "password": "correct-horse-42"},
        **FORWARDED,  # type: ignore[arg-type]
    )
    assert signed_in.status_code == 302
    assert signed_in.cookies["sessionid"]["secure"] is True
    assert signed_in.cookies["sessionid"]["httponly"] is True


@pytest.mark.django_db
def test_plain_http_is_redirected_except_the_health_check(behind_tls: dict[str, Any]) -> None:
    client = Client()
    plain = client.get("/login")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/login"
    # A load balancer's probe reaches the app directly, without the proxy's header.
    health = client.get("/healthz")
    assert health.status_code in (200, 503)
    assert health["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_csrf_trusts_site_url_origin_and_refuses_others(behind_tls: dict[str, Any]) -> None:
    """The proxy forwards Host as the app sees it (testserver here); the browser's
    Origin is SITE_URL's, accepted only because it is a trusted origin."""
    User.objects.create_user(username="alice", password="correct-horse-42")

    def sign_in(origin: str) -> int:
        client = Client(enforce_csrf_checks=True)
        client.get("/login", **FORWARDED)  # type: ignore[arg-type]
        token = client.cookies["csrftoken"].value
        response = client.post(
            "/login",
            {"username": "alice", "password": "correct-horse-42", "csrfmiddlewaretoken": token},
            HTTP_ORIGIN=origin,
            **FORWARDED,  # type: ignore[arg-type]
        )
        return response.status_code

    assert sign_in(SITE) == 302
    assert sign_in("https://evil.example.net") == 403
    assert sign_in("http://cdp.example.com") == 403


# --- Content-Security-Policy, in every mode ----------------------------------------


def _directives(header: str) -> dict[str, set[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: set(values) for name, *values in parts}


@pytest.mark.django_db
def test_ui_pages_carry_a_strict_policy(alice: User) -> None:
    signed_in = Client()
    signed_in.force_login(alice)
    for client, url in (
        (Client(), "/login"),
        (signed_in, "/workspaces/"),
        (signed_in, "/workspaces/new"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = _directives(response["Content-Security-Policy"])
        assert policy["default-src"] == {"'self'"}
        assert policy["script-src"] == {"'self'"}
        assert policy["style-src"] == {"'self'"}
        assert policy["frame-ancestors"] == {"'none'"}
        assert policy["object-src"] == {"'none'"}
        assert policy["form-action"] == {"'self'"}
        assert policy["base-uri"] == {"'self'"}
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_api_docs_load_their_init_script_as_a_file() -> None:
    client = Client()
    page = client.get("/v1beta/docs")
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]
    html = page.content.decode()
    assert re.search(r"<script>|<style", html) is None
    script = re.search(r'<script src="(/v1beta/docs\?script=[^"]*)"', html)
    assert script is not None
    init = client.get(script.group(1).replace("&amp;", "&"))
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in init.content
    # No validator badge, an image from another origin the policy would refuse.
    assert b'"validatorUrl": null' in init.content


# --- The templates keep to the policy -------------------------------------------

# What the policy (no 'unsafe-inline', no 'unsafe-eval') refuses to run or apply.
REFUSED = {
    "inline <script>": re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*\btype=\"application/(?:ld\+)?json\")[^>]*>", re.I
    ),
    "on* handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    # htmx evaluates these as code.
    "hx-on attribute": re.compile(r"\shx-on", re.I),
    "hx-vals/hx-vars js:": re.compile(r"hx-va(?:ls|rs)\s*=\s*[\"']\s*js:", re.I),
    "hx-trigger filter": re.compile(r"hx-trigger\s*=\s*(\"[^\"]*\[|'[^']*\[)", re.I),
}


def _our_templates() -> list[Path]:
    dirs = [Path(d) for config in settings.TEMPLATES for d in config["DIRS"]]
    for app in apps.get_app_configs():
        folder = Path(app.path) / "templates"
        if folder.is_dir() and folder.resolve().is_relative_to(ROOT) and ".venv" not in app.path:
            dirs.append(folder)
    return sorted(p for d in dirs for p in d.rglob("*.html"))


def test_templates_hold_nothing_the_policy_refuses() -> None:
    templates = _our_templates()
    assert len(templates) > 20
    found = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {what}: {m.group(0)}"
        for path in templates
        for text in [path.read_text()]
        for what, pattern in REFUSED.items()
        for m in pattern.finditer(text)
    ]
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<form onsubmit="return confirm(1)">',
        '<div style="width: 1px">',
        "<style>p {}</style>",
        '<a href="javascript:void(0)">',
        '<div hx-on:click="x()">',
        "<div hx-vals='js:{a: 1}'>",
        '<div hx-trigger="every 2s [document.hidden]">',
    ],
)
def test_the_scan_catches(snippet: str) -> None:
    assert any(pattern.search(snippet) for pattern in REFUSED.values())


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/x.js" defer></script>',
        '<script type="application/json" id="data">{}</script>',
        '<form data-confirm="Delete?">',
        '<div hx-trigger="every 2s">',
    ],
)
def test_the_scan_allows(snippet: str) -> None:
    assert not any(pattern.search(snippet) for pattern in REFUSED.values())
