"""Performers: what each (destination definition, action) does with the payloads
its mappings resolved.

``perform(ctx, sends)`` looks the performer up in ``REGISTRY`` (keyed by the
definition slug and the action key), fills the action's literal field defaults,
rejects payloads missing a required field (``errors.discarded.MESSAGE_REJECTED``)
and returns one ``Result`` per send, in order. A performer of a batching action
may answer several sends with one request; every send of that request gets its
result (Segment's "error amplification").

One event's error (what its content made of the payload or the request: a date
out of range, an integer JSON cannot carry) is that send's result, never the
run's end: ``perform`` and the helpers below hold that boundary per send.

HTTP performers go through ``connections.dataplane.delivery.http`` (one client, timeout,
User-Agent, SSRF guard). Segment Connections calls our own ingest function, so a
re-injected event is validated, deduplicated (same messageId) and put in the
outbox like any other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings

from connections.catalog import ActionDef, DestinationDefinition
from connections.dataplane.delivery import http, outcomes
from connections.dataplane.delivery.outcomes import Result

if TYPE_CHECKING:
    from connections.dataplane.tracking import validation

BATCH_SIZE_MAX = 5000


@dataclass(frozen=True)
class Send:
    """One mapped payload to deliver: the resolved fields of one mapping for one event."""

    message_id: str
    payload: dict[str, Any]
    event_type: str = ""


@dataclass(frozen=True)
class Context:
    definition: DestinationDefinition
    action: ActionDef
    settings: Mapping[str, Any]

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(
            str(self.settings[name])
            for name in self.definition.secret_settings
            if self.settings.get(name)
        )


Performer = Callable[[Context, list[Send]], list[Result]]
REGISTRY: dict[tuple[str, str], Performer] = {}


def performer(slug: str, *actions: str) -> Callable[[Performer], Performer]:
    def register(function: Performer) -> Performer:
        for action in actions:
            REGISTRY[(slug, action)] = function
        return function

    return register


def _is_directive(value: object) -> bool:
    return isinstance(value, dict) and any(isinstance(k, str) and k.startswith("@") for k in value)


def _with_defaults(action: ActionDef, payload: dict[str, Any]) -> dict[str, Any]:
    """Literal defaults (``method: POST``, ``batch_size: 100``) of fields the mapping
    left out; directive defaults were the mapping's to use."""
    missing = {
        f.key: f.default
        for f in action.fields
        if f.key not in payload and f.default is not None and not _is_directive(f.default)
    }
    return {**missing, **payload} if missing else payload


def perform(ctx: Context, sends: list[Send]) -> list[Result]:
    function = REGISTRY.get((ctx.definition.slug, ctx.action.key))
    if function is None:
        problem = f"{ctx.definition.name} has no delivery for action {ctx.action.key!r}"
        return [outcomes.failed(outcomes.INVALID_SETTINGS, problem) for _ in sends]
    results: list[Result | None] = [None] * len(sends)
    ready: list[tuple[int, Send]] = []
    required = [f.key for f in ctx.action.fields if f.required]
    for index, send in enumerate(sends):
        try:
            payload = _with_defaults(ctx.action, send.payload)
            absent = [key for key in required if payload.get(key) in (None, "")]
        except Exception as exc:
            results[index] = outcomes.from_event_error(exc, "the mapped payload")
            continue
        if absent:
            results[index] = outcomes.failed(
                outcomes.MESSAGE_REJECTED,
                f"the mapping left required field(s) {', '.join(absent)} empty",
            )
        else:
            ready.append((index, replace(send, payload=payload)))
    if ready:
        try:
            done = function(ctx, [send for _, send in ready])
        except Exception as exc:  # a performer's bug: its sends' outcome, logged with the trace
            where = f"{ctx.definition.slug} {ctx.action.key}"
            failure = outcomes.from_event_error(exc, where, expected=False)
            done = [failure for _ in ready]
        for (index, _), result in zip(ready, done, strict=True):
            results[index] = result
    return _complete(results)


def _complete(results: list[Result | None]) -> list[Result]:
    missing = outcomes.failed(outcomes.INTERNAL, "no result")
    return [r if r is not None else missing for r in results]


# --- HTTP helpers --------------------------------------------------------------------


def request_json(
    ctx: Context,
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str] | None = None,
    *,
    sign_with: str = "",
) -> Result:
    try:
        data = orjson.dumps(body)
    except Exception as exc:
        return outcomes.from_event_error(exc, "encoding the request body")
    return request_bytes(ctx, method, url, data, headers, sign_with=sign_with)


