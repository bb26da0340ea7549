"""The `locale` built-in attribute (SPEC §22): a BCP 47 tag from the shipped list, nullable, self-editable,
audited like the others, in every face; anything else is E008002 naming the field (both databases)."""

from __future__ import annotations

import pytest

from webapp.sso import SSOError


def test_a_user_sets_and_clears_their_own_language_and_the_audit_has_old_and_new(sso, alice):
    user, ust = alice
    assert sso.user.get_current_user("cid", ust, "CRM", "127.0.0.1")["locale"] is None
    sso.user.update_current_user("cid", {"locale": "DE"}, ust, "CRM", "127.0.0.1")  # tags are case-insensitive
    assert sso.user.get_current_user("cid", ust, "CRM", "127.0.0.1")["locale"] == "de"
    sso.user.update_current_user("cid", {"locale": None}, ust, "CRM", "127.0.0.1")
    assert sso.user.get_current_user("cid", ust, "CRM", "127.0.0.1")["locale"] is None
    changes = [r["changes"] for r in sso.user.history("cid", user["user_id"], ust, "CRM", "127.0.0.1")]
    assert {"locale": {"old": "de", "new": None}} in changes and {"locale": {"old": None, "new": "de"}} in changes


def test_a_super_user_sets_anyones_language(sso, admin, alice):
    _, admin_ust = admin
    user, _ = alice
    sso.user.update_user_by_id("cid", user["user_id"], {"locale": "pl"}, admin_ust, "CRM", "127.0.0.1")
    assert sso.user.get_user_by_id("cid", user["user_id"], admin_ust, "CRM", "127.0.0.1")["locale"] == "pl"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("fr", "must be one of the offered languages: en, de, pl"),
        ("de-DE", "must be one of the offered languages: en, de, pl"),
        ("", "must be a language tag (BCP 47), e.g. de"),
        ("de_DE", "must be a language tag (BCP 47), e.g. de"),
        ("<script>", "must be a language tag (BCP 47), e.g. de"),
        ("x" * 10_000, "must be a language tag (BCP 47), e.g. de"),
        (7, "must be a string"),
        (True, "must be a string"),
    ],
)
def test_an_unknown_or_malformed_language_is_refused_naming_the_field_and_nothing_is_written(
    sso, alice, value, message
):
    _, ust = alice
    with pytest.raises(SSOError) as refused:
        sso.user.update_current_user("cid", {"locale": value, "display_name": "Alice"}, ust, "CRM", "127.0.0.1")
    assert refused.value.sub_status == ["E008002"] and refused.value.errors == {"locale": message}
    me = sso.user.get_current_user("cid", ust, "CRM", "127.0.0.1")
    assert me["locale"] is None and me["display_name"] is None
