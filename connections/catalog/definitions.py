"""The catalog's shapes: source types, destination definitions, their settings
schemas, actions, fields and presets. Frozen: the catalog is read-only data.

The checks that run on user input live here (``validate_settings``,
``validate_mapping``); the checks on the catalog files themselves live in
``schema/`` (their JSON Schemas) and ``loader.py``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from connections.rules import mapping as mapping_kit
from switchyard.errors import InvalidArgument

from . import schemas

# The allowed values are the JSON Schemas' (schema/*.schema.json): one list each.
SOURCE_CATEGORIES = schemas.enum("source", "/properties/category/enum")
LIBRARY_TIERS = (*schemas.enum("source", "/properties/library_tier/enum"), "")
DESTINATION_CATEGORIES = schemas.enum("destination", "/properties/categories/items/enum")
METHODS = schemas.enum("destination", "/properties/methods/items/enum")
SETTING_TYPES = schemas.enum("destination", "/$defs/setting/properties/type/enum")
FIELD_TYPES = schemas.enum("destination", "/$defs/field/properties/type/enum")
PLATFORMS = schemas.enum("destination", "/$defs/action/properties/platform/enum")


def _show(value: object) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _json_type(value: object) -> str:
    """The JSON type name of a value (secrets are described, never echoed)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


# --- source types -----------------------------------------------------------------


@dataclass(frozen=True)
class SourceType:
    slug: str
    name: str
    category: str
    description: str
    library_tier: str = ""

    @property
    def sort_name(self) -> str:
        """The catalog lists entries by name, case-insensitively."""
        return self.name.casefold()


# --- settings -----------------------------------------------------------------------


def _setting_type_problem(type_: str, value: object, choices: tuple[str, ...]) -> str | None:
    """Why ``value`` does not fit a setting of ``type_``, or None when it does."""
    if type_ in ("string", "password", "text"):
        return None if isinstance(value, str) else "must be a string"
    if type_ == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "must be a number"
    if type_ == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "must be an integer"
    if type_ == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if type_ == "select":
        if isinstance(value, str) and value in choices:
            return None
        return "must be one of " + ", ".join(repr(c) for c in choices)
    if type_ == "array":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else "must be a list of strings"
    if type_ in ("map", "text-map"):
        ok = isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
        return None if ok else "must be an object of string keys to string values"
    return f"has an unknown type {type_!r}"  # the loader refuses these


@dataclass(frozen=True)
class SettingDef:
    name: str
    label: str
    type: str
    required: bool = False
    default: Any = None
    secret: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()

    @property
    def is_secret(self) -> bool:
        return self.secret or self.type == "password"

    def describe(self) -> str:
        return f"setting {self.label!r} ({self.name})"

    def type_problem(self, value: object) -> str | None:
        return _setting_type_problem(self.type, value, self.choices)


# --- actions and their fields -------------------------------------------------------

_FIELD_TYPE_CHECKS: dict[str, tuple[str, Any]] = {
    "STRING": ("a string", lambda v: isinstance(v, str)),
    "PASSWORD": ("a string", lambda v: isinstance(v, str)),
    "TEXT": ("a string", lambda v: isinstance(v, str)),
    "DATETIME": ("a date-time string", lambda v: isinstance(v, str)),
    "INTEGER": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "NUMBER": (
        "a number",
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    ),
    "BOOLEAN": ("true or false", lambda v: isinstance(v, bool)),
    "OBJECT": ("an object", lambda v: isinstance(v, dict)),
}


def _is_directive(value: object) -> bool:
    return isinstance(value, dict) and any(isinstance(k, str) and k.startswith("@") for k in value)


@dataclass(frozen=True)
class FieldDef:
    key: str
    label: str
    type: str
    required: bool = False
    multiple: bool = False
    default: Any = None
    description: str = ""
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"field {self.label!r} ({self.key})"

    def value_problems(self, value: object) -> list[str]:
        """Why a mapping value for this field is wrong (empty when it is fine).

        A directive (``{"@path": ...}`` and the like) resolves at delivery time, so
        it is accepted for any type; literal values must fit the field's type.
        """
        problems = [
            f"{self.key}.{e.location}: {e.message}" if e.location else f"{self.key}: {e.message}"
            for e in mapping_kit.validate(value)
        ]
        if problems or _is_directive(value):
            return problems
        if self.multiple:
            if not isinstance(value, list):
                return [f"{self.describe()} must be a list, got {_show(value)}"]
            items = value
        else:
            items = [value]
        what, check = _FIELD_TYPE_CHECKS[self.type]
        for item in items:
            if _is_directive(item):
                continue
            if not check(item):
                return [f"{self.describe()} must be {what}, got {_show(item)}"]
            if self.choices and item not in self.choices:
                allowed = ", ".join(repr(c) for c in self.choices)
                return [f"{self.describe()} must be one of {allowed}, got {_show(item)}"]
        return []