def request_bytes(
    ctx: Context,
    method: str,
    url: str,
    data: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    sign_with: str = "",
) -> Result:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if sign_with:
        sent["X-Signature"] = hmac.new(sign_with.encode(), data, hashlib.sha1).hexdigest()
    try:
        exchange = http.send(method, url, headers=sent, body=data)
    except (ValueError, TypeError, UnicodeError) as exc:  # a header httpx refuses
        return outcomes.failed(outcomes.MESSAGE_REJECTED, f"cannot send this request: {exc}")
    except Exception as exc:
        return outcomes.from_exception(exc, method, url, data, ctx.secrets)
    return outcomes.from_exchange(exchange, ctx.secrets)


def one_by_one(sends: list[Send], attempt: Callable[[Send], Result]) -> list[Result]:
    """One request per send. After a timeout or a connection failure the rest are
    not tried in this run (they would wait for the same dead host): they are put
    up for retry with the same error."""
    results: list[Result] = []
    down: Result | None = None
    for send in sends:
        if down is not None:
            results.append(replace(down, message=f"not attempted, host down: {down.message}"))
            continue
        try:
            result = attempt(send)
        except Exception as exc:  # building this send's request: its outcome only
            result = outcomes.from_event_error(exc, "building the request")
        results.append(result)
        if result.connection_problem:
            down = result
    return results


def endpoint(slug: str) -> str:
    return str(settings.DELIVERY_ENDPOINTS.get(slug) or "")


def _no_endpoint(ctx: Context, sends: list[Send]) -> list[Result]:
    problem = (
        f"no endpoint is configured for {ctx.definition.name}: set DELIVERY_ENDPOINTS "
        f"({ctx.definition.slug}) to the URL the partner gives for its Segment integration"
    )
    return [outcomes.failed(outcomes.INVALID_SETTINGS, problem) for _ in sends]


