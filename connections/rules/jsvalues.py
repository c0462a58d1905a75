"""JavaScript's view of JSON values, for the mapping kit.

Segment's mapping kit is TypeScript: its templates write values with ``String(v)``,
``@json`` encodes with ``JSON.stringify``, ``@if`` tests blankness with loose
equality, and several options are read by truthiness. These helpers give the same
answers for the values a JSON event can hold (dict, list, str, int, float, bool,
None), so a mapping resolves here as it does there.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = [
    "js_loosely_blank",
    "js_number",
    "js_string",
    "js_truthy",
    "js_type",
    "json_stringify",
    "utf16_length",
]

_SURROGATE = re.compile("[\ud800-\udfff]")
# Integers this large print in exponent form in JavaScript (1e21 -> "1e+21").
_EXPONENT_FROM = 10**21


def js_truthy(value: Any) -> bool:
    """``Boolean(value)``: false, 0, NaN, "" and null are false; [] and {} are true."""
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return value != ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == value and value != 0  # NaN is falsy
    return True


def js_type(value: Any) -> str:
    """The type name Segment's messages use (its ``realTypeOf``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "undefined"


def js_number(number: float) -> str:
    """``String(number)`` (ECMAScript Number::toString): shortest round-trip digits,
    exponent form below 1e-6 and from 1e21, no ``.0`` on integral values. Integers
    below 1e21 keep every digit (JavaScript would round them past 2**53; the event
    here holds them exactly)."""
    if isinstance(number, int) and not isinstance(number, bool):
        if -_EXPONENT_FROM < number < _EXPONENT_FROM:
            return str(number)
        try:
            number = float(number)
        except OverflowError:
            return "Infinity" if number > 0 else "-Infinity"
    if number != number:
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"  # and -0
    sign = "-" if number < 0 else ""
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    # The value is 0.<digits> x 10**point, digits without leading or trailing zeros.
    point = len(whole) + int(exponent or 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    e = point - 1
    tail = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + (digits if k == 1 else digits[0] + "." + digits[1:]) + tail


def js_string(value: Any) -> str:
    """``String(value)`` for a resolved value; null and a missing value give "".
    Arrays join their items with "," (null items empty); objects are
    "[object Object]", as Segment's templates write them."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return js_number(value)
    if isinstance(value, list):
        return ",".join(js_string(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    return ""  # undefined


def js_loosely_blank(value: Any) -> bool:
    """``value == ''`` in JavaScript: "", 0, false, [] and a one-item array whose
    item is itself blank this way ([""], [null], [[]]) are; objects never are."""
    while True:
        if isinstance(value, str):
            return value == ""
        if isinstance(value, bool):
            return not value
        if isinstance(value, int | float):
            return value == 0
        if isinstance(value, list):
            if len(value) > 1:
                return False  # the join holds a ","
            if not value or value[0] is None:
                return True
            value = value[0]
            if not isinstance(value, list | str):
                # String(item) of a number, boolean or object is never "".
                return False
            continue
        return False


def json_stringify(value: Any) -> str:
    """``JSON.stringify(value)`` for a JSON value: compact, non-ASCII kept as is,
    numbers as JavaScript writes them (NaN and infinities as null), lone surrogates
    escaped."""
    parts: list[str] = []
    _encode(value, parts)
    text = "".join(parts)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int | float):
        if isinstance(value, float) and (value != value or math.isinf(value)):
            out.append("null")
        else:
            out.append(js_number(value))
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _encode(item, out)
        out.append("}")
    else:
        out.append("null")


def utf16_length(text: str) -> int:
    """``text.length`` in JavaScript: UTF-16 code units (an emoji counts 2)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)
