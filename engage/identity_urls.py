"""The identity resolution settings pages under a space (included by engage/urls.py)."""

from django.urls import path

from engage.views import identity

BASE = "workspaces/<slug:slug>/engage/spaces/<slug:space>/identity/"

urlpatterns = [
    path(BASE, identity.identity, name="identity"),
    path(f"{BASE}import/", identity.import_settings, name="identity-import"),
    path(f"{BASE}identifiers/<str:type>/", identity.identifier, name="identifier"),
    path(f"{BASE}identifiers/<str:type>/remove/", identity.remove, name="identifier-remove"),
]
