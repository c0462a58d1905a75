from __future__ import annotations

from django import template

from switchyard.ui import nav

register = template.Library()


@register.simple_tag
def app_nav() -> tuple[nav.NavSection, ...]:
    """The sidebar sections apps registered (switchyard.ui.nav)."""
    return nav.sections()
