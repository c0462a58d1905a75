"""What a delivery attempt came to, in the integration error codes (when to try
again is ``backoff``).

Codes follow Segment's integration error codes (reference/connections.md §11):
``errors.discarded.<4xx>`` (permanent), ``errors.awaiting-retry.429``,
``errors.awaiting-retry.5xx`` and ``errors.awaiting-retry.<ECONN...>`` (transient).
``errors.discarded.BLOCKED_ADDRESS`` is ours: the SSRF guard refused the address.
``errors.discarded.INVALID_PAYLOAD`` is ours too: the event, as its mapping made it,
cannot be turned into a request (a date out of range, a number JSON cannot carry).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import errno
import logging
import socket
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from django.conf import settings

from connections.dataplane.delivery.http import BlockedAddress, Exchange

DELIVERED = "delivered"
RETRY = "retry"
FAILED = "failed"

INVALID_SETTINGS = "errors.discarded.INVALID_SETTINGS"
MESSAGE_REJECTED = "errors.discarded.MESSAGE_REJECTED"
# Ours, not Segment's: the destination resolved to a loopback, private,
# link-local or otherwise non-public address and DELIVERY_ALLOW_PRIVATE_NETWORKS
# is off.
BLOCKED_ADDRESS = "errors.discarded.BLOCKED_ADDRESS"
RATE_LIMITED = "errors.awaiting-retry.429"
SERVER_ERROR = "errors.awaiting-retry.5xx"
TIMED_OUT = "errors.awaiting-retry.ETIMEDOUT"
REFUSED = "errors.awaiting-retry.ECONNREFUSED"
RESET = "errors.awaiting-retry.ECONNRESET"
NOT_FOUND = "errors.awaiting-retry.ENOTFOUND"
UNREACHABLE = "errors.awaiting-retry.EHOSTUNREACH"
INTERNAL = "errors.discarded.INTERNAL"
# Ours: what one event's content made of its mapping or request could not be sent.
INVALID_PAYLOAD = "errors.discarded.INVALID_PAYLOAD"

# Why an event was not sent to a destination (the *filtered* counters), besides
# the rules' own reasons (connections.rules: FILTERED_BY_RULES, NO_MATCHING_MAPPING).
FILTERED_BY_INTEGRATIONS_OBJECT = "FILTERED_BY_INTEGRATIONS_OBJECT"
UNKNOWN_INTEGRATION = "UNKNOWN_INTEGRATION"
FILTERED_AT_MAPPING = "FILTERED_AT_MAPPING"
# Ours: a retry found its destination (or source) disabled since the first attempt.
DESTINATION_DISABLED = "DESTINATION_DISABLED"

EXCERPT_BYTES = 2048
REQUEST_BODY_EXCERPT = 4096


def excerpt(body: bytes, limit: int = EXCERPT_BYTES) -> str:
    return body[:limit].decode("utf-8", errors="replace")


@dataclass
class Result:
    """One attempt's outcome for one payload (a batched request gives each of its
    payloads the same result)."""

    status: str
    code: str = ""
    message: str = ""
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status == DELIVERED

    @property
    def connection_problem(self) -> bool:
        """Timeouts and connection failures: the rest of a batch to the same
        destination is not tried in the same run (it would time out too)."""
        return self.status == RETRY and self.response is None


def failed(code: str, message: str, **extra: Any) -> Result:
    return Result(FAILED, code, message, **extra)


def tally_of(result: Result) -> str:
    """How a run's summary (and the worker's log line) counts a result: ``delivered``,
    ``refused`` (the SSRF guard: nothing was sent), ``retrying`` or ``failed``."""
    if result.delivered:
        return "delivered"
    if result.code == BLOCKED_ADDRESS:
        return "refused"
    return "retrying" if result.status == RETRY else "failed"


def summary_line(tally: Counter[str]) -> str:
    """``delivered 3, refused 2 (SSRF guard), retrying 0, failed 1``: "sent" would
    hide that a refused event never left."""
    refused = tally["refused"]
    why = " (SSRF guard: DELIVERY_ALLOW_PRIVATE_NETWORKS is off)" if refused else ""
    return (
        f"delivered {tally['delivered']}, refused {refused}{why}, "
        f"retrying {tally['retrying']}, failed {tally['failed']}"
    )


logger = logging.getLogger(__name__)

# What an event's content can make the mapping kit, the serialiser or a date raise:
# the event's fault, discarded as INVALID_PAYLOAD. (orjson.JSONEncodeError is a
# TypeError; RecursionError: nesting deeper than the serialiser goes.)
PAYLOAD_ERRORS: tuple[type[BaseException], ...] = (
    OverflowError,
    ValueError,
    orjson.JSONEncodeError,
    RecursionError,
)


def from_event_error(exc: Exception, where: str, *, expected: bool = True) -> Result:
    """One event's error at one destination as that event's outcome, so that it
    cannot take its batch (or the worker) down with it. Anything else than a
    content error (or any error where none was ``expected``) is a bug of ours:
    still only this outcome, but with its type and message (INTERNAL) and its
    stack trace in the log."""
    problem = f"{where}: {type(exc).__name__}: {exc}"[:1000]
    if expected and isinstance(exc, PAYLOAD_ERRORS):
        logger.warning("event discarded, %s", problem)
        return failed(INVALID_PAYLOAD, problem)
    logger.error("event discarded by an unexpected error, %s", problem, exc_info=exc)
    return failed(INTERNAL, problem)


def request_record(exchange: Exchange, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """The request as the drill-down shows it: secrets and credentials masked."""
    return {
        "method": exchange.method,
        "url": mask(exchange.url, secrets),
        "headers": redact_headers(exchange.headers, secrets),
        "body": mask(excerpt(exchange.body, REQUEST_BODY_EXCERPT), secrets),
    }


SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "x-signature", "proxy-authorization"})


def redact_headers(headers: dict[str, str], secrets: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        k: ("[redacted]" if k.lower() in SENSITIVE_HEADERS else mask(v, secrets))
        for k, v in headers.items()
    }


def mask(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def retry_after_seconds(value: str | None, now: dt.datetime) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def from_exchange(exchange: Exchange, secrets: tuple[str, ...] = ()) -> Result:
    status = exchange.status
    request = request_record(exchange, secrets)
    response = {
        "status": status,
        "body": excerpt(exchange.response_body),
        "content_type": exchange.header("content-type") or "",
    }
    if 200 <= status < 300:
        return Result(DELIVERED, request=request, response=response)
    message = f"HTTP {status} from {request['url']}"
    if status == 429 or status == 408:
        after = retry_after_seconds(exchange.header("retry-after"), dt.datetime.now(dt.UTC))
        code = RATE_LIMITED if status == 429 else f"errors.awaiting-retry.{status}"
        return Result(RETRY, code, message, request, response, retry_after=after)
    if status >= 500:
        after = retry_after_seconds(exchange.header("retry-after"), dt.datetime.now(dt.UTC))
        return Result(RETRY, SERVER_ERROR, message, request, response, retry_after=after)
    if 300 <= status < 400:
        message = f"HTTP {status}: more than 3 redirects, or a redirect to a non-HTTP URL"
    return Result(FAILED, f"errors.discarded.{status}", message, request, response)


def _errno_code(exc: BaseException) -> str | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return NOT_FOUND
        if isinstance(current, ConnectionRefusedError):
            return REFUSED
        if isinstance(current, ConnectionResetError):
            return RESET
        if isinstance(current, OSError) and current.errno in (
            errno.EHOSTUNREACH,
            errno.ENETUNREACH,
        ):
            return UNREACHABLE
        current = current.__cause__ or current.__context__
    return None


def from_exception(
    exc: BaseException, method: str, url: str, body: bytes, secrets: tuple[str, ...] = ()
) -> Result:
    request = {"method": method, "url": mask(url, secrets), "body": mask(excerpt(body), secrets)}
    if isinstance(exc, BlockedAddress):
        return Result(FAILED, BLOCKED_ADDRESS, str(exc), request)
    if isinstance(exc, httpx.TimeoutException):
        timeout = settings.DELIVERY_TIMEOUT_SECONDS
        return Result(RETRY, TIMED_OUT, f"no answer within {timeout:g} s", request)
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        problem = f"invalid URL {mask(url, secrets)!r}: {exc}"
        return Result(FAILED, INVALID_SETTINGS, problem, request)
    if isinstance(exc, httpx.LocalProtocolError):  # a header or body httpx refuses to send
        return Result(FAILED, MESSAGE_REJECTED, f"cannot send this request: {exc}", request)
    if isinstance(exc, httpx.TransportError):
        if "cannot resolve" in str(exc):
            code = NOT_FOUND
        else:
            code = _errno_code(exc) or (REFUSED if isinstance(exc, httpx.ConnectError) else RESET)
        return Result(RETRY, code, str(exc) or type(exc).__name__, request)
    raise exc
