"""The 403 and 404 pages of the UI, inside the app's layout (``handler403``/``handler404``).

Under ``/v1beta/`` the API's middleware turns these answers into its JSON
envelope, as it does any HTML error answer there.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _page(request: HttpRequest, template: str, status: int, message: str) -> HttpResponse:
    context = {
        # Set by ``workspace_view`` once the workspace is known to be visible:
        # the page keeps that workspace's navigation.
        "workspace": getattr(request, "workspace", None),
        "message": message,
        "request_path": request.path,
    }
    return render(request, template, context, status=status)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    # The exception's text is not shown: it may name what the user may not see.
    return _page(request, "404.html", 404, "")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, "403.html", 403, str(exception))
