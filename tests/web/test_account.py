"""My account: only what changed is saved, NULL vs "", merges and conflicts, errors on their fields, htmx."""

from __future__ import annotations

from sqlalchemy import select

from webapp.db import reading
from webapp.sso.kernel.tables import audit

from ..conftest import PASSWORD
from .html_forms import element, form, forms, text


def audit_rows(app, user_id: str, action: str = "update") -> list[dict]:
    with reading(app.extensions["sso_engine"]) as conn:
        rows = (
            conn.execute(
                select(audit).where(audit.c.target_id == user_id, audit.c.action == action).order_by(audit.c.id)
            )
            .mappings()
            .all()
        )
    return [dict(row) for row in rows]


def stored(sso, ust, user_id):
    return sso.user.get_user_by_id("cid", user_id, ust, "CRM", "::1")


def test_my_account_shows_my_fields_with_not_set_for_nulls(alice_client):
    client, _user = alice_client
    html = text(client.get("/account"))
    assert "<h1>My account</h1>" in html
    for name in ("username", "email", "display_name", "first_name", "middle_name", "last_name"):
        assert f'id="f-{name}"' in html
    assert 'id="f-is_locked' not in html  # not self-editable
    assert '<label for="f-email-clear">Clear' in html
    assert "not set" in element(html, "f-email-state") + html[html.index('id="f-email-state"') :][:200]
    assert "Recent activity" in html and "Logged in" in html


def test_saving_one_changed_field_writes_only_that_field(app, alice_client):
    client, user = alice_client
    account = form(client, "/account", "account-form")
    account.fill("display_name", "Alice A.")
    response = account.submit(client)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    html = text(client.get("/account"))
    assert "Saved: Display name." in html
    assert 'value="Alice A."' in html
    rows = audit_rows(app, user["user_id"])
    assert len(rows) == 1
    assert rows[0]["changes"] == {"display_name": {"old": None, "new": "Alice A."}}
    assert rows[0]["channel"] == "web" and rows[0]["current_app"] == "Console"


def test_an_untouched_field_changed_meanwhile_by_someone_else_stays(app, sso, alice_client, admin_ust):
    client, user = alice_client
    account = form(client, "/account", "account-form")
    sso.user.update_user_by_id("cid", user["user_id"], {"email": "theirs@example.com"}, admin_ust, "CRM", "::1")
    account.fill("display_name", "Mine")
    response = account.submit(client)
    assert response.status_code == 303
    html = text(client.get("/account"))
    assert "Someone else changed Email meanwhile; their changes were kept." in html
    now = stored(sso, admin_ust, user["user_id"])
    assert now["email"] == "theirs@example.com" and now["display_name"] == "Mine"
    assert audit_rows(app, user["user_id"])[-1]["changes"] == {"display_name": {"old": None, "new": "Mine"}}


def test_changing_the_same_field_as_someone_else_shows_a_conflict_and_writes_nothing(app, sso, alice_client, admin_ust):
    client, user = alice_client
    account = form(client, "/account", "account-form")
    sso.user.update_user_by_id("cid", user["user_id"], {"display_name": "Theirs"}, admin_ust, "CRM", "::1")
    before = stored(sso, admin_ust, user["user_id"])
    account.fill("display_name", "Mine").fill("first_name", "Alice").check("clear_first_name", on=False)
    response = account.submit(client)
    assert response.status_code == 409
    html = text(response)
    assert "Nothing was saved" in html
    assert (
        'Yours: <span class="value">Mine</span>' in html
        and 'Theirs (saved now): <span class="value">Theirs</span>' in html
    )
    assert 'id="f-display_name-keep-mine"' in html and 'id="f-display_name-take-theirs"' in html
    after = stored(sso, admin_ust, user["user_id"])
    assert after.version == before.version and after["first_name"] is None

    again = forms(html)["account-form"]
    response = again.submit(client)  # no choice made yet
    assert response.status_code == 422
    assert "choose to keep yours or take theirs" in element(text(response), "f-display_name-error")

    again.check("resolve_display_name", "mine")
    assert again.submit(client).status_code == 303
    after = stored(sso, admin_ust, user["user_id"])
    assert after["display_name"] == "Mine" and after["first_name"] == "Alice"


def test_taking_theirs_in_a_conflict_keeps_their_value(sso, alice_client, admin_ust):
    client, user = alice_client
    account = form(client, "/account", "account-form")
    sso.user.update_user_by_id("cid", user["user_id"], {"display_name": "Theirs"}, admin_ust, "CRM", "::1")
    account.fill("display_name", "Mine").check("clear_display_name", on=False)
    again = forms(text(account.submit(client)))["account-form"]
    again.check("resolve_display_name", "theirs")
    response = again.submit(client)
    assert response.status_code == 303
    assert stored(sso, admin_ust, user["user_id"])["display_name"] == "Theirs"


