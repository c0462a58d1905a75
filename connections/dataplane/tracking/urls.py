"""Tracking API routes: Segment's paths, the short ones analytics.js uses
(``/v1/t`` for track, ``/v1/b`` for its batching mode...) and ``/v1/import``,
an alias of batch."""

from django.urls import path

from connections.dataplane.tracking import views

app_name = "tracking"

urlpatterns = [
    path("v1/identify", views.identify, name="identify"),
    path("v1/track", views.track, name="track"),
    path("v1/page", views.page, name="page"),
    path("v1/screen", views.screen, name="screen"),
    path("v1/group", views.group, name="group"),
    path("v1/alias", views.alias, name="alias"),
    path("v1/batch", views.batch, name="batch"),
    path("v1/import", views.batch, name="import"),
    # analytics.js posts to the first letter of the type, and to b in batching mode.
    path("v1/i", views.identify, name="i"),
    path("v1/t", views.track, name="t"),
    path("v1/p", views.page, name="p"),
    path("v1/s", views.screen, name="s"),
    path("v1/g", views.group, name="g"),
    path("v1/a", views.alias, name="a"),
    path("v1/b", views.batch, name="b"),
    # analytics.js's settings, for a snippet whose CDN points here.
    path("v1/projects/<str:write_key>/settings", views.project_settings, name="settings"),
]
