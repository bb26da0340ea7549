"""Restore a value (SPEC §20): the old value of one audited change, put back through the normal update."""

from sqlalchemy import insert

from webapp.db import writing
from webapp.sso import Kind
from webapp.sso.kernel.context import utcnow
from webapp.sso.kernel.tables import audit

from .helpers import ADDR, APP, CID, audit_of, refused, row_of


def _last_update(sso, user_id):
    return audit_of(sso, user_id, "update")[-1]


def test_restoring_puts_the_old_value_back_and_the_new_record_names_the_one_restored(sso, admin, alice):
    _, admin_ust = admin
    alice_user, alice_ust = alice
    sso.user.update_current_user(CID, {"display_name": "Alice L."}, alice_ust, APP, ADDR)
    sso.user.update_user_by_id(CID, alice_user["user_id"], {"display_name": None}, admin_ust, APP, ADDR)
    mistake = _last_update(sso, alice_user["user_id"])

    restored = sso.user.restore_value(CID, mistake["id"], "display_name", alice_ust, APP, ADDR)

    assert restored["display_name"] == "Alice L."
    record = _last_update(sso, alice_user["user_id"])
    assert record["restored_from"] == mistake["id"]
    assert record["changes"] == {"display_name": {"old": None, "new": "Alice L."}}
    assert row_of(sso, alice_user["user_id"])["version"] == restored.version


def test_a_field_changed_since_the_record_is_a_conflict_unless_forced(sso, admin, alice):
    _, admin_ust = admin
    alice_user, _ = alice
    user_id = alice_user["user_id"]
    sso.user.update_user_by_id(CID, user_id, {"first_name": "Al"}, admin_ust, APP, ADDR)
    first = _last_update(sso, user_id)
    sso.user.update_user_by_id(CID, user_id, {"first_name": "Ally"}, admin_ust, APP, ADDR)
    before = row_of(sso, user_id)

    with refused(Kind.precondition, "E011001") as info:
        sso.user.restore_value(CID, first["id"], "first_name", admin_ust, APP, ADDR, user_id=user_id)
    assert "first_name" in info.value.errors
    assert row_of(sso, user_id) == before

    sso.user.restore_value(CID, first["id"], "first_name", admin_ust, APP, ADDR, user_id=user_id, force=True)
    assert row_of(sso, user_id)["first_name"] is None


def test_a_regular_user_cannot_restore_what_only_an_administrator_may_edit(sso, admin, alice, login):
    _, admin_ust = admin
    alice_user, _ = alice
    sso.user.update_user_by_id(
        CID, alice_user["user_id"], {"password_expiry": "2099-01-01T00:00:00"}, admin_ust, APP, ADDR
    )
    record = _last_update(sso, alice_user["user_id"])
    with refused(Kind.forbidden, "E008002"):
        sso.user.restore_value(CID, record["id"], "password_expiry", login("alice"), APP, ADDR)


