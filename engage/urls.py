from django.urls import path  # noqa: F401

from engage import (
    builder_urls,
    computation_destination_urls,
    computation_urls,
    explorer_urls,
    identity_urls,
    space_urls,
)

app_name = "engage"

urlpatterns: list[object] = [
    *builder_urls.urlpatterns,  # before the audience/trait pages: "new" is not a key
    *computation_urls.urlpatterns,
    *space_urls.urlpatterns,
    *explorer_urls.urlpatterns,
    *identity_urls.urlpatterns,
    *computation_destination_urls.urlpatterns,
]
