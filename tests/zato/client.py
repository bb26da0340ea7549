"""Our own compatibility layer that plays a Zato SSO client against a live server.

It behaves as Zato's REST test client does: the request is a JSON body on every method (GET and
DELETE included) with no Content-Type, `current_app` is injected into every non-empty request,
and `expect_ok` means HTTP 200, a `cid`, and `status == "ok"`. Answers read as attributes."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace
from typing import Any

import requests

APP = "CRM"


class Answer(SimpleNamespace):
    """A JSON answer whose keys read as attributes (`answer.status`), plus the HTTP response."""

    def __contains__(self, key: str) -> bool:
        return key in self.__dict__ and key != "http"


class ZatoClient:
    """Send requests to `base_url` the way Zato's own tests do."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def request(
        self,
        method: str,
        path: str,
        request: dict[str, Any] | None = None,
        expect_ok: bool = True,
        headers: dict[str, str] | None = None,
        auth=None,
    ) -> Answer:
        body = dict(request or {})
        if body:
            body.setdefault("current_app", APP)
        response = self.http.request(
            method, self.base_url + path, data=json.dumps(body).encode(), headers=headers, auth=auth, timeout=30
        )
        assert "Content-Type" not in response.request.headers
        payload = response.json()
        if expect_ok:
            assert response.status_code == 200, (response.status_code, payload)
            assert "cid" in payload, payload
            assert payload["status"] == "ok", payload
        return Answer(http=response, **payload)

    def get(self, path, request=None, expect_ok=True, **kwargs) -> Answer:
        return self.request("GET", path, request, expect_ok, **kwargs)

    def post(self, path, request=None, expect_ok=True, **kwargs) -> Answer:
        return self.request("POST", path, request, expect_ok, **kwargs)

    def patch(self, path, request=None, expect_ok=True, **kwargs) -> Answer:
        return self.request("PATCH", path, request, expect_ok, **kwargs)

    def put(self, path, request=None, expect_ok=True, **kwargs) -> Answer:
        return self.request("PUT", path, request, expect_ok, **kwargs)

    def delete(self, path, request=None, expect_ok=True, **kwargs) -> Answer:
        return self.request("DELETE", path, request, expect_ok, **kwargs)


def random_data() -> str:
    """A random string of at least 8 characters and no reject-list word, as Zato's tests make."""
    return "rand." + uuid.uuid4().hex


def random_username() -> str:
    return "test." + uuid.uuid4().hex[:16]
