"""Issue 31, item 14, without a browser: the confirmation pages on one's own record, the number of sessions a
confirmation names, sign-up reporting every mistake at once, the audit trail after an API client is revoked.
What needs a real browser is tests/browser/test_console_walk.py."""

from __future__ import annotations

import re
import uuid

import pytest

from webapp import create_app
from webapp.sso.zato.attributes import WRITE_OPS
from webapp.web.display import ACTION_LABELS

from ..conftest import PASSWORD, ROOT
from ..conftest import app_config as config_for
from .html_forms import csrf_token, element, form, text

# --- one's own record --------------------------------------------------------------------------------------


def test_ones_own_record_offers_no_lock_reject_or_delete_and_says_why(admin_client, make_user):
    client, admin = admin_client
    html = text(client.get(f"/users/{admin['user_id']}"))
    actions = html.split('id="actions-card"')[1].split("</section>")[0]
    for button in ("lock-button", "reject-button", "delete-button"):
        assert f'id="{button}"' not in actions, button
    note = element(html, "own-account-note")
    assert "you cannot lock your own account" in note and "you cannot delete your own account" in note
    # Someone else's record still offers all three.
    bob = make_user("bob")
    actions = text(client.get(f"/users/{bob['user_id']}")).split('id="actions-card"')[1].split("</section>")[0]
    for button in ("lock-button", "reject-button", "delete-button"):
        assert f'id="{button}"' in actions, button
    assert 'id="own-account-note"' not in actions


@pytest.mark.parametrize(
    ("action", "refusal"),
    [
        ("lock", "you cannot lock your own account"),
        ("reject", "you cannot reject your own account"),
        ("delete", "you cannot delete your own account"),
    ],
)
def test_the_confirmation_on_ones_own_record_says_it_will_not_be_done(admin_client, login, action, refusal):
    client, admin = admin_client
    login("admin")
    response = client.get(f"/users/{admin['user_id']}/confirm?action={action}")
    html = text(response)
    assert response.status_code == 403
    assert refusal in element(html, "own-account-refusal")
    assert 'id="confirm-button"' not in html and "<form" not in html.split("<main")[1].split("</main>")[0]
    assert "end now" not in html and "stop working" not in html  # no promise of what will not happen
    assert 'id="cancel-button"' in html


# --- how many sessions -------------------------------------------------------------------------------------


def test_a_confirmation_names_one_session_in_the_singular_and_none_in_words(admin_client, make_user, login):
    client, _ = admin_client
    bob = make_user("bob")
    login("bob")
    expected = {
        "lock": "Their 1 open session ends now; an application using it is told the account is locked.",
        "reject": "bob cannot log in, and their 1 open session stops working.",
        "delete": "The account and everything of theirs are removed: their 1 open session ends now.",
    }
    for action, line in expected.items():
        html = text(client.get(f"/users/{bob['user_id']}/confirm?action={action}"))
        assert line in html, (action, element(html, "consequences"))
    carol = make_user("carol")
    for action in expected:
        html = text(client.get(f"/users/{carol['user_id']}/confirm?action={action}"))
        consequences = html.split('id="consequences"')[1].split("</ul>")[0]
        assert "no open session" in consequences and "0" not in consequences, (action, consequences)


def test_signing_out_one_session_reads_in_the_singular(admin_client, make_user, login):
    client, _ = admin_client
    bob = make_user("bob")
    login("bob")
    page = text(client.get(f"/users/{bob['user_id']}"))
    answer = client.post(f"/users/{bob['user_id']}/sessions/end", data={"csrf_token": csrf_token(page)})
    assert "Signed out 1 session." in text(client.get(answer.headers["Location"]))


# --- sign-up -----------------------------------------------------------------------------------------------


@pytest.fixture
def signup_app(db_url):
    application = create_app(config_for(db_url, SSO_SIGNUP_APPS=["Console"], SSO_SIGNUP_APPROVAL_NEEDED=False))
    yield application
    application.extensions["sso_engine"].dispose()


