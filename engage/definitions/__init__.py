"""Audience and computed trait definitions without Django: their JSON shapes
(and JSON Schemas), validation with precise errors, references and cycles, the
real-time / batch classification, keys, and the text query language."""

from engage.definitions.audiences import (
    BATCH,
    CYCLE_MESSAGE,
    MAX_PREDICATES,
    REALTIME,
    Classification,
    ComputeMode,
    References,
    check_audience,
    classify,
    cycle_errors,
    predicates,
    references,
    validate_audience,
    walk,
)
from engage.definitions.errors import DefinitionError
from engage.definitions.keys import KEY_MAX, key_error, key_from_name
from engage.definitions.schema import AUDIENCE_SCHEMA, TRAIT_SCHEMA, openapi_components
from engage.definitions.text import (
    QuerySyntaxError,
    TextError,
    canonical,
    check_text,
    check_trait_text,
    parse,
    parse_trait,
    to_text,
    trait_to_text,
)
from engage.definitions.traits import MIN_FREQUENCY, classify_trait, min_frequency, validate_trait

__all__ = [
    "AUDIENCE_SCHEMA",
    "BATCH",
    "CYCLE_MESSAGE",
    "KEY_MAX",
    "MAX_PREDICATES",
    "MIN_FREQUENCY",
    "REALTIME",
    "TRAIT_SCHEMA",
    "Classification",
    "ComputeMode",
    "DefinitionError",
    "QuerySyntaxError",
    "References",
    "TextError",
    "canonical",
    "check_audience",
    "check_text",
    "check_trait_text",
    "classify",
    "classify_trait",
    "cycle_errors",
    "key_error",
    "key_from_name",
    "min_frequency",
    "openapi_components",
    "parse",
    "parse_trait",
    "predicates",
    "references",
    "to_text",
    "trait_to_text",
    "validate_audience",
    "validate_trait",
    "walk",
]
