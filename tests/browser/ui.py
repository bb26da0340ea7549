"""Helpers for the browser tests: the seeding handle on a live server, and page actions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from webapp import create_app
from webapp.sso import SSOError

from ..conftest import FAST_WORKER_ENV, FERNET_KEY, PASSWORD, ROOT, fresh_database
from ..conftest import app_config as config_for
from ..server import LiveServer, server_env
from ..web.html_forms import login_form

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SEED_APP = "CRM"
SEED_CID = "browser-seed"

__all__ = [
    "PASSWORD",
    "ContextPool",
    "Live",
    "Pages",
    "axe_check",
    "choose",
    "field_state",
    "flash",
    "log_in",
    "signed_in",
    "type_into",
    "unique",
]


def unique(prefix: str) -> str:
    """A username nobody else in this run uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Live:
    """A running server (`url`) plus an in-process app on the same database, for seeding and checking."""

    def __init__(self, kind: str, url: str, db_url: str, app):
        self.kind, self.url, self.db_url, self.app = kind, url, db_url, app
        self.sso = app.extensions["sso"]
        self.admin_name = unique("seed-admin")
        self.sso.operator.create_local(self.admin_name, PASSWORD, super_user=True)
        self._ust = self.sso.user.login(SEED_CID, self.admin_name, PASSWORD, SEED_APP, "127.0.0.1").ust

    def user(
        self, prefix: str = "user", *, super_user: bool = False, password: str | None = PASSWORD, **attrs: Any
    ) -> dict:
        """Create an approved user named `prefix-<random>`; `attrs` are then set with update_user_by_id."""
        created = self.sso.operator.create_local(unique(prefix), password, super_user=super_user)
        if attrs:
            self.update(created["user_id"], attrs)
        return self.get(created["user_id"])

    def update(self, user_id: str, data: dict) -> dict:
        return self.sso.user.update_user_by_id(SEED_CID, user_id, data, self._ust, SEED_APP, "127.0.0.1")

    def get(self, user_id: str) -> dict:
        return dict(self.sso.user.get_user_by_id(SEED_CID, user_id, self._ust, SEED_APP, "127.0.0.1"))

    def login_error(self, username: str, password: str) -> list[str] | None:
        """None when `username` can log in with `password`, else the refusal's sub_status."""
        try:
            self.sso.user.login(SEED_CID, username, password, SEED_APP, "127.0.0.1")
        except SSOError as error:
            return list(error.sub_status)
        return None


@contextmanager
def mailing_server(request, tmp_path_factory, mailbox, **env: str) -> Iterator[Live]:
    """gunicorn on a fresh SQLite database mailing `mailbox`, its outbox worker beside it, `SSO_PUBLIC_URL` its
    own address (so emailed links lead back to it); `env`, more settings. For a module's `live` fixture."""
    db_url = fresh_database("sqlite", request, tmp_path_factory)
    app = create_app(config_for(db_url, SSO_LOGIN_MAX_FAILURES=0))
    settings = {"SSO_LOGIN_MAX_FAILURES": "100", "SSO_SMTP_URL": mailbox.url, **FAST_WORKER_ENV, **env}
    server = LiveServer(server_env(db_url, FERNET_KEY, **settings), worker=True)
    server.env["SSO_PUBLIC_URL"] = server.url
    try:
        with server:
            yield Live("sqlite", server.url, db_url, app)
    finally:
        app.extensions["sso_engine"].dispose()


