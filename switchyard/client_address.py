"""The address a request came from, for sign-in lockout (django-axes).

By default REMOTE_ADDR alone: X-Forwarded-For is whatever the client wrote, so
trusting it would let an attacker pick a fresh address per attempt, or lock out
someone else's. Behind reverse proxies that each append the address they saw to
X-Forwarded-For (nginx's ``$proxy_add_x_forwarded_for``, most load balancers),
set SWITCHYARD_TRUSTED_PROXY_COUNT to how many there are: the client is then the
entry that many places from the right, the one the outermost proxy wrote. Entries
further left came from the client and are ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR") or "")
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
