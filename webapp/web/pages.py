"""Rendering answers: whole pages, partials for htmx, and error pages."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, render_template

from .auth import is_htmx


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A rendered template with `status`; personal pages are never stored by caches."""
    response = current_app.response_class(render_template(template, **context), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(status: int, title: str, message: str) -> Response:
    """An error as a page, or for htmx as an alert swapped into the page's message area."""
    if is_htmx():
        response = page("_alert.html", status, title=title, message=message)
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return page("error.html", status, title=title, message=message, status_code=status)
