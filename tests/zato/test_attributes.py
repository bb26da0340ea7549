"""SPEC §12 user and session attributes, called as a Zato client calls them (live gunicorn, SQLite)."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from .client import random_data

U, S = "/zato/sso/user/attr", "/zato/sso/session/attr"


def _owner(zato, kind: str, ust: str | None = None, user_id: str | None = None) -> dict:
    ust = ust or zato.super_user_ust
    if kind == "user":
        return {"ust": ust, "user_id": user_id or zato.super_user_id}
    return {"current_ust": zato.super_user_ust if user_id is None else ust, "target_ust": ust}


@pytest.fixture(params=["user", "session"])
def kind(request):
    return request.param


def path(kind: str, suffix: str = "") -> str:
    return (U if kind == "user" else S) + suffix


def test_create_then_get_answers_the_value_and_its_times(zato, kind):
    name, value = random_data(), random_data()
    zato.client.post(path(kind), {**_owner(zato, kind), "name": name, "value": value, "expiration": 900})
    got = zato.client.get(path(kind), {**_owner(zato, kind), "name": name})
    assert (got.found, got.name, got.value, got.is_encrypted) == (True, name, value, False)
    created, expires = datetime.fromisoformat(got.creation_time), datetime.fromisoformat(got.expiration_time)
    assert 899 <= (expires - created).total_seconds() <= 901
    datetime.fromisoformat(got.last_modified)


def test_a_duplicate_create_is_E009001_single_or_many(zato, kind):
    name = random_data()
    zato.client.post(path(kind), {**_owner(zato, kind), "name": name, "value": 1})
    again = zato.client.post(path(kind), {**_owner(zato, kind), "name": name, "value": 2}, False)
    assert (again.status, again.sub_status) == ("error", ["E009001"])
    data = [{"name": random_data(), "value": "a"}, {"name": name, "value": "b"}]
    many = zato.client.post(path(kind), {**_owner(zato, kind), "data": data}, False)
    assert many.sub_status == ["E009001"]
    assert zato.client.get(path(kind, "/exists"), {**_owner(zato, kind), "name": data[0]["name"]}).result is False, (
        "a list is all or nothing"
    )


def test_many_at_once_create_get_exists_names_update_delete(zato, kind):
    names = [random_data(), random_data()]
    data = [{"name": names[0], "value": {"nested": [1, 2]}}, {"name": names[1], "value": "two"}]
    zato.client.post(path(kind), {**_owner(zato, kind), "data": data})
    listed = zato.client.get(path(kind, "/names"), {**_owner(zato, kind)}).result
    assert set(names) <= set(listed)
    exists = zato.client.get(path(kind, "/exists"), {**_owner(zato, kind), "data": [names[0], "nope" + names[1]]})
    assert exists.result == {names[0]: True, "nope" + names[1]: False}
    zato.client.patch(path(kind), {**_owner(zato, kind), "data": [{"name": names[1], "value": "2"}]})
    got = zato.client.get(path(kind), {**_owner(zato, kind), "data": names})
    assert [(a["name"], a["value"]) for a in got.result] == [(names[0], {"nested": [1, 2]}), (names[1], "2")]
    zato.client.delete(path(kind), {**_owner(zato, kind), "data": names})
    assert zato.client.get(path(kind), {**_owner(zato, kind), "name": names[0]}).found is False


def test_update_or_delete_of_a_missing_attribute_is_E009002(zato, kind):
    for method in ("patch", "delete"):
        answer = getattr(zato.client, method)(
            path(kind),
            {**_owner(zato, kind), "name": random_data(), **({"value": 1} if method == "patch" else {})},
            False,
        )
        assert (answer.status, answer.sub_status) == ("error", ["E009002"])


def test_an_expired_attribute_is_invisible_and_can_be_created_again(zato, kind):
    name = random_data()
    zato.client.post(path(kind), {**_owner(zato, kind), "name": name, "value": "soon gone", "expiration": 1})
    time.sleep(1.2)
    assert zato.client.get(path(kind), {**_owner(zato, kind), "name": name}).found is False
    assert name not in zato.client.get(path(kind, "/names"), {**_owner(zato, kind)}).result
    zato.client.post(path(kind), {**_owner(zato, kind), "name": name, "value": "again"})


def test_an_encrypted_value_is_decrypted_on_get_unless_asked_not_to(zato, kind):
    name = random_data()
    zato.client.post(path(kind), {**_owner(zato, kind), "name": name, "value": "secret", "encrypt": True})
    got = zato.client.get(path(kind), {**_owner(zato, kind), "name": name})
    assert (got.value, got.is_encrypted) == ("secret", True)
    sealed = zato.client.get(path(kind), {**_owner(zato, kind), "name": name, "decrypt": False})
    assert sealed.value.startswith("gAAAAA") and "secret" not in sealed.value


def test_a_regular_user_on_another_users_attributes_is_E005001_and_on_their_own_ok(zato):
    user_id1, username1, password1 = zato.create_and_approve_user()
    user_id2, _, _ = zato.create_and_approve_user()
    ust = zato.login(username1, password1)
    for method in ("post", "get"):
        answer = getattr(zato.client, method)(
            U,
            {"ust": ust, "user_id": user_id2, "name": random_data(), **({"value": 1} if method == "post" else {})},
            False,
        )
        assert (answer.http.status_code, answer.sub_status) == (403, ["E005001"])
    zato.client.post(U, {"ust": ust, "user_id": user_id1, "name": "mine", "value": 1})
    zato.client.post(U, {"ust": ust, "name": "also-mine", "value": 1})
    zato.client.post(U, {"ust": zato.super_user_ust, "user_id": user_id2, "name": "by-admin", "value": 1})
    assert zato.client.get(U + "/names", {"ust": zato.super_user_ust, "user_id": user_id1}).result == [
        "also-mine",
        "mine",
    ]


def test_a_regular_user_on_another_users_session_is_E005001(zato):
    _, username, password = zato.create_and_approve_user()
    ust = zato.login(username, password)
    answer = zato.client.post(
        S, {"current_ust": ust, "target_ust": zato.super_user_ust, "name": "x", "value": 1}, False
    )
    assert (answer.http.status_code, answer.sub_status) == (403, ["E005001"])
    zato.client.post(S, {"current_ust": ust, "target_ust": ust, "name": "x", "value": 1})


def test_a_value_over_64_kib_or_a_bad_expiration_names_the_field(zato):
    big = zato.client.post(U, {"ust": zato.super_user_ust, "name": random_data(), "value": "x" * (64 * 1024)}, False)
    assert big.http.status_code in (413, 422)
    bad = zato.client.post(
        U, {"ust": zato.super_user_ust, "name": random_data(), "value": 1, "expiration": "soon"}, False
    )
    assert (bad.http.status_code, bad.sub_status, list(bad.errors)) == (422, ["E008002"], ["expiration"])
    neither = zato.client.post(U, {"ust": zato.super_user_ust, "value": 1}, False)
    assert (neither.http.status_code, neither.result) == (400, "Error")


ZATO_FULL_INPUT = ("name", "value", "data", "expiration", "encrypt", "decrypt_on_get", "serialize_dt")


def test_every_method_accepts_zatos_whole_input_set_and_ignores_what_it_does_not_use(zato, kind):
    """Issue 31 #6: `DELETE /zato/sso/session/attr` with the `value` and `expiration` keys Zato's client sends
    answered E008002. Zato's attr services have one input set for every method."""
    name = random_data()
    unused = {"data": None, "decrypt_on_get": True, "serialize_dt": False}
    zato.client.post(path(kind), {**_owner(zato, kind), "name": name, "value": "v", "expiration": None, **unused})
    zato.client.patch(path(kind), {**_owner(zato, kind), "name": name, "value": "w", "encrypt": True, **unused})
    got = zato.client.get(
        path(kind), {**_owner(zato, kind), "name": name, "value": None, "expiration": 5, "encrypt": False, **unused}
    )
    assert (got.found, got.value, got.is_encrypted) == (True, "w", True)
    hidden = zato.client.get(path(kind), {**_owner(zato, kind), "name": name, "decrypt_on_get": False})
    assert hidden.is_encrypted is True and hidden.value != "w"  # Zato's name of `decrypt`
    every = {key: None for key in ZATO_FULL_INPUT if key != "name"}
    assert zato.client.get(path(kind, "/exists"), {**_owner(zato, kind), **every, "name": name}).result is True
    assert name in zato.client.get(path(kind, "/names"), {**_owner(zato, kind), **every, "name": name}).result
    zato.client.delete(path(kind), {**_owner(zato, kind), "name": name, "value": None, "expiration": None})
    assert zato.client.get(path(kind, "/exists"), {**_owner(zato, kind), "name": name}).result is False
    refused = zato.client.delete(path(kind), {**_owner(zato, kind), "name": name, "is_approved": True}, False)
    assert refused.sub_status == ["E008002"]  # a key Zato never had is still refused
