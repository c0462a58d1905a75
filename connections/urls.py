from django.urls import path

from connections.views import sources

app_name = "connections"

urlpatterns = [
    path("workspaces/<slug:slug>/sources/", sources.source_list, name="sources"),
    path("workspaces/<slug:slug>/sources/<slug:source>/", sources.source_detail, name="source"),
]
