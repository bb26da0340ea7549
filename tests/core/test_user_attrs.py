"""SPEC §12 attributes through the Python facade, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.sso import Code, Kind, SSOError
from webapp.sso.kernel.tables import audit, user_attrs

APP, ADDR = "CRM", "127.0.0.1"


def call(sso, op, ust, inputs, user_id=None):
    return sso.user.user_attr("cid", op, user_id, inputs, ust, APP, ADDR)


def test_values_are_json_of_at_most_64_kib_and_the_limit_names_the_field(sso, admin):
    _, ust = admin
    call(sso, "create", ust, {"name": "n", "value": {"a": [1, None, "x"]}})
    assert call(sso, "get", ust, {"name": "n"})["value"] == {"a": [1, None, "x"]}
    with pytest.raises(SSOError) as error:
        call(sso, "create", ust, {"name": "big", "value": "x" * (64 * 1024)})
    assert (error.value.kind, error.value.sub_status, list(error.value.errors)) == (
        Kind.invalid,
        [Code.invalid_input],
        ["value"],
    )
    call(sso, "create", ust, {"name": "just-fits", "value": "x" * (64 * 1024 - 2)})


def test_a_duplicate_in_one_list_or_an_unknown_key_is_refused_and_nothing_written(sso, admin):
    _, ust = admin
    for data in ([{"name": "a", "value": 1}, {"name": "a", "value": 2}], [{"name": "b", "value": 1, "x": 2}]):
        with pytest.raises(SSOError):
            call(sso, "create", ust, {"data": data})
    assert call(sso, "names", ust, {})["result"] == []


def test_expired_attributes_are_pruned_on_the_next_write_and_every_write_is_audited_without_values(sso, admin, app):
    _user, ust = admin
    call(sso, "create", ust, {"name": "old", "value": "secret-value", "expiration": 60})
    real_clock = sso.ctx.clock
    sso.ctx.clock = lambda: real_clock() + timedelta(seconds=61)  # the session itself lives an hour
    try:
        assert call(sso, "exists", ust, {"name": "old"})["result"] is False
        call(sso, "create", ust, {"name": "new", "value": 1})
    finally:
        sso.ctx.clock = real_clock
    with app.extensions["sso_engine"].connect() as conn:
        names = conn.execute(select(user_attrs.c.name)).scalars().all()
        records = conn.execute(select(audit).where(audit.c.action.like("user_attr%"))).mappings().all()
    assert names == ["new"]
    assert [r["action"] for r in records] == ["user_attr_create", "user_attr_create"]
    assert "secret-value" not in str([dict(r) for r in records])


def test_a_super_user_naming_nobody_is_E001100_and_a_user_deleted_takes_their_attributes(sso, admin, alice, app):
    _, ust = admin
    alice_user, alice_ust = alice
    with pytest.raises(SSOError) as error:
        call(sso, "get", ust, {"name": "x"}, user_id="zusrnobody")
    assert error.value.sub_status == [Code.user_id_unknown]
    call(sso, "create", alice_ust, {"name": "hers", "value": 1})
    sso.user.session_attr("cid", "create", alice_ust, {"name": "in-session", "value": 2}, alice_ust, APP, ADDR)
    assert call(sso, "names", ust, {}, user_id=alice_user["user_id"])["result"] == ["hers"]
    sso.user.logout("cid", alice_ust, APP, ADDR)
    with app.extensions["sso_engine"].connect() as conn:
        assert conn.execute(select(user_attrs.c.name)).scalars().all() == ["hers"], "session attributes end with it"


def stored_value(sso, name):
    with sso.ctx.engine.connect() as conn:
        return conn.execute(
            select(user_attrs.c.value, user_attrs.c.is_encrypted).where(user_attrs.c.name == name)
        ).one()


@pytest.mark.parametrize("op", ["update", "set"])
def test_an_encrypted_attribute_stays_encrypted_unless_a_write_says_encrypt_false(sso, admin, op):
    """Issue 31 #12: an update without `encrypt` stored the new value in clear (Zato does; listed in ZATO.md)."""
    _, ust = admin
    call(sso, "create", ust, {"name": "card", "value": "first-secret", "encrypt": True})
    call(sso, op, ust, {"name": "card", "value": "second-secret"})
    value, encrypted = stored_value(sso, "card")
    assert encrypted and "second-secret" not in value
    assert call(sso, "get", ust, {"name": "card"})["value"] == "second-secret"
    call(sso, op, ust, {"data": [{"name": "card", "value": "third-secret"}]})  # a list too
    assert stored_value(sso, "card")[1] and call(sso, "get", ust, {"name": "card"})["value"] == "third-secret"
    call(sso, op, ust, {"name": "card", "value": "in-clear", "encrypt": False})  # only when said
    assert tuple(stored_value(sso, "card")) == ('"in-clear"', False)
    call(sso, op, ust, {"name": "card", "value": "again"})  # and a clear one stays clear
    assert tuple(stored_value(sso, "card")) == ('"again"', False)


