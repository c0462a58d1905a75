"""How the API kit's viewsets are documented."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema


class ResourceSchema(AutoSchema):
    """Create answers 200 with the created resource, as Segment's Config API does;
    drf-spectacular would otherwise document 201 for every create action."""

    def _is_create_operation(self) -> bool:
        return False