def test_ticking_clear_stores_null_and_shows_not_set(sso, alice_client, admin_ust):
    client, user = alice_client
    sso.user.update_user_by_id("cid", user["user_id"], {"email": "a@example.com"}, admin_ust, "CRM", "::1")
    account = form(client, "/account", "account-form")
    assert account.value("email") == "a@example.com" and account.value("clear_email") is None
    account.check("clear_email")
    assert account.submit(client).status_code == 303
    assert stored(sso, admin_ust, user["user_id"])["email"] is None
    html = text(client.get("/account"))
    assert '<span class="state" id="f-email-state"><span class="value-null">not set</span></span>' in html
    assert forms(html)["account-form"].value("clear_email") == "1"


def test_an_emptied_name_is_stored_as_empty_text_not_as_null(sso, alice_client, admin_ust):
    client, user = alice_client
    sso.user.update_user_by_id("cid", user["user_id"], {"last_name": "Smith"}, admin_ust, "CRM", "::1")
    account = form(client, "/account", "account-form")
    account.fill("last_name", "")
    assert account.submit(client).status_code == 303
    assert stored(sso, admin_ust, user["user_id"])["last_name"] == ""
    html = text(client.get("/account"))
    assert '<span class="state" id="f-last_name-state"><span class="value-empty">empty text</span></span>' in html


def test_each_invalid_value_is_shown_on_its_own_field_and_nothing_is_written(sso, alice_client, admin_ust):
    client, user = alice_client
    before = stored(sso, admin_ust, user["user_id"])
    account = form(client, "/account", "account-form")
    account.fill("username", "has space").fill("email", "not-an-email").check("clear_email", on=False)
    account.fill("display_name", "ok").check("clear_display_name", on=False)
    response = account.submit(client)
    assert response.status_code == 422
    html = text(response)
    assert "must not contain whitespace" in element(html, "f-username-error")
    assert "must be a valid email address" in element(html, "f-email-error")
    assert 'aria-invalid="true"' in html and 'value="has space"' in html
    assert "Please correct these fields" in html
    after = stored(sso, admin_ust, user["user_id"])
    assert after.version == before.version and after["display_name"] is None


def test_an_empty_email_is_not_an_email_and_says_how_to_remove_it(alice_client):
    client, _user = alice_client
    account = form(client, "/account", "account-form")
    account.check("clear_email", on=False)  # the box stays empty: "" is not an address
    response = account.submit(client)
    assert response.status_code == 422
    assert "to remove it, clear the field" in element(text(response), "f-email-error")


def test_a_taken_username_is_shown_on_the_username_field(make_user, alice_client):
    make_user("bob", password=None)
    client, _user = alice_client
    account = form(client, "/account", "account-form")
    account.fill("username", "BOB")
    response = account.submit(client)
    assert response.status_code == 422
    assert "is already taken" in element(text(response), "f-username-error")


def test_ticking_clear_while_typing_a_new_value_is_refused(sso, alice_client, admin_ust):
    client, user = alice_client
    sso.user.update_user_by_id("cid", user["user_id"], {"last_name": "Smith"}, admin_ust, "CRM", "::1")
    account = form(client, "/account", "account-form")
    account.fill("last_name", "Jones").check("clear_last_name")
    response = account.submit(client)
    assert response.status_code == 422
    assert "either tick" in element(text(response), "f-last_name-error")
    assert stored(sso, admin_ust, user["user_id"])["last_name"] == "Smith"


def test_typing_into_a_not_set_field_without_the_script_sets_the_value(sso, alice_client, admin_ust):
    client, user = alice_client
    account = form(client, "/account", "account-form")
    assert account.value("clear_middle_name") == "1"  # not set: the clear box comes ticked
    account.fill("middle_name", "Q")
    assert account.submit(client).status_code == 303
    assert stored(sso, admin_ust, user["user_id"])["middle_name"] == "Q"


def test_saving_an_unchanged_form_writes_nothing(app, alice_client):
    client, user = alice_client
    response = form(client, "/account", "account-form").submit(client)
    assert response.status_code == 303
    assert "Nothing to save" in text(client.get("/account"))
    assert audit_rows(app, user["user_id"]) == []


