"""The project's URLs plus one trivial view: the floor under any page's rate (bench only)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    """No database, no template: Django's request/response cycle and middleware alone."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("", include("talaan.urls")),
]
