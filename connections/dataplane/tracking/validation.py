"""Normalize and validate Tracking API messages (the Segment Spec).

Each message that passes becomes one ``Row``: the columns the event table
indexes and the stored payload (JSON text), which is the message as sent plus
what the Tracking API adds:

- ``messageId`` when the library sent none ("sy-" + a uuid4 in hex);
- ``receivedAt``: one value for the whole request;
- ``timestamp`` corrected for the device's clock skew, as the Spec's common
  fields page describes: ``timestamp = receivedAt - (sentAt - originalTimestamp)``
  when the message (or its batch) carries ``sentAt``; the timestamp as sent
  when there is no ``sentAt`` (historical imports); ``receivedAt`` when the
  message has no timestamp at all;
- ``originalTimestamp``: the timestamp as sent (kept when the library sent one);
- a batch's own ``context`` and ``integrations`` merged under each message's
  (the message's keys win). ``writeKey`` is not stored;
- ``context.ip``: the client's address (switchyard.client_address, honouring the
  trusted proxies) when the message and its batch carry none, as Segment fills
  it; IPv4 only ("Segment doesn't support automatically collecting IPv6
  addresses", the Spec's common fields page).

A request with any invalid message is refused whole with a 400 that names the
message and the problem (``batch[3]: track needs an event name``); Segment's
libraries do not retry a 400, and nothing of the request is stored.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import re2

TYPES = ("identify", "track", "page", "screen", "group", "alias")
_TYPE_SET = frozenset(TYPES)

KB = 1024
MESSAGE_LIMIT = 32 * KB  # one message (and one single-call request body)
BATCH_BODY_LIMIT = 500 * KB  # one batch request body
BATCH_EVENTS_LIMIT = 2_500  # messages in one batch request
MESSAGE_ID_LIMIT = 100  # characters (Segment's documented maximum)
ID_LIMIT = 256  # characters of userId / anonymousId (the event table's columns)
NAME_COLUMN = 256  # event_name column: longer names are stored whole in the payload
NESTING_LIMIT = 254  # levels of objects and arrays in a message (what orjson can write)
TOO_DEEP = f"the message is nested deeper than the {NESTING_LIMIT} levels limit"

_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
_UTC = dt.UTC


# Why a request was refused: the reason of its "failed on ingest" counter.
INVALID_JSON = "invalid_json"
TOO_LARGE = "too_large"
TOO_DEEP_CODE = "too_deep"
INVALID_ENCODING = "invalid_encoding"
MISSING_ID = "missing_user_id"
MISSING_FIELD = "missing_field"
INVALID_TYPE = "invalid_type"
INVALID_TIMESTAMP = "invalid_timestamp"
INVALID_FIELD = "invalid_field"
INVALID_VALUE = "invalid_value"
# What each reason means, for the delivery overview.
REASON_LABELS = {
    INVALID_JSON: "Body is not a JSON object (or is empty)",
    TOO_LARGE: "Message or batch over its size or count limit",
    TOO_DEEP_CODE: "Nested deeper than the 254 levels limit",
    INVALID_ENCODING: "Bad gzip or unsupported Content-Encoding",
    MISSING_ID: "Missing userId or anonymousId",
    MISSING_FIELD: "Missing a required field (event, groupId, previousId)",
    INVALID_TYPE: "Missing or unknown message type",
    INVALID_TIMESTAMP: "Bad or out-of-range timestamp",
    INVALID_FIELD: "A field of the wrong type or too long",
    INVALID_VALUE: "A value that cannot be stored (NUL, integer over 64 bits)",
}


class Invalid(ValueError):
    """A request the Tracking API refuses with a 400; ``str()`` is the message and
    ``code`` the reason it is counted under (failed on ingest)."""

    def __init__(self, message: str, code: str = INVALID_FIELD) -> None:
        super().__init__(message)
        self.code = code


# orjson keeps integers from -2^63 to 2^64-1 and reads any wider one as a float,
# silently losing digits; such an integer has at least 19 digits.
_INTEGER_RANGE = range(-(2**63), 2**64)
# RE2 (a DFA) scans a 100-event body for the digit run ~6x faster than ``re``,
# which backtracks at every digit: 1 ms per batch request, ~10% of ingest's
# Python time, became ~0.2 ms.
_MAYBE_WIDE = re2.compile(rb"[0-9]{19}")


def _integer(text: str) -> int:
    value = int(text)
    if value not in _INTEGER_RANGE:
        raise Invalid(
            f"the integer {text[:40]} is outside the 64-bit range (-2^63 to 2^64-1) that is"
            " stored exactly; send it as a string",
            code=INVALID_VALUE,
        )
    return value


def refuse_wide_integers(raw: bytes) -> None:
    """Raise ``Invalid`` when the JSON ``raw`` (already read by orjson) holds an
    integer orjson would have turned into a float. Bodies without a run of 19 digits
    (nearly all) are not read again."""
    if _MAYBE_WIDE.search(raw) is None:
        return
    try:
        json.loads(raw, parse_int=_integer)
    except RecursionError:
        raise Invalid(
            f"the message is nested deeper than the {NESTING_LIMIT} levels limit",
            code=TOO_DEEP_CODE,
        ) from None


@dataclass(frozen=True, slots=True)
class Row:
    message_id: str
    type: str
    event_name: str
    user_id: str
    anonymous_id: str
    timestamp: str  # ISO-8601, UTC
    payload: str  # the stored message, JSON


def auto_ip(address: str) -> str:
    """The address ``context.ip`` is filled with: IPv4 (an IPv4-mapped IPv6 address
    too), else ``""``."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if isinstance(parsed, ipaddress.IPv6Address):
        mapped = parsed.ipv4_mapped
        return str(mapped) if mapped is not None else ""
    return str(parsed)


