"""Show stored JSON as JSON (not Python's repr of it): ``true``/``null``, double quotes."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON text; the template escapes it like any other string."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def compact_json(value: Any) -> str:
    """One-line JSON, for a cell or a summary."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
