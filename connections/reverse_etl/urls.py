"""Connections > Reverse ETL pages (mounted by the project's URLconf like every app's
``urls``); the Config API is ``api/urls.py``."""

from django.urls import path

from connections.reverse_etl.views import alerts, mappings, models, sources, syncs

app_name = "reverse_etl"

RETL = "workspaces/<slug:slug>/reverse-etl/"

urlpatterns = [
    path(RETL, syncs.overview, name="overview"),
    path(RETL + "alerts/", alerts.alert_settings, name="alerts"),
    path(RETL + "sources/", sources.source_list, name="sources"),
    path(RETL + "sources/<slug:source>/", sources.source_detail, name="source"),
    path(RETL + "sources/<slug:source>/edit/", sources.source_edit, name="source_edit"),
    path(RETL + "sources/<slug:source>/models/new/", models.model_add, name="model_add"),
    # After the source's own pages: a source slugged "new" keeps its edit page.
    path(RETL + "sources/new/<slug:warehouse>/", sources.source_add, name="source_add"),
    path(RETL + "models/<slug:model>/", models.model_detail, name="model"),
    path(RETL + "models/<slug:model>/mappings/new/", mappings.mapping_add, name="mapping_add"),
    path(RETL + "mappings/<str:mapping>/", mappings.mapping_detail, name="mapping"),
    path(RETL + "mappings/<str:mapping>/alerts/", alerts.mapping_alert, name="mapping_alert"),
    path(RETL + "mappings/<str:mapping>/syncs/", syncs.sync_history, name="syncs"),
    path(RETL + "mappings/<str:mapping>/syncs/<str:sync>/", syncs.sync_detail, name="sync"),
]
