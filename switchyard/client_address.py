"""The address a request came from, for sign-in lockout (django-axes).

By default REMOTE_ADDR alone: X-Forwarded-For is whatever the client wrote, so
trusting it would let an attacker pick a fresh address per attempt, or lock out
someone else's. Behind reverse proxies that each append the address they saw to
X-Forwarded-For (nginx's ``$proxy_add_x_forwarded_for``, most load balancers),
set SWITCHYARD_TRUSTED_PROXY_COUNT to how many there are: the client is then the
entry that many places from the right, the one the outermost proxy wrote. Entries
further left came from the client and are ignored.

When the proxies are known by address rather than by number (an autoscaled load
balancer in a subnet), set SWITCHYARD_TRUSTED_PROXIES to their networks (CIDRs,
comma-separated) instead: starting from the connection's own address, each hop
that is a trusted proxy is replaced by the entry it wrote, from the right; the
first address that is not a trusted proxy is the client. It wins over the count.

The Tracking API fills ``context.ip`` with the same answer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def _behind_networks(remote: str, forwarded: str, networks: Sequence[Network]) -> str:
    address = remote
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    while _trusted(address, networks) and hops:
        candidate = hops.pop()
        try:
            address = str(ipaddress.ip_address(candidate))
        except ValueError:  # a proxy would not write that: the client did
            return address
    return address


def client_address(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR") or "")
    cidrs = tuple(getattr(settings, "SWITCHYARD_TRUSTED_PROXIES", ()))
    if cidrs:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        return _behind_networks(remote, forwarded, _networks(cidrs))
    proxies = settings.SWITCHYARD_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    hops = [h for h in hops if h]
    if len(hops) < proxies:
        # Not through the configured proxies (a health check, a misconfiguration):
        # the connection's own address is the only one we know.
        return remote
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
