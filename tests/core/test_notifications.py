"""Security notifications (issue 27, SPEC §19) on both databases: each one is received by a real SMTP server on
loopback (through the outbox and its worker), says what happened and never holds a secret; each can be turned off."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from webapp import create_app
from webapp.config import ConfigError
from webapp.db import writing
from webapp.sso.email import notifications
from webapp.sso.email.mail import when

from ..conftest import PASSWORD
from ..conftest import app_config as config_for
from ..mailbox import html_of, link_in, text_of, token_in
from .conftest import PUBLIC
from .helpers import ADDR, APP, CID, outbox_rows, outbox_to, row_of, settle

pytestmark = pytest.mark.emails()
NEW_PASSWORD = "Brand-New-Horse-31"


@pytest.fixture
def person(make_user, as_admin, login):
    """An approved user with an email address of their own, and a UST."""

    def make(**attributes):
        name = f"person.{uuid.uuid4().hex[:8]}"
        user = make_user(name)
        email = f"{name}@example.com"
        as_admin(user["user_id"], {"email": email, **attributes})
        return {**user, "email": email, "ust": login(name)}

    return make


def only_message(mailbox, sso, address: str, subject: str):
    """The one message `address` got, checked to be about `subject`, to link only to My account, and to carry no
    password."""
    settle(sso)
    [message] = mailbox.to(address)
    assert message["Subject"] == subject
    body = text_of(message)
    assert link_in(message) == f"{PUBLIC}/account"
    assert PASSWORD not in body and NEW_PASSWORD not in body
    return body


def test_my_own_password_change_is_told_to_me(sso, person, mailbox):
    user = person()
    sso.user.change_password(CID, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, user["ust"], APP, ADDR)
    body = only_message(mailbox, sso, user["email"], "Your Example Accounts password was changed")
    assert "was changed" in body and user["username"] in body and "If it was not you" in body


def test_a_notification_arrives_in_the_language_of_the_recipient(sso, person, mailbox):
    user = person(locale="de")
    sso.user.change_password(CID, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, user["ust"], APP, ADDR)
    body = only_message(mailbox, sso, user["email"], "Ihr Example Accounts-Passwort wurde geändert")
    assert "wurde geändert" in body and user["username"] in body and "Wenn Sie das nicht waren" in body
    assert "was changed" not in body


def test_locked_unlocked_and_deletion_notices_arrive_in_german(sso, person, mailbox, admin):
    user = person(locale="de")
    sso.user.lock_user(CID, user["user_id"], admin[1], APP, ADDR)
    body = only_message(mailbox, sso, user["email"], "Ihr Example Accounts-Konto wurde gesperrt")
    assert "Ein Administrator hat Ihr Konto bei Example Accounts" in body and "locked" not in body
    assert 'lang="de"' in html_of(mailbox.to(user["email"])[-1])
    sso.user.unlock_user(CID, user["user_id"], admin[1], APP, ADDR)
    settle(sso)
    assert mailbox.to(user["email"])[-1]["Subject"] == "Ihr Example Accounts-Konto wurde entsperrt"
    with writing(sso.ctx.engine) as conn:
        row = {**user, "locale": "de"}  # the user's row as the privacy area passes it
        notifications.deletion_scheduled(sso.ctx, conn, row, at=datetime(2030, 1, 15, 9, 30), cancel_link=None)
    settle(sso)
    scheduled = mailbox.to(user["email"])[-1]
    # the date too as German writes it (it was English in a German message)
    subject = " ".join(scheduled["Subject"].split())  # a header folds its spaces
    assert subject == "Ihr Example Accounts-Konto wird am 15.01.2030, 09:30:00 UTC gelöscht"
    assert "Bis dahin ist es gesperrt" in text_of(scheduled)


def test_two_factor_and_new_sign_in_notices_arrive_in_polish(sso, person, mailbox, as_admin):
    user = person(locale="pl")
    as_admin(user["user_id"], {"is_totp_enabled": True})
    body = only_message(
        mailbox, sso, user["email"], "Logowanie dwuetapowe na Twoim koncie w Example Accounts zostało włączone"
    )
    assert "kod z aplikacji uwierzytelniającej" in body and "Jeśli to nie Ty" in body and "was turned" not in body
    as_admin(user["user_id"], {"is_totp_enabled": False})
    sso.user.login(CID, user["username"], PASSWORD, APP, "203.0.113.7")
    settle(sso)
    off, signed_in = mailbox.to(user["email"])[-2:]
    assert off["Subject"] == "Logowanie dwuetapowe na Twoim koncie w Example Accounts zostało wyłączone"
    assert signed_in["Subject"] == "Nowe logowanie na Twoje konto w Example Accounts"
    text = text_of(signed_in)
    assert "z adresu 203.0.113.7 przez nieznaną przeglądarkę lub program" in text and "unknown" not in text


def test_a_password_set_by_an_administrator_says_so(sso, person, mailbox, admin):
    user = person()
    sso.user.change_password(CID, {"user_id": user["user_id"], "new_password": NEW_PASSWORD}, admin[1], APP, ADDR)
    body = only_message(mailbox, sso, user["email"], "Your Example Accounts password was changed")
    assert "An administrator set a new password" in body


def test_a_password_set_at_sign_in_and_by_a_reset_link_are_told_too(sso, person, mailbox, as_admin):
    user = person()
    as_admin(user["user_id"], {"password_must_change": True})
    sso.user.login(CID, user["username"], PASSWORD, APP, ADDR, new_password=NEW_PASSWORD)
    only_message(mailbox, sso, user["email"], "Your Example Accounts password was changed")

    sso.user.request_password_reset(CID, user["username"], APP, ADDR)
    settle(sso)
    token = token_in(mailbox.to(user["email"])[-1])
    key = sso.user.access_password_reset(CID, token, APP, ADDR)
    sso.user.complete_password_reset(CID, token, key, "Third-Horse-Again-7", APP, ADDR)
    settle(sso)
    subjects = [m["Subject"] for m in mailbox.to(user["email"])]
    assert subjects[-1] == "Your Example Accounts password was changed" and len(subjects) == 3
    assert token not in text_of(mailbox.to(user["email"])[-1])


def test_an_email_change_is_told_to_the_old_address_only(sso, person, mailbox):
    user = person()
    new = f"new-{uuid.uuid4().hex[:8]}@example.com"
    sso.user.update_current_user(CID, {"email": new}, user["ust"], APP, ADDR)
    body = only_message(mailbox, sso, user["email"], "The email address of your Example Accounts account was changed")
    assert f"it is now {new}" in body
    assert outbox_to(sso, new) == []
    sso.user.update_current_user(CID, {"email": new.upper()}, user["ust"], APP, ADDR)  # the same mailbox
    sso.user.update_current_user(CID, {"email": None}, user["ust"], APP, ADDR)
    settle(sso)
    [cleared] = mailbox.to(new)
    assert "the account has no email address now" in text_of(cleared)


def test_two_factor_on_and_off_are_told(sso, person, mailbox, as_admin):
    user = person()
    as_admin(user["user_id"], {"is_totp_enabled": True})
    only_message(mailbox, sso, user["email"], "Two-factor sign-in was turned on for your Example Accounts account")
    as_admin(user["user_id"], {"is_totp_enabled": False})
    settle(sso)
    assert mailbox.to(user["email"])[-1]["Subject"] == (
        "Two-factor sign-in was turned off for your Example Accounts account"
    )


def test_locked_and_unlocked_by_an_administrator_are_told(sso, person, mailbox, admin):
    user = person()
    sso.user.lock_user(CID, user["user_id"], admin[1], APP, ADDR)
    body = only_message(mailbox, sso, user["email"], "Your Example Accounts account was locked")
    assert "An administrator locked your account" in body
    sso.user.unlock_user(CID, user["user_id"], admin[1], APP, ADDR)
    settle(sso)
    assert mailbox.to(user["email"])[-1]["Subject"] == "Your Example Accounts account was unlocked"


def test_a_sign_in_from_a_new_address_or_browser_is_told_the_first_and_a_known_one_not(sso, person, mailbox):
    user = person()  # signed in once, from ADDR with no user agent
    sso.user.login(CID, user["username"], PASSWORD, APP, ADDR)
    settle(sso)
    assert mailbox.to(user["email"]) == []
    sso.user.login(CID, user["username"], PASSWORD, APP, "203.0.113.9")
    body = only_message(mailbox, sso, user["email"], "New sign-in to your Example Accounts account")
    assert "203.0.113.9" in body and "application CRM" in body
    sso.user.login(CID, user["username"], PASSWORD, APP, "203.0.113.9")
    sso.user.login(CID, user["username"], PASSWORD, APP, ADDR, user_agent="Firefox/140.0")
    settle(sso)
    assert len(mailbox.to(user["email"])) == 2 and "Firefox/140.0" in text_of(mailbox.to(user["email"])[-1])


def test_a_passkey_added_and_removed_are_told_and_a_passkey_sign_in_from_elsewhere_too(sso, person, mailbox):
    from ..passkey_authenticator import SoftAuthenticator

    user, key = person(), SoftAuthenticator(PUBLIC)
    ceremony = sso.user.passkey_register_options(CID, None, user["ust"], APP, ADDR)
    added = sso.user.passkey_register_verify(
        CID, ceremony.challenge_id, key.create(ceremony.options), "Work laptop", user["ust"], APP, ADDR
    )
    body = only_message(mailbox, sso, user["email"], "A passkey was added to your Example Accounts account")
    assert '"Work laptop" was added' in body

    options = sso.user.passkey_login_options(CID, APP, "198.51.100.20")
    sso.user.login_with_passkey(CID, options.challenge_id, key.get(options.options), APP, "198.51.100.20")
    settle(sso)
    assert mailbox.to(user["email"])[-1]["Subject"] == "New sign-in to your Example Accounts account"
    assert "198.51.100.20" in text_of(mailbox.to(user["email"])[-1])

    sso.user.remove_passkey(CID, added.passkey_id, user["ust"], APP, ADDR)
    settle(sso)
    assert mailbox.to(user["email"])[-1]["Subject"] == "A passkey was removed from your Example Accounts account"
    assert len(mailbox.to(user["email"])) == 3


def test_the_deletion_notice_is_ready_for_the_privacy_area(sso, person, mailbox):
    user = person()
    with writing(sso.ctx.engine) as conn:
        notifications.deletion_scheduled(
            sso.ctx, conn, user, at=datetime(2030, 1, 15, 9, 30), cancel_link=f"{PUBLIC}/account/deletion/cancel/T"
        )
    settle(sso)
    [scheduled] = mailbox.to(user["email"])
    # the date as the recipient's language writes it (English here, the source); a header folds its spaces
    expected = f"Your Example Accounts account will be deleted on {when(datetime(2030, 1, 15, 9, 30))}"
    assert scheduled["Subject"].split() == expected.split()
    assert link_in(scheduled) == f"{PUBLIC}/account/deletion/cancel/T"


def test_the_deletion_notice_arrives_in_the_recipients_language_with_its_date_written_so(sso, person, mailbox):
    for tag, subject, words, english_left in (
        ("de", "Ihr Example Accounts-Konto wird am", "Löschung abbrechen", "will be deleted"),
        ("pl", "Twoje konto Example Accounts zostanie usunięte", "Anuluj usunięcie", "will be deleted"),
    ):
        user = person(locale=tag)
        due = datetime(2030, 1, 15, 9, 30)
        row = row_of(sso, user["user_id"])  # the stored row: its locale is the recipient's language
        with writing(sso.ctx.engine) as conn:
            notifications.deletion_scheduled(sso.ctx, conn, row, at=due, cancel_link=f"{PUBLIC}/account/keep/T")
        settle(sso)
        [message] = mailbox.to(user["email"])
        body = text_of(message)
        assert " ".join(message["Subject"].split()).startswith(subject)
        assert when(due, tag) in " ".join(message["Subject"].split())  # "15.01.2030, 09:30:00 UTC" in German
        assert when(due, tag) != when(due)
        assert english_left not in body and "If it was not you" not in body and "username" not in body
        assert link_in(message) == f"{PUBLIC}/account/keep/T" and words in html_of(message)


def test_an_account_without_an_email_gets_none_and_nothing_is_queued(sso, make_user, login):
    user = make_user(f"quiet.{uuid.uuid4().hex[:6]}")
    ust = login(user["username"])
    sso.user.change_password(CID, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, ust, APP, ADDR)
    assert [row for row in outbox_rows(sso) if row["user_id"] == user["user_id"]] == []


def test_each_kind_can_be_turned_off_and_an_unknown_kind_stops_the_start(other_app, person, mailbox, db_url):
    quiet = other_app(SSO_NOTIFY_DISABLED=["password_changed", "new_sign_in"])
    user = person()
    quiet.user.change_password(CID, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, user["ust"], APP, ADDR)
    quiet.user.login(CID, user["username"], NEW_PASSWORD, APP, "198.51.100.7")
    quiet.user.update_current_user(CID, {"email": f"other-{uuid.uuid4().hex[:6]}@example.com"}, user["ust"], APP, ADDR)
    settle(quiet)
    assert [m["Subject"] for m in mailbox.to(user["email"])] == [
        "The email address of your Example Accounts account was changed"
    ]
    with pytest.raises(ConfigError, match="SSO_NOTIFY_DISABLED names password_change; the notifications are"):
        create_app(config_for(db_url, SSO_NOTIFY_DISABLED=["password_change"]))
