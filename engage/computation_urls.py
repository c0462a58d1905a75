"""The Audiences and Computed Traits pages under a space: list (with folders), a
folder, an overview and its actions, members, exports (included by engage/urls.py
after the builder's URLs, so ``new`` is the builder and not a key)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from engage.models import ComputationKind
from engage.views import computation_overview as overview
from engage.views import computations

SPACE = "workspaces/<slug:slug>/engage/spaces/<slug:space>/"


def _pages(collection: str, prefix: str, kind: str) -> list[Any]:
    base = f"{SPACE}{collection}/"
    one = f"{base}<str:key>/"
    extra = {"kind": kind}
    return [
        path(base, computations.computation_list, extra, name=collection),
        path(
            f"{base}folders/<int:folder>/", computations.folder_page, extra, name=f"{prefix}-folder"
        ),
        path(one, overview.overview, extra, name=prefix),
        path(f"{one}members/", overview.members, extra, name=f"{prefix}-members"),
        path(f"{one}refresh/", overview.refresh, extra, name=f"{prefix}-refresh"),
        path(f"{one}enabled/", overview.enabled, extra, name=f"{prefix}-enabled"),
        path(f"{one}delete/", overview.delete, extra, name=f"{prefix}-delete"),
        path(f"{one}clone/", overview.clone, extra, name=f"{prefix}-clone"),
        path(f"{one}exports/", overview.exports, extra, name=f"{prefix}-exports"),
        path(
            f"{one}exports/<str:export>/download/",
            overview.export_download,
            extra,
            name=f"{prefix}-export-download",
        ),
    ]


urlpatterns = [
    *_pages("audiences", "audience", ComputationKind.AUDIENCE),
    *_pages("computed-traits", "computed-trait", ComputationKind.TRAIT),
]
