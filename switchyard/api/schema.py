"""How the API kit's viewsets are documented: the document says what the server does.

Every resource gets, without annotations of its own:

- Create answering 200 (Segment's Config API does; drf-spectacular would say 201)
  and a request body wrapped in the resource key (``{"source": {...}}``);
- Update's real body: ``{"<resource>": {...}, "update_mask": {"paths": [...]}}``,
  the mask also accepted inside the resource (once, in one place), its paths
  limited to the fields the mask may name; no mask changes nothing;
- Delete answering 200 with ``{}``;
- the error envelope for every status the kit answers (400, 401, 403, 404, 409,
  413, 429), so a client and a contract test know each is expected;
- ``additionalProperties: false`` where the server refuses unknown top-level
  fields (the wrapped bodies), and nowhere else.

A serializer declares a string field's pattern with ``PatternCharField`` (resource
names and slugs: the server's rules in ``switchyard.names``).
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

ERROR_COMPONENT = "Error"
_ERROR_SCHEMA = {
    "type": "object",
    "description": "The error envelope of every Config API error.",
    "properties": {
        "error": {"type": "string", "description": "what went wrong, for people"},
        "code": {
            "type": "integer",
            "description": "the Config API code: 3 invalid argument, 5 not found, 6 already "
            "exists, 7 permission denied, 8 resource exhausted, 9 failed precondition, "
            "16 unauthenticated",
        },
    },
    "required": ["error", "code"],
}
_ERROR_DESCRIPTIONS = {
    "400": "Invalid argument (code 3) or failed precondition (code 9)",
    "401": "Missing, invalid or revoked access token (code 16)",
    "403": "Permission denied or insufficient token scope (code 7)",
    "404": "Not found, or not visible to the caller (code 5)",
    "409": "Already exists (code 6)",
    "413": "Request body too large (code 3)",
    "429": "Rate limit exceeded (code 8); Retry-After says when to retry",
}
_NOTHING: dict[str, Any] = {"not": {}}  # OpenAPI 3.0's spelling of a schema nothing matches


class PatternCharField(serializers.CharField):
    """A CharField whose ``pattern`` the document declares: the rule that the field's
    validation or the service checks (resource names, slugs), so that clients and
    contract tests know which strings the server takes. The check itself stays where
    it is, with its own message."""

    def __init__(self, *, pattern: str, **kwargs: Any) -> None:
        self.documented_pattern = pattern
        super().__init__(**kwargs)


def _title(key: str) -> str:
    return "".join(part.title() for part in re.split(r"[_-]", key))


class ResourceSchema(AutoSchema):
    def _is_create_operation(self) -> bool:
        return False

    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, PatternCharField):
            schema["pattern"] = field.documented_pattern
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        if isinstance(field, PatternCharField) and "oneOf" in schema:
            # The pattern excludes "" too, even where the field lets a blank through
            # to the service (for the service's message naming the rule).
            schema.update(schema.pop("oneOf")[0])

    def get_request_serializer(self) -> Any:
        if getattr(self.view, "action", None) == "create":
            create = getattr(self.view, "create_serializer_class", None)
            key = getattr(self.view, "resource_key", None)
            if create is not None and key:
                return inline_serializer(f"Create{_title(key)}", {key: create()})
        return super().get_request_serializer()

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        action = getattr(self.view, "action", None)
        if action == "partial_update" and hasattr(self.view, "resource_key"):
            self._document_update_body(operation)
        if self.method == "DELETE":
            responses = operation.setdefault("responses", {})
            for code in ("200", "204"):
                if "content" not in responses.get(code, {"content": None}):
                    responses.pop(code, None)
            responses.setdefault(
                "200",
                {
                    "description": "Deleted: an empty object",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
            )
        self._document_wrapped_create(operation)
        self._document_errors(operation)
        return operation

    # -- request bodies --------------------------------------------------------------
    def _body_schema(self, operation: dict[str, Any]) -> dict[str, Any] | None:
        content = operation.get("requestBody", {}).get("content", {})
        media = content.get("application/json")
        return media.get("schema") if media else None

    def _document_wrapped_create(self, operation: dict[str, Any]) -> None:
        """A Create body holds the resource key and nothing else (the server refuses
        other top-level fields)."""
        if getattr(self.view, "action", None) != "create":
            return
        key = getattr(self.view, "resource_key", None)
        ref = self._body_schema(operation)
        if not key or not ref or "$ref" not in ref:
            return
        component = self.registry._components.get((ref["$ref"].rsplit("/", 1)[1], "schemas"))
        if component is None or set(component.schema.get("properties", {})) != {key}:
            return
        component.schema["additionalProperties"] = False
        component.schema["required"] = [key]

    def _document_update_body(self, operation: dict[str, Any]) -> None:
        key: str = getattr(self.view, "resource_key")  # noqa: B009 (not an APIView attribute)
        resource = self._body_schema(operation)
        if resource is None:
            return
        if "$ref" in resource:  # an app's own wrapped body: take its resource part
            name = resource["$ref"].rsplit("/", 1)[1]
            component = self.registry._components.get((name, "schemas"))
            props = component.schema.get("properties", {}) if component else {}
            if key in props:
                resource = props[key]
        mask = self._mask_schema(key)
        schema = {
            "description": "Only the paths in update_mask change: a named path without a "
            "value is cleared; data without a path changes nothing, and so does a request "
            f"without a mask. The mask sits beside {key!r} or inside it, once.",
            "anyOf": [
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        key: {"allOf": [resource, {"properties": {"update_mask": _NOTHING}}]},
                        "update_mask": mask,
                    },
                },
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [key],
                    "properties": {
                        key: {
                            "allOf": [
                                resource,
                                {
                                    "type": "object",
                                    "required": ["update_mask"],
                                    "properties": {"update_mask": mask},
                                },
                            ]
                        }
                    },
                },
            ],
        }
        component_name = f"Update{_title(key)}Request"
        component = ResolvedComponent(
            name=component_name,
            type=ResolvedComponent.SCHEMA,
            object=component_name,
            schema=schema,
        )
        self.registry.register_on_missing(component)
        operation["requestBody"] = {"content": {"application/json": {"schema": component.ref}}}

    def _mask_schema(self, key: str) -> dict[str, Any]:
        """The paths the server accepts: the resource's writable fields, and members of
        its object fields (``<key>.<field>.<member>``)."""
        fields = self._get_serializer().fields
        writable = sorted(name for name, field in fields.items() if not field.read_only)
        objects = sorted(
            name
            for name, field in fields.items()
            if not field.read_only
            and isinstance(
                field, serializers.DictField | serializers.JSONField | serializers.Serializer
            )
        )
        item: dict[str, Any] = {"type": "string", "enum": [f"{key}.{name}" for name in writable]}
        if objects:
            nested = "|".join(re.escape(name) for name in objects)
            item = {
                "anyOf": [
                    item,
                    {
                        "type": "string",
                        "pattern": rf"^{re.escape(key)}\.(?:{nested})(?:\.[^.]+)+$",
                    },
                ]
            }
        return {
            "type": "object",
            "nullable": True,
            "additionalProperties": False,
            "properties": {"paths": {"type": "array", "nullable": True, "items": item}},
        }

    # -- errors ----------------------------------------------------------------------
    def _document_errors(self, operation: dict[str, Any]) -> None:
        component = ResolvedComponent(
            name=ERROR_COMPONENT,
            type=ResolvedComponent.SCHEMA,
            object=ERROR_COMPONENT,
            schema=_ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        codes = ["400", "429"]
        if operation.get("security") and {} not in operation["security"]:
            codes += ["401", "403"]
        if any(p.get("in") == "path" for p in operation.get("parameters", [])):
            codes.append("404")
        if self.method in ("POST", "PATCH"):
            codes.append("409")
        if "requestBody" in operation:
            codes.append("413")
        responses = operation.setdefault("responses", {})
        for code in sorted(codes):
            responses.setdefault(
                code,
                {
                    "description": _ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": component.ref}},
                },
            )
