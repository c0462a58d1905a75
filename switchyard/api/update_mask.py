"""PATCH with an explicit field mask, as the Config API design page describes.

- Only masked paths change; data without a path changes nothing.
- A masked path with no value sets the field to its empty value.
- Nested paths (``workspace.settings.x``) address members of object fields.
- An unknown or read-only path is an error naming it; nothing is written.

The mask may sit beside the resource (``{"workspace": {...}, "update_mask": ...}``,
the Config API's request shape) or inside it (the design page's own examples).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from switchyard.errors import InvalidArgument
from switchyard.nested_edits import CLEAR, NestedEdits, edit

_MISSING = object()


def mask_paths(body: object, resource_key: str) -> tuple[dict[str, Any], list[str]]:
    """Return the resource's data and the mask's paths from a PATCH body."""
    if not isinstance(body, Mapping):
        raise InvalidArgument("the request body must be a JSON object")
    unknown_keys = set(body) - {resource_key, "update_mask"}
    if unknown_keys:
        raise InvalidArgument(
            f"unknown top-level field(s) {sorted(unknown_keys)}; "
            f"expected {resource_key!r} and 'update_mask'"
        )
    data = body.get(resource_key, {})
    if not isinstance(data, Mapping):
        raise InvalidArgument(f"{resource_key} must be a JSON object", field=resource_key)
    data = dict(data)
    outer = body.get("update_mask", _MISSING)
    inner = data.pop("update_mask", _MISSING)
    if outer is not _MISSING and inner is not _MISSING:
        raise InvalidArgument(
            f"give update_mask once, either beside {resource_key!r} or inside it",
            field="update_mask",
        )
    mask = inner if outer is _MISSING else outer
    if mask is _MISSING or mask is None:
        return data, []
    if not isinstance(mask, Mapping) or set(mask) - {"paths"}:
        raise InvalidArgument('update_mask must be an object like {"paths": [...]}')
    paths = mask.get("paths") or []
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise InvalidArgument("update_mask.paths must be a list of strings")
    return data, paths


def empty_value(field: serializers.Field) -> Any:
    """The value a masked path without data takes: "", 0, false, [] or {}."""
    if isinstance(field, serializers.BooleanField):
        return False
    if isinstance(field, serializers.IntegerField | serializers.FloatField):
        return 0
    if isinstance(field, serializers.DecimalField):
        return "0"
    if isinstance(field, serializers.ListField | serializers.ListSerializer):
        return []
    if isinstance(field, serializers.DictField | serializers.JSONField | serializers.Serializer):
        return {}
    if getattr(field, "allow_null", False) and not isinstance(field, serializers.CharField):
        return None
    return ""


def _is_object_field(field: serializers.Field) -> bool:
    return isinstance(field, serializers.DictField | serializers.JSONField | serializers.Serializer)


def build_patch(
    serializer: serializers.Serializer, body: object, resource_key: str
) -> dict[str, Any]:
    """Turn a PATCH body into the top-level fields to change, with their new values.

    ``serializer`` is bound to the current instance; its ``data`` supplies the
    current value of an object field whose member a nested path changes. Such a
    field's value is a ``NestedEdits``: that value merged with the request's, which
    also carries the edits for the service to apply again under its row lock.
    """
    data, paths = mask_paths(body, resource_key)
    fields = serializer.fields
    current = serializer.data
    patch: dict[str, Any] = {}
    prefix = f"{resource_key}."
    for path in paths:
        if not path.startswith(prefix) or path == prefix:
            raise InvalidArgument(
                f"unknown update_mask path {path!r}: paths start with {prefix!r}",
                field="update_mask.paths",
            )
        head, *rest = path[len(prefix) :].split(".")
        field = fields.get(head)
        if field is None:
            raise InvalidArgument(
                f"unknown update_mask path {path!r}: {resource_key} has no field {head!r}",
                field="update_mask.paths",
            )
        if field.read_only:
            raise InvalidArgument(
                f"update_mask path {path!r} is read-only", field="update_mask.paths"
            )
        if not rest:
            patch[head] = copy.deepcopy(data.get(head, empty_value(field)))
            continue
        if not _is_object_field(field):
            raise InvalidArgument(
                f"unknown update_mask path {path!r}: {head!r} has no nested fields",
                field="update_mask.paths",
            )
        found = _dig(data.get(head, _MISSING), rest)
        value = CLEAR if found is _MISSING else found
        target = patch.get(head, _MISSING)
        if target is _MISSING:
            target = patch[head] = NestedEdits(current.get(head), path=path)
        if isinstance(target, NestedEdits):
            target.add(rest, value, path)
        else:  # the mask also replaces the whole field: edit the new value itself
            edit(target, rest, value, path)
    return patch


def with_nested_edits(
    validated: Mapping[str, Any], patch: Mapping[str, Any], fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The serializer's validated changes, with each field changed through nested
    paths given as its edits (``switchyard.nested_edits``), so that the service
    applies them to the row it locks rather than to the value read here."""
    changes = dict(validated)
    for head, value in patch.items():
        if isinstance(value, NestedEdits) and fields[head].source in changes:
            changes[fields[head].source] = value
    return changes


def _dig(value: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return value