def test_a_display_name_with_markup_is_shown_escaped(sso, alice_client, admin_ust):
    client, user = alice_client
    sso.user.update_user_by_id(
        "cid", user["user_id"], {"display_name": "<script>alert(1)</script>"}, admin_ust, "CRM", "::1"
    )
    html = text(client.get("/account"))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_htmx_save_answers_with_hx_location(sso, alice_client, admin_ust):
    client, user = alice_client
    account = form(client, "/account", "account-form")
    account.fill("display_name", "Via htmx").check("clear_display_name", on=False)
    response = account.submit(client, headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert response.status_code == 200 and response.headers["HX-Location"] == "/account"
    assert stored(sso, admin_ust, user["user_id"])["display_name"] == "Via htmx"
    assert "Saved: Display name." in text(
        client.get("/account", headers={"HX-Request": "true", "HX-Request-Type": "full"})
    )


def test_an_htmx_save_with_errors_returns_only_the_form_with_422(alice_client):
    client, _user = alice_client
    account = form(client, "/account", "account-form")
    account.fill("username", "")
    response = account.submit(client, headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert response.status_code == 422
    html = text(response)
    assert html.lstrip().startswith('<form id="account-form"') and "<html" not in html
    assert "may not be empty" in element(html, "f-username-error")


def test_inline_validation_answers_the_field_partial_with_the_service_message(alice_client):
    client, _user = alice_client
    account = form(client, "/account", "account-form")
    account.fill("email", "nope").check("clear_email", on=False)
    headers = {"HX-Request": "true", "HX-Request-Type": "partial"}
    from werkzeug.datastructures import MultiDict

    response = client.post("/validate/account/email", data=MultiDict(account.data()), headers=headers)
    assert response.status_code == 200
    html = text(response)
    assert html.lstrip().startswith('<div class="field has-error"') and 'id="field-email"' in html
    assert "must be a valid email address" in element(html, "f-email-error")
    account.fill("email", "ok@example.com")
    html = text(client.post("/validate/account/email", data=MultiDict(account.data()), headers=headers))
    assert 'id="f-email-error" hidden' in html
    assert client.post("/validate/account/is_locked", data=MultiDict(account.data())).status_code == 404
    assert client.post("/validate/user/email", data=MultiDict(account.data())).status_code == 403


def test_changing_my_password(sso, alice_client):
    client, _user = alice_client
    page = form(client, "/account/password", "password-form")
    page.fill("old_password", "Wrong-one-123").fill("new_password", "Fresh-Secret-42").fill(
        "confirm_password", "Fresh-Secret-42"
    )
    response = page.submit(client)
    assert response.status_code == 422
    assert "is not right" in element(text(response), "old-password-error")
    page.fill("old_password", PASSWORD).fill("new_password", "abc").fill("confirm_password", "abc")
    response = page.submit(client)
    assert response.status_code == 422 and "at least 8" in element(text(response), "new-password-error")
    page.fill("new_password", "Fresh-Secret-42").fill("confirm_password", "Fresh-Secret-43")
    assert "does not match" in element(text(page.submit(client)), "confirm-password-error")
    page.fill("confirm_password", "Fresh-Secret-42")
    response = page.submit(client)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert "Your password has been changed." in text(client.get("/account"))  # this session survives
    assert sso.user.login("cid", "alice", "Fresh-Secret-42", "CRM", "::1").ust


def test_super_users_have_my_account_too(admin_client):
    client, _user = admin_client
    html = text(client.get("/account"))
    assert "<h1>My account</h1>" in html and "super-user" in html and 'id="nav-users"' in html
    account = forms(html)["account-form"]
    account.fill("first_name", "Ada").check("clear_first_name", on=False)
    assert account.submit(client).status_code == 303


def test_an_htmx_conflict_also_refreshes_the_recent_activity_out_of_band(sso, alice_client, admin_ust):
    client, user = alice_client
    account = form(client, "/account", "account-form")
    sso.user.update_user_by_id("cid", user["user_id"], {"display_name": "Theirs"}, admin_ust, "CRM", "10.0.0.9")
    account.fill("display_name", "Mine")
    response = account.submit(client, headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert response.status_code == 409
    html = text(response)
    assert html.lstrip().startswith('<form id="account-form"')
    start = html.index('id="history-card"')
    history = html[start : html.index("</section>", start)]
    assert history.startswith('id="history-card" aria-labelledby="activity-heading" hx-swap-oob="true"')
    assert '<span class="value">Theirs</span>' in history and "root" in history
    assert "10.0.0.9" not in history  # one's own activity keeps no address of the super-user who edited
    assert "hx-swap-oob" not in text(client.get("/account"))
