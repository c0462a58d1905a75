"""Which identifiers a message carries (reference engage.md §3.2) and which
messages identity resolution drops before looking (§3.5).

Identifiers come from the default locations (engage.identity.defaults, for the
types the space has configured), from ``context.externalIds`` (all four fields
required, lowercase types; any type, new ones are returned so the service can
add their settings rows), and, for configured custom types, from a trait or
property key of the same name (as is, camelCase or snake_case)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from engage.identity.defaults import ACCOUNTS, USERS, IdentifierSource
from engage.identity.rules import Settings

COLLECTIONS = (USERS, ACCOUNTS)
VALUE_MAX = 1024  # ProfileIdentifier.value
GROUP_ID_MAX = 500
MESSAGE_ID_MAX = 100
TRAITS_MAX = 300  # "Engage rejects Identify events with 300 or more traits"
EXTERNAL_ID_FIELDS = ("id", "type", "collection", "encoding")


class Identifier(NamedTuple):
    type: str
    value: str
    collection: str = USERS


class Examined(NamedTuple):
    identifiers: list[Identifier]  # promoted, in message order, each once
    blocked: list[Identifier]  # carried but not promoted (a blocked value)
    new_types: list[str]  # context.externalIds types the space has no rule for


def _value(raw: Any) -> str | None:
    if type(raw) is str:
        value = raw.strip()
        return value if value and len(value) <= VALUE_MAX else None
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else str(raw)
    if isinstance(raw, str):
        value = raw.strip()
        return value if value and len(value) <= VALUE_MAX else None
    return None


def _get(message: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = message
    for key in path:
        # dict first: messages are parsed JSON, and the ABC check is slow.
        if type(node) is not dict and not isinstance(node, Mapping):
            return None
        node = node.get(key)
        if node is None:
            return None
    return node


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _snake(camel: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in camel).lstrip("_")


def _key_variants(type_: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((type_, _camel(type_), _snake(type_))))


def _bags(message: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], str]]:
    """The trait and property objects custom identifiers are read from, with
    the collection they describe (a group call's traits are the account's)."""
    bags: list[tuple[Mapping[str, Any], str]] = []
    traits = message.get("traits")
    if isinstance(traits, Mapping):
        bags.append((traits, ACCOUNTS if message.get("type") == "group" else USERS))
    context = message.get("context")
    if isinstance(context, Mapping) and isinstance(context.get("traits"), Mapping):
        bags.append((context["traits"], USERS))
    properties = message.get("properties")
    if isinstance(properties, Mapping):
        bags.append((properties, USERS))
    return bags


def examine(message: Mapping[str, Any], settings: Settings) -> Examined:
    found: dict[Identifier, None] = {}
    blocked: dict[Identifier, None] = {}
    new_types: dict[str, None] = {}

    def add(type_: str, value: str, collection: str) -> None:
        identifier = Identifier(type_, value, collection)
        if settings.blocked(type_, value):
            blocked[identifier] = None
        else:
            found[identifier] = None

    def offer(type_: str, raw: Any, collection: str) -> None:
        value = _value(raw)
        if value is not None:
            add(type_, value, collection)

    def read(source: IdentifierSource) -> None:
        for path in source.paths:
            raw = _get(message, path)
            if raw is None:
                continue
            value = _value(raw)
            if value is not None:
                add(source.type, value, ACCOUNTS if source.type == "group_id" else USERS)
                return

    # settings.reads inlines read() and add(): most messages' only work.
    is_blocked = settings.blocked
    get = message.get
    for type_, collection, paths in settings.reads:
        for key, rest in paths:
            raw = get(key)
            if raw is not None and rest:
                raw = _get(raw, rest)  # from the first key's value on
            if raw is None:
                continue
            if type(raw) is str:  # _value() without its call
                value: str | None = raw.strip()
                if not value or len(value) > VALUE_MAX:
                    continue
            else:
                value = _value(raw)
                if value is None:
                    continue
            identifier = Identifier(type_, value, collection)
            if is_blocked(type_, value):
                blocked[identifier] = None
            else:
                found[identifier] = None
            break
    for first, want, group in settings.conditional:
        if _get(message, first) != want:
            continue
        for source in group:
            if all(_get(message, path) == value for path, value in source.condition[1:]):
                read(source)

    context = message.get("context")
    externals = context.get("externalIds") if isinstance(context, Mapping) else None
    if isinstance(externals, list):
        for entry in externals:
            if not isinstance(entry, Mapping) or any(
                entry.get(f) in (None, "") for f in EXTERNAL_ID_FIELDS
            ):
                continue
            type_, collection = entry["type"], entry["collection"]
            if (
                not isinstance(type_, str)
                or type_ != type_.lower()
                or collection not in COLLECTIONS
            ):
                continue
            if type_ not in settings.rules:
                new_types[type_] = None
            offer(type_, entry["id"], collection)

    if settings.keyed_types:
        for bag, collection in _bags(message):
            for type_ in settings.keyed_types:
                for key in _key_variants(type_):
                    if key in bag:
                        offer(type_, bag[key], collection)
                        break

    return Examined(list(found), list(blocked), list(new_types))


def extract(message: Mapping[str, Any], settings: Settings) -> list[Identifier]:
    """The identifiers identity resolution matches the message on."""
    return examine(message, settings).identifiers


def dropped(message: Mapping[str, Any]) -> str | None:
    """Why identity resolution ignores the message silently (§3.5 "silent
    drops"), or None."""
    message_id = message.get("messageId")
    if isinstance(message_id, str) and len(message_id) > MESSAGE_ID_MAX:
        return "messageId longer than 100 characters"
    kind = message.get("type")
    group_id = message.get("groupId")
    if kind == "group" and (group_id is None or group_id == ""):
        return "empty groupId in a group call"
    if isinstance(group_id, str) and len(group_id) > GROUP_ID_MAX:
        return "groupId longer than 500 characters"
    context = message.get("context")
    if kind == "track" and isinstance(context, Mapping) and context.get("groupId", None) == "":
        return "empty context.groupId in a track call"
    properties = message.get("properties")
    if isinstance(properties, Mapping) and len(properties) > TRAITS_MAX:
        return "more than 300 properties"
    traits = message.get("traits")
    if kind != "identify" and isinstance(traits, Mapping) and len(traits) > TRAITS_MAX:
        return "more than 300 traits"
    return None


def rejected(message: Mapping[str, Any]) -> str | None:
    """An identify call identity resolution refuses (logged as an error)."""
    traits = message.get("traits")
    if (
        message.get("type") == "identify"
        and isinstance(traits, Mapping)
        and len(traits) >= TRAITS_MAX
    ):
        return "Identify call with 300 or more traits"
    return None
