"""Decorators for UI views: who is asking, which workspace, which object.

``@workspace_view(...)`` answers, before the view runs, what every page inside a
workspace asks: is someone signed in (else the sign-in page), may they see the
workspace and the page's object (else 404, never revealing what exists), and may
they do what the request asks (else 403). It asks the authorization module the
way the API kit does, so a page and its API resource refuse the same people.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django_htmx.middleware import HtmxDetails

from switchyard import access, errors, tenancy
from switchyard.access import Action, Principal

M = TypeVar("M", bound=models.Model)
View = Callable[..., HttpResponseBase]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UIRequest(HttpRequest):
    """A request as the kit's views see it: ``principal`` set by the kit,
    ``htmx`` by django-htmx's middleware."""

    htmx: HtmxDetails
    principal: Principal


@dataclass(frozen=True)
class Lookup:
    """How a page finds its object in the workspace from its URL arguments.

    ``find(workspace, **url_arguments)`` returns the candidates (normally one row);
    the kit keeps only what the principal may see, and hands the object to the
    view as ``arg`` in place of the ``url_kwargs`` it was found by. ``refusal`` is
    the 403 page's message when the principal may see the object but not act.
    """

    arg: str
    url_kwargs: tuple[str, ...]
    find: Callable[..., models.QuerySet[Any]]
    refusal: str = ""


def get_object(
    principal: Principal, queryset: models.QuerySet[M], action: Action = "view", refusal: str = ""
) -> M:
    """The object of ``queryset`` if the principal may see it and ``action`` it.

    NotFound when it may not see it (or there is none), PermissionDenied (with
    ``refusal`` when given) when it may see it but not act on it: the API's answers.
    """
    found = access.restrict(queryset, principal, "view").first()
    if found is None:
        raise errors.NotFound(f"{queryset.model._meta.verbose_name} not found")
    _require(principal, action, found, refusal)
    return found


def _require(principal: Principal, action: Action, obj: models.Model, refusal: str) -> None:
    if action == "view":
        return  # seen already: restrict() found it
    try:
        access.require(principal, action, obj)
    except errors.PermissionDenied as exc:
        if refusal and not isinstance(exc, errors.InsufficientScope):
            raise errors.PermissionDenied(refusal) from exc
        raise


def refuse(exc: errors.SwitchyardError) -> None:
    """Re-raise a refusal as the 403 or 404 page; other errors are the caller's to show
    (for views that catch every service error to put the rest on a form)."""
    if isinstance(exc, errors.PermissionDenied):
        raise PermissionDenied(exc.message) from exc
    if isinstance(exc, errors.NotFound):
        raise Http404(exc.message) from exc


def signed_in_view(view: View) -> View:
    """A page for a signed-in user: ``request.principal`` is set, and a refusal the view
    lets through (``switchyard.errors`` NotFound or PermissionDenied) is the 404 or
    403 page rather than a server error."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        request.principal = Principal(request.user)  # type: ignore[attr-defined]
        try:
            return view(request, *args, **kwargs)
        except errors.SwitchyardError as exc:
            refuse(exc)
            raise

    return login_required(wrapper)


def workspace_view(
    lookup: Lookup | None = None,
    *,
    action: Action = "view",
    post: Action | None = None,
    refusal: str = "",
) -> Callable[[View], View]:
    """A page inside the workspace of the URL's ``slug``.

    The view receives ``workspace`` instead of ``slug`` and, with ``lookup``, the
    looked-up object instead of the URL arguments that name it. The principal must
    be allowed ``action`` on the page's subject (the object, or the workspace when
    there is none), ``post`` for any other method than GET (default: ``action``);
    ``refusal`` is the 403 page's message.
    """

    def decorate(view: View) -> View:
        @signed_in_view
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, slug: str, **kwargs: Any) -> HttpResponseBase:
            principal: Principal = request.principal  # type: ignore[attr-defined]
            needed = action if request.method in _SAFE_METHODS else (post or action)
            workspace = tenancy.visible_workspace(principal, slug)
            # The error pages show the workspace's navigation.
            request.workspace = workspace  # type: ignore[attr-defined]
            if lookup is None:
                _require(principal, needed, workspace, refusal)
            else:
                named = {name: kwargs.pop(name) for name in lookup.url_kwargs}
                queryset = lookup.find(workspace, **named)
                kwargs[lookup.arg] = get_object(
                    principal, queryset, needed, refusal or lookup.refusal
                )
            return view(request, *args, workspace=workspace, **kwargs)

        return wrapper

    return decorate
