"""Outbound HTTP for delivery: one shared client per process, a timeout, our
User-Agent, and the SSRF guard.

The guard sits where connections are opened (an httpcore network backend): the
host is resolved, *every* address it resolves to is checked, and the socket is
opened to the address that was checked. Nothing resolves the name a second
time, so DNS rebinding cannot swap a public answer for a private one between the
check and the connect. The URL keeps its host name, so the Host header, TLS SNI,
certificate checks and the connection pool (keyed by host name) are unchanged.

Redirects are not followed by the client; ``send`` follows up to
``MAX_REDIRECTS`` itself, and each hop opens its connection through the guard.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
from django.conf import settings

USER_AGENT = "Switchyard-Delivery/1.0"
MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Bytes of a response body we read at most (the rest is dropped with the
# connection); records keep an excerpt of it.
MAX_RESPONSE_BYTES = 64 * 1024
# Headers not carried to another origin when a redirect leaves the first one.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-signature"})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# httpx logs every request at INFO: a line per delivery is noise; failures are
# recorded as delivery outcomes.
logging.getLogger("httpx").setLevel(logging.WARNING)


class BlockedAddress(Exception):
    """The destination resolves to an address the SSRF guard refuses."""

    def __init__(self, host: str, address: str) -> None:
        self.host = host
        self.address = address
        shown = host if host == address else f"{host} ({address})"
        super().__init__(
            f"{shown} is a loopback, private, link-local or otherwise non-public address; "
            "delivery refuses it (DELIVERY_ALLOW_PRIVATE_NETWORKS is off)"
        )


def is_public(address: Address) -> bool:
    """Whether a request may go to ``address`` with the guard on."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None and not is_public(mapped):
            return False
    return not (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global  # shared (CGNAT) space, documentation ranges, ...
    )


def resolve(host: str, port: int) -> list[str]:
    """The addresses to try for ``host``, each checked against the guard.

    Raises BlockedAddress if *any* address is refused: a name that resolves to a
    mix of public and private addresses is refused whole."""
    try:
        literal: Address | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = []
        for info in infos:
            candidate = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if candidate not in addresses:
                addresses.append(candidate)
    if not settings.DELIVERY_ALLOW_PRIVATE_NETWORKS:
        for address in addresses:
            if not is_public(address):
                raise BlockedAddress(host, str(address))
    return [str(a) for a in addresses]


class GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses the guard checked."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except OSError as exc:  # name resolution failed
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("delivery does not use unix sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _transport() -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(trust_env=False)
    # The same pool httpx would build, opening its connections through the guard.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=30.0,
        network_backend=GuardedBackend(),
    )
    return transport


@dataclass
class Exchange:
    """One request as sent (after redirects: the last hop) and its response."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    elapsed: float = 0.0
    hops: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        return self.response_headers.get(name.lower())


_local = threading.local()


def client() -> httpx.Client:
    """This thread's client (httpx clients are not shared across threads)."""
    shared: httpx.Client | None = getattr(_local, "client", None)
    if shared is None:
        shared = httpx.Client(
            transport=_transport(),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )
        _local.client = shared
    return shared


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(settings.DELIVERY_TIMEOUT_SECONDS)


def _redirected(method: str, status: int) -> tuple[str, bool]:
    """The method of the next hop and whether the body goes with it (as browsers
    and requests do: 303, and 301/302 after a POST, become a GET without body)."""
    if status in (307, 308):
        return method, True
    if status == 303 or method == "POST":
        return ("HEAD" if method == "HEAD" else "GET"), False
    return method, True


def send(method: str, url: str, *, headers: Mapping[str, str], body: bytes) -> Exchange:
    """Send one request, following up to MAX_REDIRECTS redirects by hand.

    Raises BlockedAddress, httpx.TimeoutException or httpx.TransportError (and
    httpx.InvalidURL / UnsupportedProtocol for a bad URL); answers with any
    status, 3xx included when the redirects run out."""
    started = time.monotonic()
    http = client()
    current = httpx.URL(url)
    if current.scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"only http and https URLs are delivered to, not {url!r}")
    sent_headers = dict(headers)
    exchange = Exchange(method=method, url=str(current), headers=sent_headers, body=body)
    for hop in range(MAX_REDIRECTS + 1):
        request = http.build_request(
            method, current, headers=sent_headers, content=body or None, timeout=_timeout()
        )
        response = http.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_RESPONSE_BYTES:
                    break
        finally:
            response.close()
        exchange.method, exchange.url, exchange.headers = method, str(current), sent_headers
        exchange.body = body
        exchange.status = response.status_code
        exchange.response_headers = {k.lower(): v for k, v in response.headers.items()}
        exchange.response_body = b"".join(chunks)[:MAX_RESPONSE_BYTES]
        location = response.headers.get("location")
        if response.status_code not in REDIRECTS or not location or hop == MAX_REDIRECTS:
            break
        following = current.join(location)
        if following.scheme not in ("http", "https"):
            break
        exchange.hops.append(str(following))
        method, keep_body = _redirected(method, response.status_code)
        if not keep_body:
            body = b""
            sent_headers = {
                k: v for k, v in sent_headers.items() if k.lower() not in ("content-type",)
            }
        if (following.scheme, following.host, following.port) != (
            current.scheme,
            current.host,
            current.port,
        ):
            sent_headers = {
                k: v for k, v in sent_headers.items() if k.lower() not in CREDENTIAL_HEADERS
            }
        current = following
    exchange.elapsed = time.monotonic() - started
    return exchange
