"""JSON types as the document states them.

DRF coerces: a CharField takes 0 as "0", a BooleanField takes "true" and 1, an
IntegerField takes "5". The OpenAPI document says string, boolean, integer, and a
client reading it must get an invalid argument for anything else, not a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from switchyard.errors import InvalidArgument


def check_types(serializer: serializers.Serializer, data: Mapping[str, Any]) -> None:
    """Raise InvalidArgument naming the first field of ``data`` whose JSON type is not
    the one ``serializer`` documents (nested serializers and list items included)."""
    for name, field in serializer.fields.items():
        if not field.read_only and name in data:
            _check(field, data[name], name)


def _check(field: serializers.Field, value: Any, path: str) -> None:
    if value is None:
        return  # null is the field's own question (allow_null)
    expected = _expected(field)
    if expected and not _is(value, expected):
        raise InvalidArgument(f"{path}: must be {expected}", field=path)
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        for i, item in enumerate(value):
            _check(field.child, item, f"{path}[{i}]")
    elif isinstance(field, serializers.Serializer) and isinstance(value, Mapping):
        for name, child in field.fields.items():
            if not child.read_only and name in value:
                _check(child, value[name], f"{path}.{name}")


def _expected(field: serializers.Field) -> str:
    if isinstance(field, serializers.CharField):
        return "a string"
    if isinstance(field, serializers.BooleanField):
        return "a boolean"
    if isinstance(field, serializers.IntegerField):
        return "an integer"
    if isinstance(field, serializers.FloatField):
        return "a number"
    return ""


def _is(value: Any, expected: str) -> bool:
    if expected == "a string":
        return isinstance(value, str)
    if expected == "a boolean":
        return isinstance(value, bool)
    if expected == "an integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool)
