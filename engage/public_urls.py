"""Routes outside the app's namespace: the Profile API, at Segment's paths (/v1/spaces/...)."""

from django.urls import include, path

urlpatterns = [path("", include("engage.profile_api.urls"))]
