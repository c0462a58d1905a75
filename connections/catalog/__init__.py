"""The connections catalog: source types and destination definitions, as data.

The entries live in YAML files under ``data/`` (``sources.yaml`` and one file
per destination under ``destinations/``). They are read once, on first use,
checked thoroughly, and cached; ``ConnectionsConfig.ready()`` reads them at
startup so a bad entry stops the process with a CatalogError naming the file,
the entry and the problem.

>>> from connections import catalog
>>> catalog.destination("actions-equals").action("send").default_mapping()
{'data': {'@path': '$.'}}
"""

from __future__ import annotations

import functools

from . import loader
from .definitions import (
    DESTINATION_CATEGORIES,
    FIELD_TYPES,
    METHODS,
    SETTING_TYPES,
    SOURCE_CATEGORIES,
    ActionDef,
    DestinationDefinition,
    FieldDef,
    PresetDef,
    SettingDef,
    SourceType,
)
from .loader import Catalog, CatalogError, load

__all__ = [
    "DESTINATION_CATEGORIES",
    "FIELD_TYPES",
    "METHODS",
    "SETTING_TYPES",
    "SOURCE_CATEGORIES",
    "ActionDef",
    "Catalog",
    "CatalogError",
    "DestinationDefinition",
    "FieldDef",
    "PresetDef",
    "SettingDef",
    "SourceType",
    "destination",
    "destinations",
    "load",
    "shipped",
    "source_type",
    "source_types",
]


@functools.cache
def shipped() -> Catalog:
    """The catalog shipped with the app, read and checked once."""
    return load(loader.DATA_DIR)


def source_types() -> tuple[SourceType, ...]:
    """Every source type, ordered by name."""
    return shipped().source_types


def source_type(slug: str) -> SourceType | None:
    return shipped().source_type(slug)


def destinations() -> tuple[DestinationDefinition, ...]:
    """Every destination definition, ordered by name."""
    return shipped().destinations


def destination(slug: str) -> DestinationDefinition | None:
    return shipped().destination(slug)
