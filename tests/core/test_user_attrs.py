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
