"""Service errors on Django forms: at the field they name, else above the form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from django import forms

# How a form calls the fields a service names: exact names, or prefixes ending in
# "." ({"settings.": "s_"} puts "settings.url" on "s_url"), or a function.
FieldNames = Mapping[str, str] | Callable[[str], str | None]


class ServiceError(Protocol):
    """``switchyard.errors.SwitchyardError``, or an input error shaped like one."""

    @property
    def message(self) -> str: ...

    @property
    def field(self) -> str | None: ...


def form_field(name: str, fields: FieldNames | None = None) -> str | None:
    """The form's name for the service's field ``name`` (unchanged when not mapped)."""
    if callable(fields):
        return fields(name)
    mapping = fields or {}
    if name in mapping:
        return mapping[name]
    for prefix, target in mapping.items():
        if prefix.endswith(".") and name.startswith(prefix):
            return target + name[len(prefix) :]
    return name


def add_service_error(
    form: forms.BaseForm, exc: ServiceError, fields: FieldNames | None = None
) -> None:
    """Show ``exc`` on the form field it names (through ``fields`` when the form calls
    it differently); an error naming no field, or one the form lacks, goes above
    the form (a non-field error)."""
    target = form_field(exc.field, fields) if exc.field else None
    form.add_error(target if target in form.fields else None, exc.message)
