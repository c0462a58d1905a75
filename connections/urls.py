from django.urls import include, path

from connections.views import catalog, debugger, destinations, filters, mappings, sources

app_name = "connections"

urlpatterns = [
    path("workspaces/<slug:slug>/connections/", sources.overview, name="overview"),
    path("workspaces/<slug:slug>/sources/", sources.source_list, name="sources"),
    path("workspaces/<slug:slug>/sources/<slug:source>/", sources.source_detail, name="source"),
    path(
        "workspaces/<slug:slug>/sources/<slug:source>/debugger/",
        debugger.debugger,
        name="debugger",
    ),
    path(
        "workspaces/<slug:slug>/sources/<slug:source>/debugger/events/",
        debugger.debugger_events,
        name="debugger_events",
    ),
    path("workspaces/<slug:slug>/catalog/", catalog.catalog_index, name="catalog"),
    path(
        "workspaces/<slug:slug>/catalog/destinations/<slug:definition>/",
        catalog.catalog_destination,
        name="catalog_destination",
    ),
    path(
        "workspaces/<slug:slug>/catalog/sources/<slug:source_type>/",
        catalog.catalog_source,
        name="catalog_source",
    ),
    path(
        "workspaces/<slug:slug>/destinations/new/",
        destinations.add_destination,
        name="add_destination",
    ),
    path(
        "workspaces/<slug:slug>/sources/<slug:source>/destinations/new/",
        destinations.source_add_destination,
        name="source_add_destination",
    ),
    path(
        "workspaces/<slug:slug>/sources/<slug:source>/destinations/<str:destination>/",
        include(
            [
                path("", destinations.destination_detail, name="destination"),
                path("test/", destinations.destination_test, name="destination_test"),
                path(
                    "test/event/",
                    destinations.destination_test_event,
                    name="destination_test_event",
                ),
                path(
                    "send-test/", destinations.destination_send_test, name="destination_send_test"
                ),
                path("mappings/new/", mappings.mapping_editor, name="mapping_add"),
                path("mappings/new/fields/", mappings.mapping_fields, name="mapping_fields"),
                path("mappings/new/field/", mappings.mapping_field, name="mapping_field"),
                path(
                    "mappings/new/trigger/",
                    mappings.trigger_preview,
                    name="mapping_trigger_preview",
                ),
                path("mappings/<str:subscription>/", mappings.mapping_editor, name="mapping"),
                path(
                    "mappings/<str:subscription>/toggle/",
                    mappings.mapping_toggle,
                    name="mapping_toggle",
                ),
                path(
                    "mappings/<str:subscription>/delete/",
                    mappings.mapping_delete,
                    name="mapping_delete",
                ),
                path("filters/new/", filters.filter_editor, name="filter_add"),
                path("filters/new/preview/", filters.filter_preview, name="filter_preview"),
                path("filters/<str:filter>/", filters.filter_editor, name="filter"),
                path("filters/<str:filter>/toggle/", filters.filter_toggle, name="filter_toggle"),
                path("filters/<str:filter>/delete/", filters.filter_delete, name="filter_delete"),
            ]
        ),
    ),
]
