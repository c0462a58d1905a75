"""Read and check the catalog files; any problem is a CatalogError naming the
file, the entry and what is wrong, so a bad entry fails startup loudly.

Layout of a catalog directory::

    sources.yaml              a list of source types
    destinations/<slug>.yaml  one destination definition per file
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

import yaml

from connections import fql
from connections import mapping as mapping_kit
from switchyard.names import SLUG_RE

from .definitions import (
    DESTINATION_CATEGORIES,
    FIELD_TYPES,
    LIBRARY_TIERS,
    METHODS,
    PLATFORMS,
    SETTING_TYPES,
    SOURCE_CATEGORIES,
    ActionDef,
    DestinationDefinition,
    FieldDef,
    PresetDef,
    SettingDef,
    SourceType,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
SOURCES_FILE = "sources.yaml"
DESTINATIONS_DIR = "destinations"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogError(Exception):
    """A catalog file is missing, unreadable or holds an invalid entry."""


@dataclass(frozen=True)
class Catalog:
    source_types: tuple[SourceType, ...]
    destinations: tuple[DestinationDefinition, ...]

    @cached_property
    def _sources_by_slug(self) -> dict[str, SourceType]:
        return {s.slug: s for s in self.source_types}

    @cached_property
    def _destinations_by_slug(self) -> dict[str, DestinationDefinition]:
        return {d.slug: d for d in self.destinations}

    def source_type(self, slug: str) -> SourceType | None:
        return self._sources_by_slug.get(slug)

    def destination(self, slug: str) -> DestinationDefinition | None:
        return self._destinations_by_slug.get(slug)


# --- YAML that refuses duplicate keys ---------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    pass


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            continue  # unhashable: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _mapping_without_duplicates,
)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the catalog file: {exc}") from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: invalid YAML: {exc}") from exc


# --- one entry at a time ------------------------------------------------------------------


def _show(value: object) -> str:
    return repr(value)


class _Entry:
    """A mapping in a catalog file, read key by key; every failure names where it is."""

    def __init__(
        self,
        data: object,
        path: Path,
        where: str,
        *,
        allowed: Iterable[str],
        required: Iterable[str] = (),
    ) -> None:
        self.path = path
        self.where = where
        if not isinstance(data, dict):
            self.fail(f"must be a mapping of keys to values, got {_show(data)}")
        self.data: dict[Any, Any] = data
        allowed = set(allowed)
        unknown = sorted(str(k) for k in data if k not in allowed)
        if unknown:
            self.fail(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        missing = [k for k in required if k not in data]
        if missing:
            self.fail(f"missing required key(s) {', '.join(missing)}")

    def fail(self, problem: str, key: str | None = None) -> NoReturn:
        at = f"{key}: " if key else ""
        raise CatalogError(f"{self.path}: {self.where}: {at}{problem}")

    def text(self, key: str, *, default: str = "", nonempty: bool = False) -> str:
        value = self.data.get(key, default)
        if value is None:
            value = default
        if not isinstance(value, str):
            self.fail(f"must be a string, got {_show(value)}", key)
        if nonempty and not value.strip():
            self.fail("must not be empty", key)
        return value.strip()

    def flag(self, key: str, *, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"must be true or false, got {_show(value)}", key)
        return value

    def choice(self, key: str, allowed: Iterable[str], *, default: str | None = None) -> str:
        allowed = tuple(allowed)
        value = self.data.get(key, default)
        if value not in allowed:
            shown = ", ".join(repr(a) for a in allowed)
            self.fail(f"must be one of {shown}, got {_show(value)}", key)
        assert isinstance(value, str)
        return value

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if value is None:
            value = []
        if not isinstance(value, list):
            self.fail(f"must be a list, got {_show(value)}", key)
        return value

    def strings(self, key: str, *, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
        values = self.items(key)
        allowed = tuple(allowed) if allowed is not None else None
        for value in values:
            if not isinstance(value, str):
                self.fail(f"must be a list of strings, got {_show(value)}", key)
            if allowed is not None and value not in allowed:
                self.fail(f"unknown value {value!r}; one of: {', '.join(allowed)}", key)
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            self.fail(f"duplicate value(s) {', '.join(duplicates)}", key)
        return tuple(values)

    def key(self, name: str) -> str:
        value = self.text(name, nonempty=True)
        if not KEY_RE.match(value):
            self.fail(
                f"{value!r} is not a valid key: lowercase letters, digits and underscores, "
                "starting with a letter",
                name,
            )
        return value


def _unique(entry: _Entry, what: str, names: list[str]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        entry.fail(f"duplicate {what} {', '.join(repr(d) for d in duplicates)}")


def _check_trigger(entry: _Entry, key: str, trigger: str) -> None:
    try:
        fql.compile(trigger)
    except fql.FQLError as exc:
        entry.fail(f"{trigger!r} is not valid FQL: {exc}", key)


# --- source types -------------------------------------------------------------------------


def _source_type(data: object, path: Path, index: int) -> SourceType:
    slug = data.get("slug") if isinstance(data, dict) else None
    label = f"source type {slug!r}" if isinstance(slug, str) else f"source type #{index + 1}"
    entry = _Entry(
        data,
        path,
        label,
        allowed=("slug", "name", "category", "description", "library_tier"),
        required=("slug", "name", "category", "description"),
    )
    slug = entry.text("slug", nonempty=True)
    if not SLUG_RE.match(slug):
        entry.fail(f"{slug!r} is not a valid slug", "slug")
    return SourceType(
        slug=slug,
        name=entry.text("name", nonempty=True),
        category=entry.choice("category", SOURCE_CATEGORIES),
        description=entry.text("description", nonempty=True),
        library_tier=entry.choice("library_tier", LIBRARY_TIERS, default=""),
    )


def _source_types(path: Path) -> tuple[SourceType, ...]:
    data = _read_yaml(path)
    if data is None:
        data = []
    if not isinstance(data, list):
        raise CatalogError(f"{path}: must be a list of source types, got {_show(data)}")
    found = [_source_type(item, path, i) for i, item in enumerate(data)]
    slugs = [s.slug for s in found]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise CatalogError(f"{path}: duplicate source type slug(s) {', '.join(duplicates)}")
    return tuple(sorted(found, key=lambda s: (s.name.casefold(), s.slug)))


# --- destinations -------------------------------------------------------------------------


def _setting(data: object, path: Path, where: str, index: int) -> SettingDef:
    name = data.get("name") if isinstance(data, dict) else None
    where = (
        f"{where} > setting {name!r}" if isinstance(name, str) else f"{where} > setting #{index}"
    )
    entry = _Entry(
        data,
        path,
        where,
        allowed=(
            "name",
            "label",
            "type",
            "required",
            "default",
            "secret",
            "description",
            "choices",
        ),
        required=("name", "label", "type"),
    )
    type_ = entry.choice("type", SETTING_TYPES)
    choices = entry.strings("choices")
    if type_ == "select" and not choices:
        entry.fail("a select setting needs choices", "choices")
    if type_ != "select" and choices:
        entry.fail(f"only select settings have choices, not {type_} ones", "choices")
    setting = SettingDef(
        name=entry.key("name"),
        label=entry.text("label", nonempty=True),
        type=type_,
        required=entry.flag("required"),
        default=entry.data.get("default"),
        secret=entry.flag("secret"),
        description=entry.text("description"),
        choices=choices,
    )
    if setting.default is not None:
        if setting.is_secret:
            entry.fail("a secret setting cannot have a default", "default")
        problem = setting.type_problem(setting.default)
        if problem:
            entry.fail(f"the default {problem}, got {_show(setting.default)}", "default")
    return setting


def _field(data: object, path: Path, where: str, index: int) -> FieldDef:
    key = data.get("key") if isinstance(data, dict) else None
    where = f"{where} > field {key!r}" if isinstance(key, str) else f"{where} > field #{index}"
    entry = _Entry(
        data,
        path,
        where,
        allowed=(
            "key",
            "label",
            "type",
            "required",
            "multiple",
            "default",
            "description",
            "choices",
        ),
        required=("key", "label", "type"),
    )
    type_ = entry.choice("type", FIELD_TYPES)
    choices = entry.strings("choices")
    if choices and type_ != "STRING":
        entry.fail(f"only STRING fields have choices, not {type_} ones", "choices")
    spec = FieldDef(
        key=entry.key("key"),
        label=entry.text("label", nonempty=True),
        type=type_,
        required=entry.flag("required"),
        multiple=entry.flag("multiple"),
        default=entry.data.get("default"),
        description=entry.text("description"),
        choices=choices,
    )
    if spec.default is not None:
        problems = spec.value_problems(spec.default)
        if problems:
            entry.fail("; ".join(problems), "default")
    return spec


def _action(data: object, path: Path, where: str, index: int) -> ActionDef:
    key = data.get("key") if isinstance(data, dict) else None
    where = f"{where} > action {key!r}" if isinstance(key, str) else f"{where} > action #{index}"
    entry = _Entry(
        data,
        path,
        where,
        allowed=(
            "key",
            "name",
            "description",
            "platform",
            "default_trigger",
            "fields",
            "batching",
        ),
        required=("key", "name", "description", "fields"),
    )
    trigger = entry.text("default_trigger")
    if trigger:
        _check_trigger(entry, "default_trigger", trigger)
    fields = tuple(_field(f, path, where, i + 1) for i, f in enumerate(entry.items("fields")))
    _unique(entry, "field key(s)", [f.key for f in fields])
    return ActionDef(
        key=entry.key("key"),
        name=entry.text("name", nonempty=True),
        description=entry.text("description", nonempty=True),
        platform=entry.choice("platform", PLATFORMS, default="cloud"),
        default_trigger=trigger,
        fields=fields,
        batching=entry.flag("batching"),
    )


def _preset(
    data: object, path: Path, where: str, index: int, actions: dict[str, ActionDef]
) -> PresetDef:
    name = data.get("name") if isinstance(data, dict) else None
    where = f"{where} > preset {name!r}" if isinstance(name, str) else f"{where} > preset #{index}"
    entry = _Entry(
        data,
        path,
        where,
        allowed=("name", "action", "trigger", "mapping"),
        required=("name", "action", "trigger"),
    )
    action_key = entry.text("action", nonempty=True)
    action = actions.get(action_key)
    if action is None:
        entry.fail(
            f"unknown action {action_key!r}; the destination has {', '.join(sorted(actions))}",
            "action",
        )
    trigger = entry.text("trigger", nonempty=True)
    _check_trigger(entry, "trigger", trigger)
    given = "mapping" in entry.data
    mapping = entry.data["mapping"] if given else action.default_mapping()
    if given:
        kit_problems = mapping_kit.validate(mapping)
        if kit_problems:
            entry.fail("; ".join(str(p) for p in kit_problems), "mapping")
    problems = action.validate_mapping(mapping)
    if problems:
        source = "" if given else f" (the default mapping of action {action.key!r})"
        entry.fail("; ".join(problems) + source, "mapping")
    return PresetDef(
        name=entry.text("name", nonempty=True), action=action_key, trigger=trigger, mapping=mapping
    )


def _destination(path: Path) -> DestinationDefinition:
    data = _read_yaml(path)
    slug = data.get("slug") if isinstance(data, dict) else None
    where = f"destination {slug!r}" if isinstance(slug, str) else "destination"
    entry = _Entry(
        data,
        path,
        where,
        allowed=(
            "slug",
            "name",
            "description",
            "categories",
            "website",
            "methods",
            "settings",
            "actions",
            "presets",
        ),
        required=("slug", "name", "description", "categories", "methods", "actions"),
    )
    slug = entry.text("slug", nonempty=True)
    if not SLUG_RE.match(slug):
        entry.fail(f"{slug!r} is not a valid slug", "slug")
    if path.stem != slug:
        entry.fail(f"the file must be named {slug}.yaml after the slug", "slug")
    website = entry.text("website")
    if website and not website.startswith(("https://", "http://")):
        entry.fail(f"must be an http(s) URL, got {website!r}", "website")
    categories = entry.strings("categories", allowed=DESTINATION_CATEGORIES)
    if not categories:
        entry.fail("needs at least one category", "categories")
    methods = entry.strings("methods", allowed=METHODS)
    if not methods:
        entry.fail("needs at least one method", "methods")
    settings = tuple(_setting(s, path, where, i + 1) for i, s in enumerate(entry.items("settings")))
    _unique(entry, "setting name(s)", [s.name for s in settings])
    actions = tuple(_action(a, path, where, i + 1) for i, a in enumerate(entry.items("actions")))
    if not actions:
        entry.fail("needs at least one action: delivery runs actions only", "actions")
    _unique(entry, "action key(s)", [a.key for a in actions])
    by_key = {a.key: a for a in actions}
    presets = tuple(
        _preset(p, path, where, i + 1, by_key) for i, p in enumerate(entry.items("presets"))
    )
    _unique(entry, "preset name(s)", [p.name for p in presets])
    return DestinationDefinition(
        slug=slug,
        name=entry.text("name", nonempty=True),
        description=entry.text("description", nonempty=True),
        categories=categories,
        website=website,
        settings=settings,
        actions=actions,
        presets=presets,
        methods=methods,
    )


def _destinations(directory: Path) -> tuple[DestinationDefinition, ...]:
    found = [_destination(path) for path in sorted(directory.glob("*.yaml"))]
    strays = sorted(p.name for p in directory.iterdir() if p.suffix in (".yml", ".json"))
    if strays:
        raise CatalogError(f"{directory}: catalog files end in .yaml: rename {', '.join(strays)}")
    return tuple(sorted(found, key=lambda d: (d.name.casefold(), d.slug)))


def load(directory: Path | str | None = None) -> Catalog:
    """Read and check the catalog under ``directory`` (default: the shipped one)."""
    root = Path(directory) if directory is not None else DATA_DIR
    sources = root / SOURCES_FILE
    destinations = root / DESTINATIONS_DIR
    if not sources.is_file():
        raise CatalogError(f"{sources}: the source type catalog file is missing")
    if not destinations.is_dir():
        raise CatalogError(f"{destinations}: the destination catalog directory is missing")
    return Catalog(source_types=_source_types(sources), destinations=_destinations(destinations))