def _sign_up(client, username: str, email: str, password: str, again: str):
    page = form(client, "/signup", "signup-form")
    page.fill("username", username).fill("email", email).fill("password", password).fill("confirm_password", again)
    return page.submit(client)


def test_sign_up_reports_a_taken_username_and_differing_passwords_at_once(signup_app, sso):
    sso.operator.create_local("taken-name", PASSWORD, super_user=False, email="first@example.com")
    client = signup_app.test_client()
    answer = _sign_up(client, "taken-name", "new@example.com", "Brand-New-Horse-31", "Brand-New-Horse-32")
    html = text(answer)
    assert answer.status_code == 422
    summary = html.split('id="field-errors"')[1].split("</div>")[0]
    assert 'href="#signup-username"' in summary and "is already taken" in summary
    assert 'href="#signup-password-confirm"' in summary and "does not match" in summary
    assert "is already taken" in element(html, "signup-username-error")
    assert "does not match" in element(html, "signup-password-confirm-error")
    # Every mistake of the values and a taken email too, all at once.
    answer = _sign_up(client, "has space", "first@example.com", "short", "short")
    summary = text(answer).split('id="field-errors"')[1].split("</div>")[0]
    assert "must not contain whitespace" in summary and "at least 8 characters" in summary
    answer = _sign_up(client, "taken-name", "first@example.com", "short", "short")
    summary = text(answer).split('id="field-errors"')[1].split("</div>")[0]
    assert "is already taken" in summary and "already used by another account" in summary
    assert "at least 8 characters" in summary
    # Nothing was written: the name is still free for a right sign-up.
    name = f"fine-{uuid.uuid4().hex[:6]}"
    answer = _sign_up(client, name, f"{name}@example.com", "Brand-New-Horse-31", "Brand-New-Horse-31")
    assert answer.status_code == 303 and answer.headers["Location"] == "/signup/sent"


# --- the audit trail after an API client is revoked --------------------------------------------------------


def test_a_revoked_api_client_reads_as_such_in_the_history_and_its_kind_can_be_picked(admin_client, sso):
    client, _ = admin_client
    sso.operator.create_api_client("billing-robot")
    page = text(client.get("/api-clients"))
    answer = client.post("/api-clients/billing-robot/revoke", data={"csrf_token": csrf_token(page), "confirm": "yes"})
    assert answer.status_code == 303
    html = text(client.get("/account/history"))
    row = re.search(r'<tr id="audit-\d+" class="audit-api_client_revoke">.*?</tr>', html, re.S)
    assert row is not None, html
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", row.group(0)))
    assert "API client revoked" in shown and "API client billing-robot" in shown, shown
    assert "api_client_revoke" not in shown and "(user" not in shown and "Api client" not in shown, shown
    assert "not set" not in shown, shown
    assert "/users/api-client:" not in row.group(0)
    kinds = html.split('id="history-kind"')[1].split("</select>")[0]
    assert '<option value="api_client_revoke">API client revoked</option>' in kinds
    picked = text(client.get("/account/history?kind=api_client_revoke"))
    assert "audit-api_client_revoke" in picked and "audit-login" not in picked


def test_every_kind_the_service_records_reads_in_words_and_can_be_picked():
    source = "\n".join(path.read_text() for path in (ROOT / "webapp" / "sso").rglob("*.py"))
    recorded = set(re.findall(r'\baction="([a-z_]+)"', source))
    assert 'action=f"{scope}_attr_{op}"' in source  # the attribute operations, spelled out below
    recorded |= {f"{scope}_attr_{op}" for scope in ("user", "session") for op in WRITE_OPS}
    recorded.add("create")  # insert_user's default action
    assert {"api_client_revoke", "login", "update"} <= recorded
    assert recorded - set(ACTION_LABELS) == set()
