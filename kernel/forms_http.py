"""Form actions whose address a browser may come back to with a GET.

A refused form is rendered again, with its errors, at the address it was posted to. The
browser then sits at that address: a reload after reading the errors elsewhere, Back from the
next page, a language switch or a copied link all GET it. Such an address answers a GET by
sending the browser to the page the form lives on, never with 405.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect

View = TypeVar("View", bound=Callable[..., HttpResponse])


def form_action(page: str, *url_kwargs: str) -> Callable[[View], View]:
    """POST runs the view; GET or HEAD goes to the page named ``page``, reversed with the
    view's URL arguments named in ``url_kwargs``; any other method is 405."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                return view(request, *args, **kwargs)
            if request.method in ("GET", "HEAD"):
                return redirect(page, *(kwargs[name] for name in url_kwargs))
            return HttpResponseNotAllowed(["POST"])

        return wrapper  # type: ignore[return-value]

    return decorate
