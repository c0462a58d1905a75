from django.urls import path  # noqa: F401

from engage import explorer_urls, identity_urls, space_urls

app_name = "engage"

urlpatterns: list[object] = [
    *space_urls.urlpatterns,
    *explorer_urls.urlpatterns,
    *identity_urls.urlpatterns,
]