@pytest.fixture
def capped(make_app):
    """Small caps: 5 attributes or 200 bytes per account, 3 or 120 bytes per session."""
    application = make_app(
        SSO_ATTR_MAX_PER_USER=5,
        SSO_ATTR_MAX_BYTES_PER_USER=200,
        SSO_ATTR_MAX_PER_SESSION=3,
        SSO_ATTR_MAX_BYTES_PER_SESSION=120,
    )
    sso = application.extensions["sso"]
    sso.operator.create_local("bob", "Correct-Horse-9", super_user=False)
    return sso, sso.user.login("cid", "bob", "Correct-Horse-9", APP, ADDR).ust


def refused_cap(action, setting):
    with pytest.raises(SSOError) as error:
        action()
    assert (error.value.kind, error.value.sub_status) == (Kind.invalid, [Code.invalid_input])
    (message,) = error.value.errors.values()
    assert setting in message, message


def test_an_account_holds_at_most_its_cap_of_attributes_in_number_and_bytes(capped):
    """Issue 31 #11: one regular user created 2,200 attributes in about a second."""
    sso, ust = capped
    call(sso, "create", ust, {"data": [{"name": f"a{i}", "value": i} for i in range(4)]})
    refused_cap(
        lambda: call(sso, "create", ust, {"data": [{"name": "b1", "value": 1}, {"name": "b2", "value": 2}]}),
        "SSO_ATTR_MAX_PER_USER",
    )
    assert call(sso, "names", ust, {})["result"] == ["a0", "a1", "a2", "a3"]  # all or nothing
    call(sso, "create", ust, {"name": "a4", "value": 4})  # the fifth fits
    refused_cap(lambda: call(sso, "set", ust, {"name": "a5", "value": 5}), "SSO_ATTR_MAX_PER_USER")
    refused_cap(lambda: call(sso, "update", ust, {"name": "a0", "value": "x" * 200}), "SSO_ATTR_MAX_BYTES_PER_USER")
    call(sso, "delete", ust, {"name": "a4"})
    call(sso, "create", ust, {"name": "a5", "value": 5})  # room again
    session_ust = sso.user.login("cid", "bob", "Correct-Horse-9", APP, ADDR).ust
    refused_cap(  # the account's cap counts its sessions' attributes too
        lambda: sso.user.session_attr("cid", "create", session_ust, {"name": "s", "value": 1}, ust, APP, ADDR),
        "SSO_ATTR_MAX_PER_USER",
    )


def test_a_session_holds_at_most_its_cap_of_attributes_in_number_and_bytes(capped):
    sso, ust = capped

    def on_session(op, inputs):
        return sso.user.session_attr("cid", op, ust, inputs, ust, APP, ADDR)

    on_session("create", {"data": [{"name": f"s{i}", "value": i} for i in range(3)]})
    refused_cap(lambda: on_session("create", {"name": "s3", "value": 3}), "SSO_ATTR_MAX_PER_SESSION")
    refused_cap(lambda: on_session("update", {"name": "s0", "value": "y" * 120}), "SSO_ATTR_MAX_BYTES_PER_SESSION")
    on_session("update", {"name": "s0", "value": "shorter"})  # within the caps, a write is fine
    assert call(sso, "names", ust, {})["result"] == []  # the user's own attributes are apart
