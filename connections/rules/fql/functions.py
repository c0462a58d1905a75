"""FQL built-in functions and value helpers (type names, strict equality, ordering)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from .errors import FQLError
from .glob import compile_glob

_KINDS: dict[type, str] = {
    str: "string",
    int: "number",
    float: "number",
    bool: "bool",
    type(None): "null",
    list: "list",
    tuple: "list",
    dict: "object",
}


def kind(value: Any) -> str:
    """The FQL type name of a JSON value."""
    name = _KINDS.get(type(value))
    if name is not None:
        return name
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "unknown"


def strict_eq(a: Any, b: Any) -> bool:
    """Equal only if the same FQL type and equal value (``1 = 1.0``; ``true != 1``)."""
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return False
    if ka == "list":
        return len(a) == len(b) and all(strict_eq(x, y) for x, y in zip(a, b, strict=True))
    if ka == "object":
        return a.keys() == b.keys() and all(strict_eq(a[k], b[k]) for k in a)
    return bool(a == b)


def orderable(a: Any, b: Any) -> bool:
    """``<``-style comparisons apply to two numbers or two strings only."""
    ka = kind(a)
    return ka in ("number", "string") and ka == kind(b)


def fn_contains(s: Any, sub: Any) -> bool:
    return kind(s) == "string" and kind(sub) == "string" and sub in s


def fn_length(value: Any) -> int:
    k = kind(value)
    if k == "string":
        return len(value.encode("utf-8"))
    if k == "list":
        return len(value)
    if k == "null":
        return 0
    raise FQLError(f"length() is not defined for {k}")


def _string_fn(name: str, op: Callable[[str], str]) -> Callable[[Any], Any]:
    def fn(value: Any) -> Any:
        k = kind(value)
        if k == "null":
            return None
        if k != "string":
            raise FQLError(f"{name}() expects a string, got {k}")
        return op(value)

    return fn


def _titlecase(s: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in s.split(" "))


fn_lowercase = _string_fn("lowercase", str.lower)
fn_uppercase = _string_fn("uppercase", str.upper)
fn_snakecase = _string_fn("snakecase", lambda s: s.replace(" ", "_"))
fn_kebabcase = _string_fn("kebabcase", lambda s: s.replace(" ", "-"))
fn_titlecase = _string_fn("titlecase", _titlecase)


def fn_typeof(value: Any) -> str:
    return kind(value)


def fn_match(s: Any, pattern: Any) -> bool:
    if kind(s) != "string":
        return False
    if kind(pattern) != "string":
        raise FQLError(f"match() expects a string pattern, got {kind(pattern)}")
    return compile_glob(pattern)(s)


def fn_bool(value: Any) -> bool:
    """Truthiness: null, false, 0, '' and [] are false; objects are an error."""
    k = kind(value)
    if k == "object" or k == "unknown":
        raise FQLError(f"bool() is not defined for {k}")
    return bool(value)


def _format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def fn_string(value: Any) -> str:
    """Strings are returned as is; numbers print plainly; everything else as compact JSON."""
    k = kind(value)
    if k == "string":
        return str(value)
    if k == "number":
        return _format_number(value)
    if k == "unknown":
        raise FQLError("string() is not defined for this value")
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def fn_number(value: Any) -> int | float:
    k = kind(value)
    if k == "number":
        number: int | float = value
        return number
    if k != "string":
        raise FQLError(f"number() expects a number or string, got {k}")
    text = value.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        result = float(text)
    except ValueError:
        raise FQLError(f"number() cannot convert {value!r}") from None
    if not math.isfinite(result):
        raise FQLError(f"number() cannot convert {value!r}")
    return result


# name -> (argument count, implementation)
FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "contains": (2, fn_contains),
    "length": (1, fn_length),
    "lowercase": (1, fn_lowercase),
    "uppercase": (1, fn_uppercase),
    "snakecase": (1, fn_snakecase),
    "kebabcase": (1, fn_kebabcase),
    "titlecase": (1, fn_titlecase),
    "typeof": (1, fn_typeof),
    "match": (2, fn_match),
    "bool": (1, fn_bool),
    "string": (1, fn_string),
    "number": (1, fn_number),
}
