"""Read and check the catalog files; any problem is a CatalogError naming the
file, the entry and what is wrong, so a bad entry fails startup loudly.

Layout of a catalog directory::

    sources.yaml              a list of source types
    destinations/<slug>.yaml  one destination definition per file

The shape of every entry is checked against its JSON Schema (``schemas.py``);
this module adds what a schema cannot say: names unique within their list, a
file named after its slug, defaults that fit their setting or field, presets
naming an action of their destination with a mapping that action accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

import yaml

from connections.rules import mapping as mapping_kit

from . import schemas
from .definitions import (
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


class _Checks:
    """The checks of one file; every failure names the file and the entry."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str, key: str = "") -> NoReturn:
        at = f"{key}: " if key else ""
        raise CatalogError(f"{self.path}: {where}: {at}{problem}")

    def schema(self, name: str, document: object, where: str) -> None:
        found = schemas.problem(name, document, where)
        if found:
            raise CatalogError(f"{self.path}: {found}")

    def unique(self, where: str, what: str, names: list[str]) -> None:
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            self.fail(where, f"duplicate {what} {', '.join(repr(d) for d in duplicates)}")


def _label(kind: str, data: object, name_key: str, index: int | None = None) -> str:
    name = data.get(name_key) if isinstance(data, dict) else None
    if isinstance(name, str):
        return f"{kind} {name!r}"
    return kind if index is None else f"{kind} #{index + 1}"


def _texts(data: dict[str, Any], *keys: str) -> dict[str, str]:
    return {k: data[k].strip() for k in keys if k in data}


# --- source types -------------------------------------------------------------------------


def _source_types(path: Path) -> tuple[SourceType, ...]:
    data = _read_yaml(path)
    if data is None:
        data = []
    if not isinstance(data, list):
        raise CatalogError(f"{path}: must be a list of source types, got {data!r}")
    checks = _Checks(path)
    for i, item in enumerate(data):
        checks.schema("source", item, _label("source type", item, "slug", i))
    found = [
        SourceType(
            **_texts(item, "slug", "name", "description"),
            category=item["category"],
            library_tier=item.get("library_tier", ""),
        )
        for item in data
    ]
    slugs = [s.slug for s in found]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise CatalogError(f"{path}: duplicate source type slug(s) {', '.join(duplicates)}")
    return tuple(sorted(found, key=lambda s: (s.sort_name, s.slug)))


# --- destinations -------------------------------------------------------------------------


def _setting(checks: _Checks, where: str, data: dict[str, Any]) -> SettingDef:
    setting = SettingDef(
        **_texts(data, "name", "label", "description"),
        type=data["type"],
        required=data.get("required", False),
        default=data.get("default"),
        secret=data.get("secret", False),
        choices=tuple(data.get("choices", ())),
    )
    if setting.default is not None:
        problem = setting.type_problem(setting.default)
        if problem:
            where = f"{where} > setting {setting.name!r}"
            checks.fail(where, f"the default {problem}, got {setting.default!r}", "default")
    return setting


def _field(checks: _Checks, where: str, data: dict[str, Any]) -> FieldDef:
    spec = FieldDef(
        **_texts(data, "key", "label", "description"),
        type=data["type"],
        required=data.get("required", False),
        multiple=data.get("multiple", False),
        default=data.get("default"),
        choices=tuple(data.get("choices", ())),
    )
    if spec.default is not None:
        problems = spec.value_problems(spec.default)
        if problems:
            checks.fail(f"{where} > field {spec.key!r}", "; ".join(problems), "default")
    return spec


def _action(checks: _Checks, where: str, data: dict[str, Any]) -> ActionDef:
    where = f"{where} > action {data['key']!r}"
    fields = tuple(_field(checks, where, f) for f in data["fields"])
    checks.unique(where, "field key(s)", [f.key for f in fields])
    return ActionDef(
        **_texts(data, "key", "name", "description", "default_trigger"),
        platform=data.get("platform", "cloud"),
        fields=fields,
        batching=data.get("batching", False),
    )


def _preset(
    checks: _Checks, where: str, data: dict[str, Any], actions: dict[str, ActionDef]
) -> PresetDef:
    where = f"{where} > preset {data['name']!r}"
    action_key = data["action"].strip()
    action = actions.get(action_key)
    if action is None:
        known = ", ".join(sorted(actions))
        checks.fail(where, f"unknown action {action_key!r}; the destination has {known}", "action")
    given = "mapping" in data
    mapping = data["mapping"] if given else action.default_mapping()
    if given:
        kit_problems = mapping_kit.validate(mapping)
        if kit_problems:
            checks.fail(where, "; ".join(str(p) for p in kit_problems), "mapping")
    problems = action.validate_mapping(mapping)
    if problems:
        source = "" if given else f" (the default mapping of action {action.key!r})"
        checks.fail(where, "; ".join(problems) + source, "mapping")
    return PresetDef(**_texts(data, "name", "trigger"), action=action_key, mapping=mapping)


def _destination(path: Path) -> DestinationDefinition:
    data = _read_yaml(path)
    where = _label("destination", data, "slug")
    checks = _Checks(path)
    checks.schema("destination", data, where)
    if path.stem != data["slug"]:
        checks.fail(where, f"the file must be named {data['slug']}.yaml after the slug", "slug")
    settings = tuple(_setting(checks, where, s) for s in data.get("settings", ()))
    checks.unique(where, "setting name(s)", [s.name for s in settings])
    actions = tuple(_action(checks, where, a) for a in data["actions"])
    checks.unique(where, "action key(s)", [a.key for a in actions])
    by_key = {a.key: a for a in actions}
    presets = tuple(_preset(checks, where, p, by_key) for p in data.get("presets", ()))
    checks.unique(where, "preset name(s)", [p.name for p in presets])
    return DestinationDefinition(
        **_texts(data, "slug", "name", "description", "website"),
        categories=tuple(data["categories"]),
        methods=tuple(data["methods"]),
        settings=settings,
        actions=actions,
        presets=presets,
    )


def _destinations(directory: Path) -> tuple[DestinationDefinition, ...]:
    found = [_destination(path) for path in sorted(directory.glob("*.yaml"))]
    strays = sorted(p.name for p in directory.iterdir() if p.suffix in (".yml", ".json"))
    if strays:
        raise CatalogError(f"{directory}: catalog files end in .yaml: rename {', '.join(strays)}")
    return tuple(sorted(found, key=lambda d: (d.sort_name, d.slug)))


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