def iso(value: dt.datetime) -> str:
    """``2015-12-10T04:08:31.909Z``: UTC, millisecond precision, as Segment writes them."""
    return value.astimezone(_UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def new_message_id() -> str:
    return "sy-" + uuid.uuid4().hex


def _date(message: dict[str, Any], field: str) -> dt.datetime | None:
    value = message.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{field} must be an ISO-8601 date string", code=INVALID_TIMESTAMP)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            f'{field} "{value[:64]}" is not an ISO-8601 date', code=INVALID_TIMESTAMP
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_UTC)


def _identifier(message: dict[str, Any], field: str) -> str:
    """A user, anonymous, group or previous id: a string (numbers are turned into one).
    ``""`` when absent."""
    value = message.get(field)
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        if len(value) > ID_LIMIT:
            raise Invalid(f"{field} is longer than {ID_LIMIT} characters")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        message[field] = text
        return text
    raise Invalid(f"{field} must be a string")


def _optional_string(message: dict[str, Any], field: str) -> str:
    value = message.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(f"{field} must be a string")
    return value


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def normalize(
    message: Any,
    *,
    kind: str | None,
    received_at: dt.datetime,
    received_iso: str,
    sent_at: dt.datetime | None = None,
    batch_context: dict[str, Any] | None = None,
    batch_integrations: dict[str, Any] | None = None,
    measure: bool = False,
    client_ip: str = "",
) -> Row:
    """Validate one message and return its row; raises ``Invalid``.

    ``kind`` is the call type an endpoint implies (``/v1/track``); ``None`` in a
    batch, where each message names its own ``type``. ``sent_at`` is the
    batch's ``sentAt`` (a message's own wins). ``measure`` checks the
    32 KB limit on the message itself (single calls check the request body).
    """
    if not isinstance(message, dict):
        raise Invalid("a message must be a JSON object", code=INVALID_TYPE)
    out = dict(message)
    out.pop("writeKey", None)
    if kind is None:
        kind = out.get("type")
        if kind is None:
            raise Invalid(f"type is required (one of {', '.join(TYPES)})", code=INVALID_TYPE)
        if not isinstance(kind, str):
            raise Invalid(f"type must be a string (one of {', '.join(TYPES)})", code=INVALID_TYPE)
        if kind not in _TYPE_SET:
            raise Invalid(
                f'unknown type "{kind[:32]}"; expected one of {", ".join(TYPES)}', code=INVALID_TYPE
            )
    else:
        out["type"] = kind

    for field in _OBJECT_FIELDS:
        value = out.get(field)
        if value is not None and not isinstance(value, dict):
            raise Invalid(f"{field} must be an object")

    user_id = _identifier(out, "userId")
    anonymous_id = _identifier(out, "anonymousId")
    event_name = ""
    if kind == "alias":
        if not user_id:
            raise Invalid("alias needs a userId (the new id)", code=MISSING_ID)
        if not _identifier(out, "previousId"):
            raise Invalid("alias needs a previousId", code=MISSING_FIELD)
    elif not user_id and not anonymous_id:
        raise Invalid(f"{kind} needs a userId or an anonymousId", code=MISSING_ID)
    if kind == "track":
        event = out.get("event")
        if event is None or event == "":
            raise Invalid("track needs an event name", code=MISSING_FIELD)
        if not isinstance(event, str):
            raise Invalid("event must be a string")
        event_name = event
    elif kind == "page" or kind == "screen":
        event_name = _optional_string(out, "name")
        _optional_string(out, "category")
    elif kind == "group" and not _identifier(out, "groupId"):
        raise Invalid("group needs a groupId", code=MISSING_FIELD)

    message_id = out.get("messageId")
    if message_id is None or message_id == "":
        message_id = out["messageId"] = new_message_id()
    elif not isinstance(message_id, str):
        raise Invalid("messageId must be a string")
    elif len(message_id) > MESSAGE_ID_LIMIT:
        raise Invalid(f"messageId is longer than {MESSAGE_ID_LIMIT} characters")

    # Timestamps: the Spec's clock-skew correction.
    original = _date(out, "originalTimestamp")
    sent = _date(out, "sentAt") or sent_at
    stamped = _date(out, "timestamp") or original
    if stamped is not None:
        if original is None:
            original = stamped
            out["originalTimestamp"] = out["timestamp"]
        try:
            timestamp_iso = iso(received_at - (sent - stamped) if sent is not None else stamped)
        except OverflowError:
            # Python's dates end at years 1 and 9999: a time zone or a clock-skew
            # correction can carry a date at either end past them.
            raise Invalid(
                "timestamp is out of range once converted to UTC and corrected with sentAt"
                " (years 0001 to 9999)",
                code=INVALID_TIMESTAMP,
            ) from None
    else:
        timestamp_iso = received_iso
    out["timestamp"] = timestamp_iso
    out["receivedAt"] = received_iso

    if batch_context:
        own = out.get("context")
        out["context"] = {**batch_context, **own} if own else batch_context
    if batch_integrations:
        own = out.get("integrations")
        out["integrations"] = {**batch_integrations, **own} if own else batch_integrations
    if client_ip:
        own = out.get("context")
        if not own:
            out["context"] = {"ip": client_ip}
        elif own.get("ip") is None:
            out["context"] = {**own, "ip": client_ip}  # a copy: a batch's context is shared

    try:
        payload = orjson.dumps(out)
    except orjson.JSONEncodeError:
        # orjson reads up to 1024 levels but writes at most 254; nothing else in
        # what orjson.loads returned (and the dates added here) fails to serialize.
        raise Invalid(
            f"the message is nested deeper than the {NESTING_LIMIT} levels limit",
            code=TOO_DEEP_CODE,
        ) from None
    if b"\\u0000" in payload and _contains_nul(out):
        raise Invalid(
            "the message contains a NUL character (\\u0000), which cannot be stored",
            code=INVALID_VALUE,
        )
    # What is stored is a little larger than what was sent (receivedAt...): only
    # messages near the limit are measured as sent.
    if (
        measure
        and len(payload) > MESSAGE_LIMIT - 512
        and len(orjson.dumps(message)) > MESSAGE_LIMIT
    ):
        raise Invalid(
            f"the message is larger than the {MESSAGE_LIMIT // KB} KB limit", code=TOO_LARGE
        )
    return Row(
        message_id,
        kind,
        event_name[:NAME_COLUMN],
        user_id,
        anonymous_id,
        timestamp_iso,
        payload.decode(),
    )


