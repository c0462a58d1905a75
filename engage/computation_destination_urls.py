"""The destinations fragment of an audience's or computed trait's overview
(included by engage/urls.py)."""

from django.urls import path

from engage.views import computation_destinations

DESTINATIONS = (
    "workspaces/<slug:slug>/engage/spaces/<slug:space>/computations/<str:key>/destinations/"
)

urlpatterns = [
    path(DESTINATIONS, computation_destinations.destinations, name="computation-destinations"),
    path(
        f"{DESTINATIONS}<str:destination>/disconnect/",
        computation_destinations.disconnect,
        name="computation-destination-disconnect",
    ),
    path(
        f"{DESTINATIONS}compute-without/",
        computation_destinations.compute_without,
        name="computation-compute-without-destinations",
    ),
]
