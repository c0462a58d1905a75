"""The SSRF guard: with DELIVERY_ALLOW_PRIVATE_NETWORKS off, delivery never
reaches loopback, private, link-local or otherwise non-public addresses, by name
or by address, directly or through a redirect."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from connections.dataplane.delivery import deliver, http
from connections.models import Delivery
from tests.connections.delivery_support import (
    Reply,
    Server,
    Setup,
    batch_of,
    delivery_counts,
    make_setup,
    track,
)
from workspace.models import Workspace

pytestmark = pytest.mark.django_db

BLOCKED = "errors.discarded.BLOCKED_ADDRESS"


@pytest.fixture(autouse=True)
def guard_on(settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = False
    settings.DELIVERY_TIMEOUT_SECONDS = 2


@pytest.fixture
def web(alice: User, make_workspace: Callable[..., Workspace]) -> Setup:
    return make_setup(alice, make_workspace(alice, "acme"))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not http.is_public(ipaddress.ip_address(address))
    with pytest.raises(http.BlockedAddress):
        http.resolve(address, 80)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert http.is_public(ipaddress.ip_address(address))
    assert http.resolve(address, 443) == [address]


def test_a_name_is_refused_if_any_of_its_addresses_is_private(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 80)) for ip in ("8.8.8.8", "10.0.0.7")
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(http.BlockedAddress, match=r"10\.0\.0\.7"):
        http.resolve("rebind.example", 80)


def test_the_checked_address_is_the_one_connected_to(
    monkeypatch: pytest.MonkeyPatch, server: Server, settings: Any
) -> None:
    """DNS rebinding: the name resolves once, to what is checked, and the socket
    opens to that address; a second answer is never asked for."""
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True  # let the local server be reached
    lookups: list[str] = []
    real = socket.getaddrinfo

    def first_local_then_elsewhere(host: str, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(host)
            return real(host, *args, **kwargs)  # connecting to an address: no lookup
        except ValueError:
            lookups.append(host)
        target = "127.0.0.1" if len(lookups) == 1 else "192.0.2.1"
        return real(target, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", first_local_then_elsewhere)
    exchange = http.send("POST", f"http://hooks.test:{server.port}/x", headers={}, body=b"{}")
    assert exchange.status == 200
    assert lookups == ["hooks.test"]
    assert server.requests[0].headers["host"] == f"hooks.test:{server.port}"


def test_delivery_to_loopback_fails_with_blocked_address(web: Setup, server: Server) -> None:
    destination, _ = web.webhook(f"{server.url}/hook")
    web.webhook(f"http://localhost:{server.port}/by-name")
    deliver.deliver_batch(batch_of(web.track(track())))
    assert server.requests == []
    rows = list(Delivery.objects.all())
    assert [(r.status, r.code) for r in rows] == [("failed", BLOCKED)] * 2
    assert "non-public address" in rows[0].message
    assert delivery_counts(destination) == {("failed", BLOCKED): 1}


def test_the_worker_reports_refused_events_as_refused_not_sent(
    web: Setup, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    web.webhook(f"{server.url}/hook")
    web.webhook(f"http://localhost:{server.port}/by-name")
    with caplog.at_level("INFO", logger="switchyard.delivery"):
        summary = deliver.deliver_batch(batch_of(web.track(track(), track())))
    assert "sent" not in summary
    assert (summary["attempted"], summary["delivered"], summary["refused"]) == (4, 0, 4)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "switchyard.delivery"]
    assert "delivered 0, refused 4 (SSRF guard: DELIVERY_ALLOW_PRIVATE_NETWORKS is off)" in line
    assert "sent" not in line


def test_the_setting_allows_private_networks(web: Setup, server: Server, settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True
    web.webhook(server.url)
    deliver.deliver_batch(batch_of(web.track(track())))
    assert len(server.requests) == 1


def test_a_redirect_to_loopback_is_refused(
    web: Setup, make_server: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first server stands for a public host (only its exact address is let
    through); it redirects to another loopback address, which the guard refuses."""
    public = make_server("127.0.0.1")
    internal = make_server("127.0.0.2")
    let_through = ipaddress.ip_address("127.0.0.1")
    real_is_public = http.is_public
    monkeypatch.setattr(http, "is_public", lambda a: a == let_through or real_is_public(a))
    public.reply(Reply(307, b"", headers={"Location": f"{internal.url}/admin"}))
    web.webhook(f"{public.url}/hook")

    deliver.deliver_batch(batch_of(web.track(track())))

    assert len(public.requests) == 1
    assert internal.requests == []
    row = Delivery.objects.get()
    assert (row.status, row.code) == ("failed", BLOCKED)
    assert "127.0.0.2" in row.message


def test_redirects_are_followed_up_to_three_times(
    web: Setup, server: Server, settings: Any
) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True
    server.reply(
        Reply(307, b"", headers={"Location": "/one"}),
        Reply(308, b"", headers={"Location": "/two"}),
        Reply(302, b"", headers={"Location": "/three"}),
    )
    web.webhook(f"{server.url}/start", headers={"Authorization": "Bearer t"})
    deliver.deliver_batch(batch_of(web.track(track(messageId="r-1"))))
    paths = [(r.method, r.path) for r in server.requests]
    assert paths == [("POST", "/start"), ("POST", "/one"), ("POST", "/two"), ("GET", "/three")]
    assert server.requests[2].json()["messageId"] == "r-1"  # 307/308 keep the body
    assert server.requests[3].headers["authorization"] == "Bearer t"  # same origin
    assert not Delivery.objects.exists()  # delivered


def test_a_fourth_redirect_is_not_followed(web: Setup, server: Server, settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True
    server.reply(*[Reply(302, b"", headers={"Location": f"/{i}"}) for i in range(5)])
    web.webhook(server.url)
    deliver.deliver_batch(batch_of(web.track(track())))
    assert len(server.requests) == 4
    row = Delivery.objects.get()
    assert (row.status, row.code) == ("failed", "errors.discarded.302")


def test_only_http_and_https_urls_are_delivered_to(web: Setup, settings: Any) -> None:
    settings.DELIVERY_ALLOW_PRIVATE_NETWORKS = True
    web.webhook("file:///etc/passwd")
    deliver.deliver_batch(batch_of(web.track(track())))
    row = Delivery.objects.get()
    assert (row.status, row.code) == ("failed", "errors.discarded.INVALID_SETTINGS")
