"""Helpers of the engage.definitions tests."""

from __future__ import annotations

from typing import Any

import jsonschema

from engage.definitions import openapi_components


def openapi_validator(prefix: str, schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A validator reading the OpenAPI 3.0 components as the API's clients (and
    Schemathesis) do."""
    from schemathesis.specs.openapi.converter import to_json_schema

    components = {
        name: to_json_schema(
            part, nullable_keyword="nullable", upgrade_legacy_exclusive_bounds=True
        )
        for name, part in openapi_components(prefix, schema).items()
    }
    root = {"components": {"schemas": components}, "$ref": f"#/components/schemas/{prefix}"}
    return jsonschema.Draft7Validator(root)
