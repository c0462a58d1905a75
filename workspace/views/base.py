from __future__ import annotations

from django import forms
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from switchyard.errors import SwitchyardError


class HtmxHttpRequest(HttpRequest):
    """The request type of views that answer htmx (django-htmx sets ``request.htmx``)."""

    htmx: HtmxDetails


def attach_error(
    form: forms.Form, exc: SwitchyardError, field_names: dict[str, str] | None = None
) -> None:
    """Show a service's error on the form field it names (services name API fields;
    ``field_names`` maps those a form calls differently), else above the form."""
    field = (field_names or {}).get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)