def normalize_batch(
    body: dict[str, Any], *, received_at: dt.datetime, received_iso: str, client_ip: str = ""
) -> list[Row]:
    """The messages of a ``/v1/batch`` body; errors name the message's index."""
    messages = body.get("batch")
    if not isinstance(messages, list):
        raise Invalid("batch must be a list of messages", code=INVALID_TYPE)
    if not messages:
        raise Invalid("batch is empty", code=INVALID_TYPE)
    if len(messages) > BATCH_EVENTS_LIMIT:
        raise Invalid(
            f"batch has {len(messages):,} messages; the limit is "
            f"{BATCH_EVENTS_LIMIT:,} messages per request",
            code=TOO_LARGE,
        )
    try:
        sent_at = _date(body, "sentAt")
    except Invalid as error:
        raise Invalid(f"batch: {error}", code=error.code) from None
    context = body.get("context")
    integrations = body.get("integrations")
    if context is not None and not isinstance(context, dict):
        raise Invalid("batch: context must be an object")
    if integrations is not None and not isinstance(integrations, dict):
        raise Invalid("batch: integrations must be an object")
    rows = []
    for index, message in enumerate(messages):
        try:
            rows.append(
                normalize(
                    message,
                    kind=None,
                    received_at=received_at,
                    received_iso=received_iso,
                    sent_at=sent_at,
                    batch_context=context,
                    batch_integrations=integrations,
                    measure=True,
                    client_ip=client_ip,
                )
            )
        except Invalid as error:
            raise Invalid(f"batch[{index}]: {error}", code=error.code) from None
    return rows
