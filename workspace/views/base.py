from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from switchyard import access
from switchyard.access import Principal
from switchyard.errors import SwitchyardError
from workspace.models import Workspace
from workspace.selectors import workspace_for


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


def administered_workspace(
    request: HttpRequest, slug: str, refusal: str
) -> tuple[Principal, Workspace]:
    """The workspace of an owner-only page: 404 if the user cannot see it, 403 with
    ``refusal`` if they can see it but not administer it."""
    principal = Principal(request.user)
    workspace = workspace_for(principal, slug)
    if not access.can(principal, "administer", workspace):
        raise PermissionDenied(refusal)
    return principal, workspace