class ContextPool:
    """Browser pages, each in a context of its own, kept from one test to the next (one pool a worker).

    A new context and page cost Chromium about 500 ms more than a page kept open (its first document needs a new
    renderer process). A page is kept with the options its context was made with and handed out again only for
    the same ones, emptied: on a plain address of the site, no cookie, no local or session storage, no other
    page, no listener of the last test's (`Pages.listen`), its viewport and colour scheme as made. What stays is
    its HTTP cache, as a returning browser's does (static files are cached by digest, webapp/static_files.py),
    and its back history."""

    BLANK = "/favicon.svg"  # where a kept page waits: on the site (a later visit needs no new process), no script

    KEEP = 4  # pages kept at most (the least recently given back goes first): an idle renderer still costs a little

    def __init__(self, browser: Browser):
        self.browser = browser
        self.idle: list[tuple[str, Page]] = []

    def take(self, base_url: str, js: bool, axe: bool, options: dict[str, Any]) -> tuple[str, Page]:
        key = json.dumps([base_url, js, axe, options], sort_keys=True)
        for index, (kept_key, page) in enumerate(reversed(self.idle)):
            if kept_key == key:
                del self.idle[len(self.idle) - 1 - index]
                page.bring_to_front()  # the active window again, as a new page is (other kept ones stay open)
                return key, page
        context = self.browser.new_context(base_url=base_url, java_script_enabled=js, **options)
        if axe:
            context.add_init_script(path=str(AXE))  # ~30 ms a page, where add_script_tag takes ~200
        context.set_default_timeout(10_000)
        return key, context.new_page()

    def give_back(self, key: str, page: Page, viewport: dict[str, int]) -> None:
        """Empty `page` and keep it for the next test with the same options; a page that cannot be emptied is
        closed with its context."""
        context = page.context
        try:
            page.stay_on_unload = False  # type: ignore[attr-defined]
            page.goto(self.BLANK)  # a "leave with unsaved changes?" is answered by the test's own handler
            page.evaluate("localStorage.clear(); sessionStorage.clear()")
            context.clear_cookies()
            for other in context.pages:
                if other is not page:
                    other.close()
            page.set_viewport_size(viewport)  # type: ignore[arg-type]
            page.emulate_media(color_scheme="light")
        except PlaywrightError:
            context.close()
            return
        self.idle.append((key, page))
        while len(self.idle) > self.KEEP:
            self.idle.pop(0)[1].context.close()

    def close(self) -> None:
        for _, page in self.idle:
            page.context.close()
        self.idle.clear()


@dataclass
class Pages:
    """Browser pages (each in a context of its own, so its own cookie jar) for one test, taken from the
    worker's pool and given back emptied after it."""

    pool: ContextPool
    base_url: str
    taken: list[tuple[str, Page, dict[str, int], list[tuple[str, Any]]]] = field(default_factory=list)

    def new(self, *, js: bool = True, axe: bool = False, **options: Any) -> Page:
        """A page in a context of its own; with `axe`, axe-core is loaded into every document it opens (for
        axe_check; the page's Content-Security-Policy still applies to the page's own scripts). The page keeps
        what its documents wrote to the console in `page.console` (for failure messages)."""
        options.setdefault("viewport", {"width": 1280, "height": 900})
        key, page = self.pool.take(self.base_url, js, axe, options)
        dialogs: list[str] = []
        page.dialogs = dialogs  # type: ignore[attr-defined]

        def on_dialog(dialog) -> None:
            dialogs.append(dialog.message if dialog.type != "beforeunload" else "beforeunload")
            # "Leave the page with unsaved changes?" is answered yes unless a test wants to stay.
            if dialog.type == "beforeunload" and not getattr(page, "stay_on_unload", False):
                dialog.accept()
            else:
                dialog.dismiss()

        htmx: list[str] = []  # "METHOD /path" of every request htmx sent (HX-Request header)
        page.htmx = htmx  # type: ignore[attr-defined]

        def on_request(request) -> None:
            if request.headers.get("hx-request") == "true":
                htmx.append(f"{request.method} {request.url[len(self.base_url) :]}")

        console: list[str] = []
        page.console = console  # type: ignore[attr-defined]

        def on_console(message) -> None:
            console.append(f"{message.type}: {message.text}")

        self.taken.append((key, page, options["viewport"], []))
        for event, listener in (("dialog", on_dialog), ("request", on_request), ("console", on_console)):
            self.listen(page, event, listener)
        return page

    def listen(self, page: Page, event: str, listener: Any) -> None:
        """`page.on(event, listener)` until the test ends: a test listens through this, so that a kept page
        does not go on calling its listeners in the next test."""
        page.on(event, listener)  # type: ignore[call-overload]
        next(listeners for _, taken, _, listeners in self.taken if taken is page).append((event, listener))

    def close(self) -> None:
        for key, page, viewport, listeners in self.taken:
            if page.is_closed():
                page.context.close()
                continue
            self.pool.give_back(key, page, viewport)
            for event, listener in listeners:
                page.remove_listener(event, listener)


