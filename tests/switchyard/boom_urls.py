"""The project's URLs plus views that fail, to exercise the 500 envelope."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.request import Request

from switchyard.urls import urlpatterns as project_urlpatterns


def plain_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a plain view")


@api_view(["GET"])
def api_boom(request: Request) -> HttpResponse:
    raise RuntimeError("a bug in an API view")


urlpatterns = [
    path("v1beta/boom/plain", plain_boom),
    path("v1beta/boom/api", api_boom),
    *project_urlpatterns,
]
