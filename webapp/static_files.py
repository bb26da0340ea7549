"""Static files named by their contents: every `url_for("static", ...)` carries `?v=<digest of the file>`,
and a request that names the current digest may be kept by the browser for a year without asking again.

A new deployment changes the digest of every file it changes, so no browser keeps an old one; a request with
no digest or another one (an old page, a hand-typed address) is still answered, but revalidated each time."""

from __future__ import annotations

import hashlib

from flask import Flask, Response, request
from werkzeug.security import safe_join

CACHED = "public, max-age=31536000, immutable"


def _digest_of(folder: str | None, filename: str) -> str | None:
    """The first 16 hex digits of the file's SHA-256, or None when there is no such file in `folder`."""
    path = safe_join(folder, filename) if folder else None
    if path is None:
        return None
    try:
        with open(path, "rb") as file:
            return hashlib.sha256(file.read()).hexdigest()[:16]
    except OSError:
        return None


def init_static_files(app: Flask) -> None:
    known: dict[str, str | None] = {}  # filenames named by the templates or served: a fixed few

    def digest(filename: str) -> str | None:
        if filename not in known or app.debug:  # under `flask run --debug` files change while it runs
            known[filename] = _digest_of(app.static_folder, filename)
        return known[filename]

    @app.url_defaults
    def _name_the_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            version = digest(values.get("filename", ""))
            if version is not None:
                values["v"] = version

    @app.after_request
    def _cache_a_named_version(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        version = request.args.get("v")
        if version is not None and version == digest((request.view_args or {}).get("filename", "")):
            response.headers["Cache-Control"] = CACHED
        return response
