"""The audit history as the console shows it: one's own activity, and one record's changes."""

from webapp.sso import Kind

from .helpers import ADDR, APP, CID, refused


def _actions(records):
    return [(r["action"], r["actor_username"], sorted(r["changes"])) for r in records]


def test_own_activity_lists_what_i_did_and_what_was_done_to_me_newest_first(sso, admin, alice, login):
    _admin_user, admin_ust = admin
    alice_user, alice_ust = alice
    sso.user.update_current_user(CID, {"display_name": "Alice"}, alice_ust, APP, ADDR)
    sso.user.update_user_by_id(CID, alice_user["user_id"], {"is_locked": True}, admin_ust, APP, ADDR)
    sso.user.update_user_by_id(CID, alice_user["user_id"], {"is_locked": False}, admin_ust, APP, ADDR)

    mine = sso.user.history(CID, None, login("alice"), APP, ADDR)  # the lock ended her session

    assert _actions(mine)[1:4] == [
        ("update", "admin", ["is_locked"]),
        ("update", "admin", ["is_locked"]),
        ("update", "alice", ["display_name"]),
    ]


def test_a_records_history_shows_only_changes_made_to_that_record(sso, admin, alice):
    admin_user, admin_ust = admin
    alice_user, _ = alice
    sso.user.update_user_by_id(CID, alice_user["user_id"], {"first_name": "Al"}, admin_ust, APP, ADDR)
    sso.user.update_current_user(CID, {"display_name": "The admin"}, admin_ust, APP, ADDR)

    admins_record = sso.user.history(CID, admin_user["user_id"], admin_ust, APP, ADDR)
    admins_activity = sso.user.history(CID, None, admin_ust, APP, ADDR)

    assert all(r["target_id"] == admin_user["user_id"] for r in admins_record)
    assert ("update", "admin", ["first_name"]) not in _actions(admins_record)
    assert ("update", "admin", ["first_name"]) in _actions(admins_activity)


def test_a_regular_user_may_not_read_another_users_history(sso, admin, alice):
    admin_user, _ = admin
    _, alice_ust = alice
    with refused(Kind.forbidden, "E005001"):
        sso.user.history(CID, admin_user["user_id"], alice_ust, APP, ADDR)


def test_history_records_name_the_actor_and_the_target_by_username(sso, admin, alice):
    _, admin_ust = admin
    alice_user, _ = alice
    sso.user.update_user_by_id(CID, alice_user["user_id"], {"last_name": "Liddell"}, admin_ust, APP, ADDR)

    newest = sso.user.history(CID, None, admin_ust, APP, ADDR)[0]

    assert (newest["actor_username"], newest["target_username"]) == ("admin", "alice")