def _text_headers(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {
        str(k): (v if isinstance(v, str) else orjson.dumps(v).decode())
        for k, v in value.items()
        if v is not None
    }


# --- Webhook (Actions) -----------------------------------------------------------------


@performer("actions-webhook", "send")
def webhook_send(ctx: Context, sends: list[Send]) -> list[Result]:
    """One request per event, or with ``enable_batching`` one per ``batch_size``
    events sharing URL, method and headers, whose body is the JSON array of their
    ``data``."""
    secret = str(ctx.settings.get("shared_secret") or "")
    results: list[Result | None] = [None] * len(sends)
    groups: dict[tuple[Any, ...], list[int]] = {}
    singles: list[int] = []
    encoded: dict[int, bytes] = {}
    for index, send in enumerate(sends):
        p = send.payload
        if p.get("enable_batching") is True:
            try:
                headers = tuple(sorted(_text_headers(p.get("headers")).items()))
                size = p.get("batch_size")
                size = size if isinstance(size, int) and not isinstance(size, bool) else 100
                key = (str(p["url"]), str(p.get("method") or "POST"), headers, size)
                encoded[index] = orjson.dumps(p.get("data", {}))
            except Exception as exc:  # this event only, not its batch request
                results[index] = outcomes.from_event_error(exc, "building the request")
                continue
            groups.setdefault(key, []).append(index)
        else:
            singles.append(index)

    def single(send: Send) -> Result:
        p = send.payload
        method = str(p.get("method") or "POST").upper()
        return request_json(
            ctx,
            method,
            str(p["url"]),
            p.get("data", {}),
            _text_headers(p.get("headers")),
            sign_with=secret,
        )

    for index, result in zip(singles, one_by_one([sends[i] for i in singles], single), strict=True):
        results[index] = result
    for (url, method, headers, size), members in groups.items():
        size = max(1, min(size, BATCH_SIZE_MAX))
        down: Result | None = None
        for start in range(0, len(members), size):
            chunk = members[start : start + size]
            if down is not None:
                result = replace(down, message=f"not attempted, host down: {down.message}")
            else:
                body = b"[" + b",".join(encoded[i] for i in chunk) + b"]"
                result = request_bytes(
                    ctx, method.upper(), url, body, dict(headers), sign_with=secret
                )
                if result.connection_problem:
                    down = result
            for i in chunk:
                results[i] = result
    return _complete(results)


# --- Equals ------------------------------------------------------------------------------


@performer("actions-equals", "send")
def equals_send(ctx: Context, sends: list[Send]) -> list[Result]:
    url = str(ctx.settings.get("url") or "")
    if not url:
        problem = "the Equals URL setting is empty"
        return [outcomes.failed(outcomes.INVALID_SETTINGS, problem) for _ in sends]
    return one_by_one(
        sends, lambda send: request_json(ctx, "POST", url, send.payload.get("data", {}))
    )


# --- Connect -----------------------------------------------------------------------------


def _split_name(name: object) -> dict[str, str]:
    if not isinstance(name, str) or not name.strip():
        return {}
    first, _, last = name.strip().partition(" ")
    return {"first_name": first, "last_name": last.strip()} if last else {"first_name": first}


def connect_body(action: str, p: dict[str, Any], message_id: str) -> dict[str, Any]:
    """Connect's shape: traits become attributes (name split in first and last name,
    phone as phone_number, the device token as apns or fcm by device type)."""
    body: dict[str, Any] = {"messageId": message_id}
    for key, name in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
        if p.get(key) not in (None, ""):
            body[name] = p[key]
    if action == "identify_user":
        attributes = dict(p.get("attributes") or {})
        attributes.pop("name", None)
        attributes.update(_split_name(p.get("name")))
        for key, name in (("email", "email"), ("phone_number", "phone_number")):
            if p.get(key) not in (None, ""):
                attributes[name] = p[key]
        attributes.pop("phone", None)
        if p.get("device_token"):
            kind = "apns" if str(p.get("device_type") or "").lower() == "ios" else "fcm"
            attributes[kind] = p["device_token"]
        if p.get("timezone"):
            attributes["timezone"] = p["timezone"]
        body.update(type="identify", attributes=attributes)
    elif action == "track_event":
        body.update(type="track", event=p["event_name"], properties=p.get("properties") or {})
    elif action == "track_page":
        body.update(type="page", name=p.get("page_name"), properties=p.get("properties") or {})
    elif action == "alias_user":
        body.update(type="alias", previousId=p["previous_id"], userId=p["user_id"])
    if p.get("timestamp"):
        body["timestamp"] = p["timestamp"]
    return body


@performer("connect", "identify_user", "track_event", "track_page", "alias_user")
def connect_send(ctx: Context, sends: list[Send]) -> list[Result]:
    url = endpoint("connect")
    if not url:
        return _no_endpoint(ctx, sends)
    headers = {"Authorization": f"Bearer {ctx.settings.get('api_key', '')}"}
    return one_by_one(
        sends,
        lambda send: request_json(
            ctx, "POST", url, connect_body(ctx.action.key, send.payload, send.message_id), headers
        ),
    )


# --- UserEngage --------------------------------------------------------------------------

USERENGAGE_TYPES = {
    "identify_user": "identify",
    "page_view": "page",
    "track_event": "track",
    "update_company": "group",
}


def userengage_body(action: str, p: dict[str, Any], message_id: str) -> dict[str, Any]:
    """The mapped fields under the call type; the user is found by user ID, else by
    anonymous ID (UserEngage creates unknown users)."""
    body = {k: v for k, v in p.items() if v is not None}
    body["type"] = USERENGAGE_TYPES[action]
    body["messageId"] = message_id
    body["user_key"] = p.get("user_id") or p.get("anonymous_id") or ""
    return body


@performer("userengage", *USERENGAGE_TYPES)
def userengage_send(ctx: Context, sends: list[Send]) -> list[Result]:
    url = endpoint("userengage")
    if not url:
        return _no_endpoint(ctx, sends)
    headers = {"Authorization": f"Token {ctx.settings.get('api_key', '')}"}
    return one_by_one(
        sends,
        lambda send: request_json(
            ctx,
            "POST",
            url,
            userengage_body(ctx.action.key, send.payload, send.message_id),
            headers,
        ),
    )


# --- Segment Connections -----------------------------------------------------------------

SPEC_TYPES = {
    "send_page": "page",
    "send_track": "track",
    "send_identify": "identify",
    "send_group": "group",
    "send_screen": "screen",
}
# mapped field -> Spec key in ``context``
CONTEXT_FIELDS = {
    "application": "app",
    "campaign_parameters": "campaign",
    "device": "device",
    "ip_address": "ip",
    "locale": "locale",
    "location": "location",
    "network": "network",
    "operating_system": "os",
    "page": "page",
    "screen": "screen",
    "user_agent": "userAgent",
    "timezone": "timezone",
}


def spec_message(action: str, p: dict[str, Any], message_id: str) -> dict[str, Any]:
    """The Spec call the mapped fields describe (Segment Connections' actions)."""
    kind = SPEC_TYPES[action]
    message: dict[str, Any] = {"type": kind}
    for key, name in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
        if p.get(key) not in (None, ""):
            message[name] = p[key]
    message["messageId"] = p.get("message_id") or message_id
    if p.get("timestamp"):
        message["timestamp"] = p["timestamp"]
    context = {name: p[key] for key, name in CONTEXT_FIELDS.items() if p.get(key) is not None}
    if kind == "group":
        message["groupId"] = p.get("group_id")
    elif p.get("group_id") is not None:
        context["groupId"] = p["group_id"]
    if kind == "track":
        message["event"] = p.get("event_name")
        if p.get("traits") is not None:
            context["traits"] = p["traits"]
    if kind == "page":
        if p.get("page_name") is not None:
            message["name"] = p["page_name"]
        if p.get("page_category") is not None:
            message["category"] = p["page_category"]
    if kind == "screen" and p.get("screen_name") is not None:
        message["name"] = p["screen_name"]
    if kind in ("identify", "group"):
        traits = dict(p.get("traits") or {})
        if kind == "identify" and p.get("address") is not None:
            traits["address"] = p["address"]
        message["traits"] = traits
    if kind in ("page", "screen", "track"):
        message["properties"] = p.get("properties") or {}
    if context:
        message["context"] = context
    return message


@performer("segment-connections", *SPEC_TYPES)
def segment_connections_send(ctx: Context, sends: list[Send]) -> list[Result]:
    """Into the source whose write key is set, through the Tracking API's ingest
    function (validation, 24-hour messageId dedupe, the delivery outbox): one
    store for all the sends of a run."""
    from connections.dataplane.ingest import ingest

    key = str(ctx.settings.get("source_write_key") or "")
    now = dt.datetime.now(dt.UTC)
    results: list[Result | None] = [None] * len(sends)
    messages: dict[int, dict[str, Any]] = {}
    rows: list[validation.Row] = []
    kept: list[int] = []
    for index, send in enumerate(sends):
        prepared = spec_rows(ctx.action.key, send, now)
        if isinstance(prepared, Result):
            results[index] = prepared
            continue
        messages[index], own = prepared
        rows += own
        kept.append(index)
    request = INGEST_REQUEST
    if rows:
        stored = ingest(key, rows, received_at=now)
        for index in kept:
            body = _excerpt_of(messages[index])
            if stored is None:
                results[index] = outcomes.failed(
                    outcomes.INVALID_SETTINGS,
                    "the Source Write Key setting names no active write key",
                    request={**request, "body": body},
                    response={"status": 401, "body": "invalid write key"},
                )
            else:
                answer = {"status": 200, "body": '{"success": true}'}
                results[index] = Result(
                    outcomes.DELIVERED, request={**request, "body": body}, response=answer
                )
    return _complete(results)


INGEST_REQUEST = {"method": "INGEST", "url": "tracking-api:/v1/batch", "body": ""}


def spec_rows(
    action: str, send: Send, now: dt.datetime
) -> tuple[dict[str, Any], list[validation.Row]] | Result:
    """One send's Spec message and the rows the Tracking API makes of it, or the
    send's result: refused as the Tracking API refuses it, or discarded when its
    content breaks the conversion (a timestamp UTC cannot hold)."""
    from connections.dataplane.tracking import validation

    try:
        message = spec_message(action, send.payload, send.message_id)
        rows = validation.normalize_batch(
            {"batch": [message]}, received_at=now, received_iso=validation.iso(now)
        )
    except validation.Invalid as exc:
        return outcomes.failed(
            outcomes.MESSAGE_REJECTED,
            f"the Tracking API refused the message: {exc}",
            request={**INGEST_REQUEST, "body": _excerpt_of(message)},
            response={"status": 400, "body": str(exc)},
        )
    except Exception as exc:
        return outcomes.from_event_error(exc, "the Spec message")
    return message, rows


def _excerpt_of(message: dict[str, Any]) -> str:
    try:
        return outcomes.excerpt(orjson.dumps(message))
    except Exception:  # shown only: what cannot be encoded is shown as Python sees it
        return repr(message)[: outcomes.EXCERPT_BYTES]
