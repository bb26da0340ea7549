"""CSRF on every form, security headers on every response, no inline script or style, labelled controls."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask import Blueprint, Flask

from webapp.web.security import CONTENT_SECURITY_POLICY, init_security

from .html_forms import csrf_token, form, text
from .test_account import stored


def test_a_form_without_a_csrf_token_is_refused_and_nothing_is_written(sso, alice_client, admin_ust):
    client, user = alice_client
    page = form(client, "/account", "account-form")
    page.fill("display_name", "Forged").check("clear_display_name", on=False)
    data = [(name, value) for name, value in page.data() if name != "csrf_token"]
    response = client.post("/account", data=dict(data))
    assert response.status_code == 400
    assert "Form not accepted" in text(response)
    assert stored(sso, admin_ust, user["user_id"])["display_name"] is None


def test_a_form_with_a_wrong_csrf_token_is_refused_and_nothing_is_written(sso, alice_client, admin_ust):
    client, user = alice_client
    page = form(client, "/account", "account-form")
    page.fill("display_name", "Forged").check("clear_display_name", on=False)
    data = dict(page.data())
    data["csrf_token"] = "IjAwMDAi.AAAAAA.forged"
    assert client.post("/account", data=data).status_code == 400
    assert stored(sso, admin_ust, user["user_id"])["display_name"] is None


def test_a_token_from_another_browser_session_is_refused(app, sso, alice_client, admin_ust):
    client, user = alice_client
    other = app.test_client()
    foreign = csrf_token(text(other.get("/login")))
    page = form(client, "/account", "account-form")
    page.fill("display_name", "Forged").check("clear_display_name", on=False)
    data = dict(page.data())
    data["csrf_token"] = foreign
    assert client.post("/account", data=data).status_code == 400
    assert stored(sso, admin_ust, user["user_id"])["display_name"] is None


def test_every_console_post_checks_the_csrf_token(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    for path, data in (
        ("/login", {"username": "admin", "password": "x"}),
        ("/login/new-password", {"pending": "x"}),
        ("/logout", {}),
        ("/account/password", {"old_password": "x"}),
        ("/users/new", {"username": "eve"}),
        (f"/users/{bob['user_id']}", {"is_locked": "true"}),
        (f"/users/{bob['user_id']}/quick", {"action": "lock"}),
        (f"/users/{bob['user_id']}/password", {"new_password": "Some-Long-Secret-1"}),
        ("/validate/account/email", {"email": "x"}),
    ):
        assert client.post(path, data=data).status_code == 400, path
    after = stored(sso, admin_ust, bob["user_id"])
    assert after["is_locked"] is False and after.version == 1
    assert sso.user.search("cid", {"username": "eve"}, admin_ust, "CRM", "::1")["total"] == 0
    assert client.get("/account").status_code == 200  # still logged in: logout was refused too


def test_csrf_is_registered_as_an_app_extension(app):
    from flask_wtf.csrf import CSRFProtect

    assert isinstance(app.extensions["csrf"], CSRFProtect)


def test_the_json_api_blueprint_is_exempt_from_csrf():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k")
    api = Blueprint("api", __name__)
    api.add_url_rule("/zato/sso/ping", "ping", lambda: {"status": "ok"}, methods=["POST"])
    app.register_blueprint(api)
    app.add_url_rule("/form", "form", lambda: "ok", methods=["POST"])
    init_security(app)
    client = app.test_client()
    assert client.post("/zato/sso/ping", json={}).status_code == 200
    assert client.post("/form", data={}).status_code == 400


def test_the_real_json_api_needs_no_csrf_token(app, make_user):
    assert "api" in app.blueprints
    make_user("alice")
    response = app.test_client().post(
        "/zato/sso/user/login", json={"username": "alice", "password": "wrong-password-1", "current_app": "CRM"}
    )
    assert response.is_json and "csrf" not in text(response).lower()
    assert (response.status_code, response.json["sub_status"]) == (403, ["E005001"])


EXPECTED_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def test_the_csp_is_the_one_required():
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' "
        "data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )


def test_every_response_carries_the_security_headers(admin_client, make_user):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    responses = [
        client.get(path)
        for path in (
            "/",
            "/login",
            "/account",
            "/account/password",
            "/users",
            "/users/new",
            f"/users/{bob['user_id']}",
            "/users/zusrmissing",
            "/no-such-page",
            "/static/css/console.css",
            "/static/js/console.js",
            "/logout",
        )
    ]
    responses.append(client.post("/account", data={}))  # CSRF refusal
    responses.append(client.post("/zato/sso/user/login", json={}))
    for response in responses:
        for name, value in EXPECTED_HEADERS.items():
            assert response.headers.get(name) == value, (response.request.path, name)


class _InlineFinder(HTMLParser):
    """Collects what a strict CSP would block or what breaks labelling."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.labels_for: set[str] = set()
        self.controls: list[tuple[str, dict]] = []
        self.h1 = 0
        self.label_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "script" and "src" not in a:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        if "style" in a:
            self.problems.append(f"style= on <{tag}>")
        for name in a:
            if name.startswith("on") or name.startswith("hx-on"):
                self.problems.append(f"{name}= on <{tag}>")
        if tag == "h1":
            self.h1 += 1
        if tag == "label":
            if a.get("for"):
                self.labels_for.add(a["for"])
            else:
                self.label_depth += 1
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button"):
            self.controls.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "label" and self.label_depth:
            self.label_depth -= 1


def _check_page(html: str, path: str) -> None:
    finder = _InlineFinder()
    finder.feed(html)
    assert finder.problems == [], (path, finder.problems)
    assert finder.h1 == 1, (path, "one <h1> per page")
    duplicates = {i for i in finder.ids if finder.ids.count(i) > 1}
    assert not duplicates, (path, duplicates)
    for tag, attrs in finder.controls:
        assert attrs.get("id") in finder.labels_for or attrs.get("aria-label"), (path, tag, attrs.get("name"))
    assert not re.search(r"javascript:", html, re.I)


def test_pages_have_no_inline_script_or_style_and_every_control_is_labelled(admin_client, make_user, sso, admin_ust):
    client, _admin = admin_client
    bob = make_user("bob", password=None)
    sso.user.update_user_by_id("cid", bob["user_id"], {"display_name": "<b onclick=x>"}, admin_ust, "CRM", "::1")
    for path in (
        "/login",
        "/account",
        "/account/password",
        "/users",
        "/users/new",
        f"/users/{bob['user_id']}",
        "/logout",
        "/users/zusrmissing",
    ):
        response = client.get(path)
        _check_page(text(response), path)
    anonymous = client.application.test_client()
    _check_page(text(anonymous.get("/login")), "/login (anonymous)")


def test_a_regular_users_pages_pass_the_same_checks(alice_client):
    client, _user = alice_client
    for path in ("/account", "/account/password", "/users"):
        _check_page(text(client.get(path)), path)


def test_an_htmx_request_refused_for_csrf_shows_an_alert_in_the_message_area(alice_client):
    client, _user = alice_client
    response = client.post(
        "/account", data={"display_name": "x"}, headers={"HX-Request": "true", "HX-Request-Type": "partial"}
    )
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#messages" and response.headers["HX-Reswap"] == "innerHTML"
    assert text(response).startswith('<div class="flash flash-error" role="alert">')