def log_in(page: Page, username: str, password: str = PASSWORD, *, landing: str | None = "/account") -> Page:
    """Log in through the form and wait for the landing page."""
    page.goto("/login")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")
    if landing:
        page.wait_for_url(f"**{landing}")
    return page


def signed_in(page: Page, username: str, password: str = PASSWORD, *, landing: str = "/account") -> Page:
    """Log in through the login endpoint over HTTP in the page's own context (the login form's fields and
    CSRF token, the context's cookies and user agent), then open `landing`: what `log_in` does, less the
    rendering of the login page, for tests about what comes after it (about 600 ms a login)."""
    http = page.context.request
    filled = login_form(http.get("/login").text(), username, password)
    answer = http.post("/login", form=dict(filled.data()), max_redirects=0)
    assert answer.status == 303, (answer.status, answer.text()[:300])
    page.goto(landing)
    return page


def type_into(page: Page, name: str, text: str) -> None:
    """Type a value into attribute field `name`, unticking its clear box first if it is ticked (not set)."""
    clear = page.locator(f"#f-{name}-clear")
    if clear.count() and clear.is_checked():
        clear.uncheck()
    page.fill(f"#f-{name}", text)


def choose(page: Page, input_id: str) -> None:
    """Pick a radio of a segmented control by clicking its label, as a person does (the radio is hidden)."""
    page.click(f"label[for='{input_id}']")
    expect(page.locator(f"#{input_id}")).to_be_checked()


def flash(page: Page):
    """The flash-message area."""
    return page.locator("#messages")


def field_state(page: Page, name: str):
    """The "not set" / "empty text" badge of an attribute field."""
    return page.locator(f"#f-{name}-state")


SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")


def axe_check(page: Page, label: str, *, widths: tuple[int, ...] = (), strict: bool = False) -> list[dict]:
    """Run axe-core on the page as it stands in the light and in the dark colour scheme, at its own width and at
    each of `widths` px (switched in place: the page is not loaded again, then put back as it was). Returns the
    serious/critical violations (`strict`: every violation), each with where it was found; prints the rest. At
    each of `widths` a page wider than the window (it would scroll sideways) is a violation too."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))  # a context made without Pages.new(axe=True); needs bypass_csp
    own = page.viewport_size
    serious: list[dict] = []
    for width in (None, *widths):
        if width is not None:
            page.set_viewport_size({"width": width, "height": own["height"] if own else 800})
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                serious.append({"id": "wider-than-window", "where": f"{label} {width}px", "scroll_width": scroll})
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            where = " ".join(filter(None, (label, scheme, f"{width}px" if width else "")))
            serious += _axe_run(page, where, strict)
    page.emulate_media(color_scheme="light")
    if own:
        page.set_viewport_size(own)
    return serious


def _axe_run(page: Page, where: str, strict: bool = False) -> list[dict]:
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return {passes: r.passes.length,
                violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                   nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))};
    }""")
    assert result["passes"] > 10, f"axe ran no checks on {where}"
    serious = []
    for v in result["violations"]:
        if strict or v["impact"] in ("serious", "critical"):
            serious.append({**v, "where": where})
        else:
            print(f"axe [{where}] {v['impact']}: {v['id']} - {v['help']} {json.dumps(v['nodes'])}")
    return serious


expect.set_options(timeout=7_000)
