from __future__ import annotations

from typing import Any

from django import template
from django.db import models

from switchyard import access
from switchyard.access import Principal

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context: dict[str, Any], action: access.Action, obj: models.Model | None = None) -> bool:
    """The authorization module, in a template:
    ``{% can "administer" workspace as can_administer %}``."""
    request = context.get("request")
    if request is None:
        return False
    return access.can(Principal(request.user), action, obj)
