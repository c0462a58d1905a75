"""The Profile API's routes: everything under /v1/spaces/ (the view parses the rest)."""

from django.urls import re_path

from engage.profile_api import views

urlpatterns = [re_path(r"^v1/spaces/(?P<rest>.*)$", views.profile_api, name="profile-api")]
