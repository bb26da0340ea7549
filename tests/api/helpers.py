"""Assertions on what an API client sees."""

from __future__ import annotations

import requests

from webapp.sso.kernel.attributes import SELF_READABLE
from webapp.sso.kernel.presentation import FULL_VIEW

ENVELOPE = {"cid", "status"}
REGULAR_VIEW_KEYS = ENVELOPE | {"user_id", *SELF_READABLE, "required_actions"}
SUPER_VIEW_KEYS = ENVELOPE | set(FULL_VIEW) | {"required_actions"}


def ok(response: requests.Response, status: str = "ok") -> dict:
    """The body of a successful answer: HTTP 200, one JSON object with a cid and `status`."""
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == status, body
    assert isinstance(body["cid"], str) and body["cid"]
    return body


def refused(response: requests.Response, http_status: int, *codes: str) -> dict:
    """The body of an error answer: the HTTP status, status `error` and exactly these sub_status codes."""
    assert response.status_code == http_status, (response.status_code, response.text)
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "error", body
    assert body["sub_status"] == list(codes), body
    assert isinstance(body["errors"], dict)
    if http_status == 400 and "result" in body:  # a missing required input also carries Zato's keys
        assert (body.pop("result"), body.pop("details")) == ("Error", "Bad request")
    assert set(body) == {"cid", "status", "sub_status", "errors"}
    return body
