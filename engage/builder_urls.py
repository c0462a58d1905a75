"""The audience and computed trait builders (create, edit, live preview), under a
space (included by engage/urls.py before the audience and trait pages, so ``new``
is the builder and not a key)."""

from django.urls import path

from engage.views import builder

SPACE = "workspaces/<slug:slug>/engage/spaces/<slug:space>/"
AUDIENCES = SPACE + "audiences/"
TRAITS = SPACE + "computed-traits/"

urlpatterns = [
    path(f"{AUDIENCES}new/", builder.audience_create, name="audience-create"),
    path(f"{AUDIENCES}new/preview/", builder.audience_preview, name="audience-preview"),
    path(f"{AUDIENCES}<str:key>/edit/", builder.audience_edit, name="audience-edit"),
    path(f"{TRAITS}new/", builder.trait_create, name="computed-trait-create"),
    path(f"{TRAITS}new/preview/", builder.trait_preview, name="computed-trait-preview"),
    path(f"{TRAITS}<str:key>/edit/", builder.trait_edit, name="computed-trait-edit"),
]
