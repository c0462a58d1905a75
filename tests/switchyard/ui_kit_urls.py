"""The project's URLs plus two pages built on the UI kit alone, to test the kit."""

from django.db import models
from django.http import HttpResponse
from django.urls import path

from connections.models import Source
from switchyard import errors
from switchyard.ui import Lookup, UIRequest, workspace_view
from switchyard.urls import handler403, handler404
from switchyard.urls import urlpatterns as project_urlpatterns
from workspace.models import Workspace

__all__ = ["handler403", "handler404", "urlpatterns"]


def _source_in(workspace: Workspace, source: str) -> models.QuerySet[Source]:
    return Source.objects.filter(workspace=workspace, slug=source)


@workspace_view(
    Lookup(arg="source", url_kwargs=("source",), find=_source_in),
    post="change",
    refusal="Kit refusal.",
)
def source_page(request: UIRequest, workspace: Workspace, source: Source) -> HttpResponse:
    return HttpResponse(f"{request.principal.user}|{workspace.slug}|{source.slug}|{request.method}")


@workspace_view()
def refusing_page(request: UIRequest, workspace: Workspace) -> HttpResponse:
    raise errors.PermissionDenied("the service said no")


urlpatterns = [
    path("workspaces/<slug:slug>/kit/<slug:source>/", source_page),
    path("workspaces/<slug:slug>/kit-refuses/", refusing_page),
    *project_urlpatterns,
]
