"""Template helpers for the catalog pages."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def as_json(value: Any) -> str:
    """A mapping value or setting default as compact JSON (``{"@path": "$.userId"}``)."""
    return json.dumps(value, ensure_ascii=False)
