"""The URLconf of the tracking-only entry point (switchyard.tracking_settings): the
Tracking API and a health check, nothing of the admin UI or the Config API."""

from django.urls import include, path

from connections.dataplane.tracking.views import health

urlpatterns = [
    path("healthz", health, name="healthz"),
    path("", include("connections.dataplane.tracking.urls")),
]
