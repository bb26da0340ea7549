#!/usr/bin/env python
"""Screenshots of the web console, light and dark, into docs/screenshots/<page>-<light|dark>.png.

    .venv/bin/python scripts/screenshots.py [--out DIR]

Starts gunicorn (tests/server.py's LiveServer) on a throwaway SQLite database seeded with a handful of
realistic users (one locked, one waiting for approval, some history), then drives Debian's Chromium
(headless, 1280 px wide, full page) through: login, My account, Manage users, a user's edit page,
a conflict (someone else saved the same field meanwhile), a user's history, a refused create, a bulk
lock's confirmation and its results; and at
390 px the list and a history. Needs `scripts/bootstrap.sh --test`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.server import LiveServer, server_env  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.db import make_engine  # noqa: E402
from webapp.schema import upgrade  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "Correct-Horse-9"
ADMIN = "grace.hopper"
APP = "CRM"
ADDR = "127.0.0.1"
SCHEMES = ("light", "dark")


class Seed:
    """The people in the screenshots, made through the service layer (so the audit history is real)."""

    def __init__(self, app):
        self.user = app.extensions["sso"].user
        self.operator.create_local(ADMIN, PASSWORD, super_user=True)
        self.ust = self.user.login("seed", ADMIN, PASSWORD, APP, ADDR, "Mozilla/5.0 (X11; Linux x86_64)").ust
        self.admin_id = self.user.get_current_user("seed", self.ust, APP, ADDR)["user_id"]
        self.ids: dict[str, str] = {}

    def create(self, username: str, *, approve: bool = True, **attrs) -> str:
        data = {"username": username, "password": PASSWORD, "auto_approve": approve, **attrs}
        created = self.user.create_user("seed", data, self.ust, APP, ADDR, channel="web")
        self.ids[username] = created["user_id"]
        return created["user_id"]

    def update(self, username: str, data: dict, channel: str = "web") -> None:
        self.user.update_user_by_id("seed", self.ids[username], data, self.ust, APP, ADDR, channel=channel)

    def people(self) -> None:
        self.user.update_current_user(
            "seed",
            {
                "email": "grace.hopper@example.com",
                "display_name": "Grace Hopper",
                "first_name": "Grace",
                "last_name": "Hopper",
            },
            self.ust,
            APP,
            ADDR,
            channel="web",
        )
        self.create(
            "ada.lovelace", email="ada@example.com", display_name="Ada Lovelace", first_name="Ada", last_name="Lovelace"
        )
        self.update("ada.lovelace", {"display_name": "Countess Ada Lovelace", "middle_name": ""})
        self.update("ada.lovelace", {"email": "ada.lovelace@example.org"}, channel="api")
        self.update("ada.lovelace", {"password_expiry": "2027-03-01T09:00:00"})
        self.create(
            "alan.turing",
            email="alan.turing@example.com",
            display_name="Alan Turing",
            first_name="Alan",
            middle_name="Mathison",
            last_name="Turing",
        )
        self.update("alan.turing", {"is_locked": True})
        self.create(
            "katherine.johnson",
            approve=False,
            email="katherine.johnson@example.com",
            display_name="Katherine Johnson",
            first_name="Katherine",
            last_name="Johnson",
        )
        self.create(
            "margaret.hamilton",
            email="mh@example.com",
            display_name="Margaret Hamilton",
            first_name="Margaret",
            last_name="Hamilton",
            password_must_change=True,
        )
        self.create("linus.t", display_name="Linus")
        self.update("linus.t", {"approval_status": "rejected"})
        self.create(
            "hedy.lamarr", email="hedy@example.com", display_name="Hedy Lamarr", first_name="Hedy", last_name="Lamarr"
        )
        self.create("dennis.ritchie", email="dmr@example.com", display_name="Dennis Ritchie")
        self.update("dennis.ritchie", {"email": None, "password_expiry": None})


def shoot(page: Page, out: Path, name: str, scheme: str) -> Path:
    page.wait_for_load_state("networkidle")
    path = out / f"{name}-{scheme}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


def run(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    fernet_key = Fernet.generate_key().decode()
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="sso-screenshots-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'sso.db'}"
        engine = make_engine(db_url)
        upgrade(engine)
        engine.dispose()
        app = create_app(
            {
                "DATABASE_URL": db_url,
                "SECRET_KEY": "screenshots",
                "SSO_FERNET_KEYS": [fernet_key],
                "SSO_APPS": ["CRM", "Console"],
            }
        )
        seed = Seed(app)
        seed.people()
        with LiveServer(server_env(db_url, fernet_key)) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for scheme in SCHEMES:
                context = browser.new_context(
                    base_url=server.url, color_scheme=scheme, viewport={"width": 1280, "height": 800}
                )
                page = context.new_page()
                page.goto("/login")
                written.append(shoot(page, out, "login", scheme))
                page.fill("#login-username", ADMIN)
                page.fill("#login-password", PASSWORD)
                page.click("#login-submit")
                page.wait_for_url("**/account")
                written.append(shoot(page, out, "account", scheme))
                page.goto("/users")
                written.append(shoot(page, out, "users", scheme))
                page.goto(f"/users/{seed.ids['ada.lovelace']}")
                written.append(shoot(page, out, "user-edit", scheme))
                # A conflict: someone else saves Hedy's display name while this page is open.
                page.goto(f"/users/{seed.ids['hedy.lamarr']}")
                seed.update("hedy.lamarr", {"display_name": "Hedy Kiesler"}, channel="api")
                page.fill("#f-display_name", "Hedy Lamarr-Markey")
                page.fill("#f-last_name", "Lamarr-Markey")
                page.click("#save")
                expect(page.locator("#conflict-message")).to_be_visible()
                written.append(shoot(page, out, "conflict", scheme))
                seed.update("hedy.lamarr", {"display_name": "Hedy Lamarr"}, channel="api")  # as before
                page.goto(f"/users/{seed.ids['ada.lovelace']}/history")
                written.append(shoot(page, out, "history", scheme))
                page.goto("/users/new")
                page.fill("#f-username", "has a space")
                page.fill("#f-email", "not an email")
                page.fill("#f-password", "my-password-1")
                page.fill("#f-password_confirm", "my-password-1")
                page.click("#create-submit")
                expect(page.locator("#field-errors")).to_be_visible()
                written.append(shoot(page, out, "create-errors", scheme))
                # Bulk: lock three ticked users (one already locked, one oneself), confirm, read each outcome.
                page.goto("/users")
                for username in ("hedy.lamarr", "alan.turing", ADMIN):
                    page.check(f"#select-{seed.ids.get(username) or seed.admin_id}")
                page.select_option("#bulk-action", "lock")
                page.click("#bulk-apply")
                expect(page.locator("#bulk-selection")).to_be_visible()
                written.append(shoot(page, out, "bulk-confirm", scheme))
                page.click("#confirm-button")
                expect(page.locator("#bulk-summary")).to_be_visible()
                written.append(shoot(page, out, "bulk-results", scheme))
                seed.update("hedy.lamarr", {"is_locked": False})  # as before
                context.close()
                # A phone: the list and a user's history at 390 px.
                phone = browser.new_context(
                    base_url=server.url, color_scheme=scheme, viewport={"width": 390, "height": 844}
                )
                page = phone.new_page()
                page.goto("/login")
                page.fill("#login-username", ADMIN)
                page.fill("#login-password", PASSWORD)
                page.click("#login-submit")
                page.wait_for_url("**/account")
                page.goto("/users?sort=sign_up_time&dir=desc")
                written.append(shoot(page, out, "users-phone", scheme))
                page.goto(f"/users/{seed.ids['ada.lovelace']}/history")
                written.append(shoot(page, out, "history-phone", scheme))
                phone.close()
            browser.close()
        app.extensions["sso_engine"].dispose()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    run(parser.parse_args().out)


if __name__ == "__main__":
    main()