@dataclass(frozen=True)
class ActionDef:
    key: str
    name: str
    description: str = ""
    platform: str = "cloud"
    default_trigger: str = ""
    fields: tuple[FieldDef, ...] = ()
    batching: bool = False

    def field(self, key: str) -> FieldDef | None:
        return next((f for f in self.fields if f.key == key), None)

    def default_mapping(self) -> dict[str, Any]:
        """``{field key: default}`` for the fields that have a default (a fresh copy)."""
        return {f.key: copy.deepcopy(f.default) for f in self.fields if f.default is not None}

    def validate_mapping(self, mapping: object) -> list[str]:
        """Every problem in a subscription's field mapping for this action, each
        naming its field; empty when the mapping is valid."""
        if not isinstance(mapping, dict):
            return [f"the mapping must be an object of field keys to values, got {_show(mapping)}"]
        problems: list[str] = []
        known = {f.key for f in self.fields}
        for key in mapping:
            if key not in known:
                problems.append(
                    f"unknown field {key!r}: action {self.name!r} has fields "
                    + ", ".join(sorted(known))
                )
        for spec in self.fields:
            if spec.key not in mapping or mapping[spec.key] is None:
                if spec.required:
                    problems.append(f"{spec.describe()} is required")
                continue
            problems += spec.value_problems(mapping[spec.key])
        return problems


@dataclass(frozen=True)
class PresetDef:
    name: str
    action: str
    trigger: str
    mapping: dict[str, Any] = field(default_factory=dict)


# --- destinations -------------------------------------------------------------------


@dataclass(frozen=True)
class DestinationDefinition:
    slug: str
    name: str
    description: str = ""
    categories: tuple[str, ...] = ()
    website: str = ""
    settings: tuple[SettingDef, ...] = ()
    actions: tuple[ActionDef, ...] = ()
    presets: tuple[PresetDef, ...] = ()
    methods: tuple[str, ...] = ()

    @property
    def sort_name(self) -> str:
        """The catalog lists entries by name, case-insensitively."""
        return self.name.casefold()

    def action(self, key: str) -> ActionDef | None:
        return next((a for a in self.actions if a.key == key), None)

    def setting(self, name: str) -> SettingDef | None:
        return next((s for s in self.settings if s.name == name), None)

    @cached_property
    def secret_settings(self) -> frozenset[str]:
        return frozenset(s.name for s in self.settings if s.is_secret)

    def validate_settings(self, values: object, *, partial: bool = False) -> dict[str, Any]:
        """The cleaned settings of an instance of this destination.

        Raises InvalidArgument naming the first bad setting (``field`` is
        ``settings.<name>``): not an object, an unknown setting, a wrong type, a
        required setting missing (null, or an empty string or password, counts as
        missing). Absent optional settings get their defaults.

        ``partial`` (an update) checks only the settings given: absent ones are
        neither required nor defaulted, and an explicit null for an optional
        setting stays in the answer as None, meaning "clear it".
        """
        if not isinstance(values, dict):
            raise InvalidArgument(
                f"settings must be an object of setting names to values, got {_show(values)}",
                field="settings",
            )
        for key in values:
            if not isinstance(key, str) or self.setting(key) is None:
                known = ", ".join(s.name for s in self.settings) or "no settings"
                raise InvalidArgument(
                    f"unknown setting {key!r}: {self.name} accepts {known}",
                    field=f"settings.{key}",
                )
        cleaned: dict[str, Any] = {}
        for spec in self.settings:
            present = spec.name in values
            value = values.get(spec.name)
            empty = value is None or (value == "" and spec.type in ("string", "password", "text"))
            if spec.required and empty and (present or not partial):
                raise InvalidArgument(
                    f"{spec.describe()} is required", field=f"settings.{spec.name}"
                )
            if value is None:
                if partial and present:
                    cleaned[spec.name] = None
                elif not partial and spec.default is not None:
                    cleaned[spec.name] = copy.deepcopy(spec.default)
                continue
            problem = spec.type_problem(value)
            if problem:
                got = f"a {_json_type(value)}" if spec.is_secret else _show(value)
                raise InvalidArgument(
                    f"{spec.describe()} {problem}, got {got}", field=f"settings.{spec.name}"
                )
            cleaned[spec.name] = copy.deepcopy(value)
        return cleaned
