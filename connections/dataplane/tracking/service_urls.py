"""The URLconf of the tracking-only entry point (switchyard.tracking_settings): the
Tracking API and a health check, nothing of the admin UI or the Config API."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from connections.dataplane.tracking.views import health


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    # The site's 404 page links into the admin UI, which this server does not route.
    message = f"no route {request.path}"
    return JsonResponse(
        {"success": False, "error": message, "code": "not_found", "message": message}, status=404
    )


handler404 = not_found

urlpatterns = [
    path("healthz", health, name="healthz"),
    path("", include("connections.dataplane.tracking.urls")),
]
