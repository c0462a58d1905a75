"""Routes outside the app's namespace: the Tracking API, at Segment's paths (/v1/...)."""

from django.urls import include, path

urlpatterns = [path("", include("connections.dataplane.tracking.urls"))]
