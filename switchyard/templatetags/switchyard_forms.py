"""Render a form field as the Bootstrap control its widget calls for.

Django renders the widget itself (a checkbox with its checked state, a select with
its choices and groups, a textarea, maxlength and required from the field), so
_form_fields.html never redraws a control by hand and gets one wrong.
"""

from __future__ import annotations

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()

CONTROL_CLASS = {"checkbox": "form-check-input", "select": "form-select"}


@register.filter
def control(field: forms.BoundField) -> SafeString:
    css = CONTROL_CLASS.get(field.widget_type, "form-control")
    existing = field.field.widget.attrs.get("class", "")
    if css not in existing.split():
        css = f"{existing} {css}".strip()
    attrs: dict[str, str | bool] = {"class": f"{css} is-invalid" if field.errors else css}
    if field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_help"
    return field.as_widget(attrs=attrs)