def test_refusals_a_record_of_another_user_a_secret_a_deleted_user_and_bad_input(sso, admin, alice, make_user, login):
    admin_user, admin_ust = admin
    alice_user, alice_ust = alice
    bob = make_user("bob")
    bob_ust = login("bob")
    sso.user.update_current_user(CID, {"last_name": "Builder"}, bob_ust, APP, ADDR)
    bobs = _last_update(sso, bob["user_id"])

    # A record of another user than the one named: the same answer as a record that does not exist.
    with refused(Kind.not_found, "E008002") as info:
        sso.user.restore_value(CID, bobs["id"], "last_name", alice_ust, APP, ADDR)
    assert list(info.value.errors) == ["record_id"]
    with refused(Kind.not_found, "E008002"):
        sso.user.restore_value(CID, bobs["id"], "last_name", admin_ust, APP, ADDR, user_id=alice_user["user_id"])
    with refused(Kind.not_found, "E008002"):
        sso.user.restore_value(CID, 10**9, "last_name", alice_ust, APP, ADDR)
    # Someone else's user id, as a regular user.
    with refused(Kind.forbidden, "E008002"):
        sso.user.restore_value(CID, bobs["id"], "last_name", alice_ust, APP, ADDR, user_id=bob["user_id"])
    # An attribute the record did not change, and one that is not (or no longer) a field.
    with refused(Kind.invalid, "E008002") as info:
        sso.user.restore_value(CID, bobs["id"], "first_name", bob_ust, APP, ADDR)
    assert list(info.value.errors) == ["attribute"]
    # A secret: the TOTP key is audited as "(changed)" and has no value to restore.
    sso.user.update_user_by_id(CID, bob["user_id"], {"totp_key": "JBSWY3DPEHPK3PXPJBSWY3DP"}, admin_ust, APP, ADDR)
    secret = _last_update(sso, bob["user_id"])
    with refused(Kind.invalid, "E008002") as info:
        sso.user.restore_value(CID, secret["id"], "totp_key", admin_ust, APP, ADDR, user_id=bob["user_id"])
    assert "secret" in info.value.errors["attribute"]
    # Bad shapes name the field.
    with refused(Kind.invalid, "E008002") as info:
        sso.user.restore_value(CID, "7", None, bob_ust, APP, ADDR, force="yes")
    assert set(info.value.errors) == {"record_id", "attribute", "force"}
    # Onto a deleted user: the record stays, the user is gone.
    sso.user.delete_user(CID, bob["user_id"], admin_ust, APP, ADDR)
    with refused(Kind.not_found, "E001100"):
        sso.user.restore_value(CID, bobs["id"], "last_name", admin_ust, APP, ADDR, user_id=bob["user_id"])
    assert admin_user["user_id"] != bob["user_id"]


def test_a_retired_field_in_an_old_record_is_refused(sso, admin, alice):
    _, admin_ust = admin
    alice_user, _ = alice
    with writing(sso.ctx.engine) as conn:
        key = conn.execute(
            insert(audit).values(
                time=utcnow(),
                cid="old",
                action="update",
                actor_id=None,
                target_id=alice_user["user_id"],
                channel="cli",
                changes={"nickname": {"old": "Ali", "new": "Al"}},
            )
        ).inserted_primary_key
    assert key is not None
    new_id = key[0]
    with refused(Kind.invalid, "E008002") as info:
        sso.user.restore_value(CID, new_id, "nickname", admin_ust, APP, ADDR, user_id=alice_user["user_id"])
    assert info.value.errors == {"attribute": "is no longer a field"}


def test_ids_no_record_or_user_can_have_are_refused_not_a_server_error(sso, admin):
    _, admin_ust = admin
    with refused(Kind.invalid, "E008002") as info:
        sso.user.restore_value(CID, 183782549236716, "email", admin_ust, APP, ADDR)
    assert list(info.value.errors) == ["record_id"]
    for user_id in ("\x00", "\x06}", 5):
        with refused(Kind.not_found, "E008002"):
            sso.user.restore_value(CID, 1, "email", admin_ust, APP, ADDR, user_id=user_id)


def test_an_administrator_restores_only_the_fields_their_roles_write(sso, admin, make_user, login):
    _, admin_ust = admin
    carol = make_user("carol")
    desk = make_user("desk")
    sso.user.grant_role(CID, desk["user_id"], "helpdesk", admin_ust, APP, ADDR)
    sso.user.update_user_by_id(
        CID, carol["user_id"], {"email": "c@example.org", "is_locked": True}, admin_ust, APP, ADDR
    )
    record = audit_of(sso, carol["user_id"], "update")[-1]
    desk_ust = login("desk")
    with refused(Kind.forbidden, "E008002") as info:  # helpdesk holds users.lock, not users.edit
        sso.user.restore_value(CID, record["id"], "email", desk_ust, APP, ADDR, user_id=carol["user_id"])
    assert list(info.value.errors) == ["email"]
    restored = sso.user.restore_value(CID, record["id"], "is_locked", desk_ust, APP, ADDR, user_id=carol["user_id"])
    assert restored["is_locked"] is False
