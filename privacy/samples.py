"""Sample values of Inbox rows: what detection keeps of a field, and how it is shown.

Detection keeps one value per ``ObservedField`` row (the last seen), so what it
keeps must stay small whatever an event carries: strings are cut to
``STRING_MAX`` characters, objects and arrays to an excerpt of at most
``SAMPLE_MAX`` bytes of compact JSON (entries past the budget are dropped and
counted under ``MORE``). Keys are never cut: masking recognises a field by its
path, so an entry whose key is too long is dropped instead.

A sample is shown through the reader's ``switchyard.masking`` mask, as any
event data is: it is put back at its path in an event (``{"traits": {"email":
...}}``), so the mask sees what it would see in the stored event (the key, the
parents' keys and the value) and hides the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.masking import Mask

STRING_MAX = 200  # characters of a string kept
SAMPLE_MAX = 1024  # bytes of an excerpt, as compact JSON
DEPTH_MAX = 4  # containers nested deeper are shown as CUT_OBJECT / CUT_ARRAY
KEY_MAX = 128  # an entry with a longer key is dropped, not renamed
ELLIPSIS = "…"
MORE = "…"  # the key (objects) or item prefix (arrays) saying how many entries were dropped
CUT_OBJECT = "{…}"
CUT_ARRAY = "[…]"
# Room kept in each container for the "dropped" note: '"…":12345678,' or '"… 12345678 more",'.
_RESERVE = 24


def excerpt(value: Any) -> Any:
    """``value`` cut to at most ``SAMPLE_MAX`` bytes of compact JSON."""
    cut = _cut(value, SAMPLE_MAX, 0)
    return cut[0] if cut is not None else ELLIPSIS


def size(value: Any) -> int:
    return len(orjson.dumps(value))


def _cut(value: Any, budget: int, depth: int) -> tuple[Any, int] | None:
    """(the excerpt, its size) with size <= budget; None when nothing fits."""
    if isinstance(value, str):
        return _cut_text(value, budget)
    if value is None or isinstance(value, bool | int | float):
        try:
            n = size(value)
        except orjson.JSONEncodeError:  # an integer past 64 bits
            return _cut_text(str(value), budget)
        return (value, n) if n <= budget else None
    if isinstance(value, Mapping | list) and depth >= DEPTH_MAX:
        return _cut_text(CUT_OBJECT if isinstance(value, Mapping) else CUT_ARRAY, budget)
    if isinstance(value, Mapping):
        return _cut_object(value, budget, depth)
    if isinstance(value, list):
        return _cut_array(value, budget, depth)
    return _cut_text(str(value), budget)


def _cut_text(text: str, budget: int) -> tuple[str, int] | None:
    if len(text) > STRING_MAX:
        text = text[:STRING_MAX] + ELLIPSIS
    n = size(text)
    keep = len(text)
    while n > budget:
        # Every character costs at least one byte: dropping the excess in characters
        # gets at or under the budget in a few rounds.
        keep -= n - budget
        if keep <= 0:
            n = size(ELLIPSIS)
            return (ELLIPSIS, n) if n <= budget else None
        text = text[:keep].rstrip(ELLIPSIS) + ELLIPSIS
        n = size(text)
    return text, n


def _cut_object(value: Mapping[Any, Any], budget: int, depth: int) -> tuple[Any, int] | None:
    remaining = budget - 2 - _RESERVE  # the braces, and room for the note
    if remaining < 0:
        return None
    out: dict[str, Any] = {}
    used = 2
    for key, item in value.items():
        key = str(key)
        if len(key) > KEY_MAX or key == MORE:
            continue
        cost = size(key) + 2  # the colon, and a comma
        child = _cut(item, remaining - cost, depth + 1) if cost <= remaining else None
        if child is None:
            break
        out[key] = child[0]
        remaining -= cost + child[1]
        used += cost + child[1]
    dropped = len(value) - len(out)
    if dropped:
        out[MORE] = dropped
        used += size(MORE) + size(dropped) + 2
    return out, used


def _cut_array(value: list[Any], budget: int, depth: int) -> tuple[Any, int] | None:
    remaining = budget - 2 - _RESERVE
    if remaining < 0:
        return None
    out: list[Any] = []
    used = 2
    for item in value:
        child = _cut(item, remaining - 1, depth + 1) if remaining >= 1 else None
        if child is None:
            break
        out.append(child[0])
        remaining -= child[1] + 1
        used += child[1] + 1
    dropped = len(value) - len(out)
    if dropped:
        note = f"{MORE} {dropped} more"
        out.append(note)
        used += size(note) + 1
    return out, used


def _at(path: str, value: Any) -> dict[str, Any]:
    """``value`` put back at ``path`` in an event: ``{"traits": {"email": value}}``."""
    keys = path.split(".")
    event: dict[str, Any] = {}
    node = event
    for key in keys[:-1]:
        node[key] = {}
        node = node[key]
    node[keys[-1]] = value
    return event


def masked(mask: Mask, path: str, value: Any) -> Any:
    """``value``, the sample of the field at ``path``, as ``mask`` lets its reader see it."""
    if not mask.active or value is None:
        return value
    keys = path.split(".")
    shown = mask.event(_at(path, value))
    for key in keys:
        if not isinstance(shown, Mapping) or key not in shown:
            return None  # nothing safe to show
        shown = shown[key]
    return shown


def snippet(path: str, value: Any, event_type: str, event_name: str) -> str:
    """An example payload around a (masked) sample: the event's type and name, and
    the value at its path, as indented JSON."""
    event: dict[str, Any] = {"type": event_type}
    if event_name:
        event["event" if event_type == "track" else "name"] = event_name
    event.update(_at(path, value))
    return json.dumps(event, indent=2, ensure_ascii=False)
