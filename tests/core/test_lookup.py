"""Reading one user: the record comes with the usernames of the users it points at."""

from .helpers import ADDR, APP, CID


def test_a_user_read_by_id_names_who_locked_it_and_who_decided_its_approval(sso, admin, alice):
    admin_user, admin_ust = admin
    alice_user, _ = alice
    sso.user.update_user_by_id(
        CID, alice_user["user_id"], {"is_locked": True, "approval_status": "rejected"}, admin_ust, APP, ADDR
    )

    shown = sso.user.get_user_by_id(CID, alice_user["user_id"], admin_ust, APP, ADDR)

    assert shown["locked_by"] == shown["approval_status_mod_by"] == admin_user["user_id"]
    assert shown.usernames == {admin_user["user_id"]: "admin"}
    assert "usernames" not in shown  # not part of what the API sends


def test_a_user_nobody_changed_names_nobody(sso, admin, alice):
    _, admin_ust = admin
    alice_user, _ = alice
    assert sso.user.get_user_by_id(CID, alice_user["user_id"], admin_ust, APP, ADDR).usernames == {}
