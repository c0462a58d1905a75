"""Engage > Spaces pages (included by engage/urls.py)."""

from django.urls import path

from engage.views import spaces

SPACES = "workspaces/<slug:slug>/engage/spaces/"
SETTINGS = SPACES + "<slug:space>/settings/"

urlpatterns = [
    path(SPACES, spaces.spaces, name="spaces"),
    path(f"{SPACES}new/", spaces.create, name="space-create"),
    path(SETTINGS, spaces.settings, name="space-settings"),
    path(f"{SETTINGS}sources/", spaces.connect_source, name="space-connect-source"),
    path(
        f"{SETTINGS}sources/<slug:source>/disconnect/",
        spaces.disconnect_source,
        name="space-disconnect-source",
    ),
    path(f"{SETTINGS}tokens/", spaces.create_token, name="space-create-token"),
    path(f"{SETTINGS}tokens/<int:pk>/revoke/", spaces.revoke_token, name="space-revoke-token"),
    path(f"{SETTINGS}delete/", spaces.delete, name="space-delete"),
    path(f"{SETTINGS}cancel-deletion/", spaces.cancel_deletion, name="space-cancel-deletion"),
]
