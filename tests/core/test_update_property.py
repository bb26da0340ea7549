"""Property: any sequence of partial updates behaves like a plain dict updated by the SPEC §2 rule.

Absent key = unchanged, None = NULL, a value = that value; refused updates change nothing; every
changing update adds one to the version and one audit record; and replaying the audit trail's
old → new values from the creation state gives back the stored row.
"""

from __future__ import annotations

import itertools
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from webapp.db import reading
from webapp.sso import SSOError
from webapp.sso.kernel.attributes import READABLE, SELF_EDITABLE, fold
from webapp.sso.kernel.context import utcnow
from webapp.sso.kernel.presentation import jsonable
from webapp.sso.kernel.tables import users

from .helpers import ADDR, APP, CID, PASSWORD, audit_of, row_of

INVALID = object()
PAST, FUTURE = datetime(2001, 2, 3, 4, 5, 6), datetime(2099, 2, 3, 4, 5, 6, 789000)


def valid(strategy):
    """Values stored exactly as given."""
    return strategy.map(lambda value: (value, value))


def converted(*pairs):
    """(given, stored) pairs."""
    return st.sampled_from(pairs)


def invalid(*values):
    return st.sampled_from([(value, INVALID) for value in values])


def mostly(good, bad):
    """Valid values six times in seven, so that most updates get through to the database."""
    return st.sampled_from([True] * 6 + [False]).flatmap(lambda ok: good if ok else bad)


def nfkc_has_no_space(value: str) -> bool:
    return not any(char.isspace() for char in unicodedata.normalize("NFKC", value))


def as_username(value: str):
    """A username is stored in its NFKC form (issue 12)."""
    return value, unicodedata.normalize("NFKC", value)


PRINTABLE = st.characters(categories=("L", "N", "P", "S"))
NAME = mostly(
    st.one_of(
        valid(st.text(PRINTABLE | st.just(" "), max_size=12)),
        valid(st.sampled_from([None, "", "Ann", "ANN", "Zoë", "Straße", "x" * 256])),
    ),
    invalid("x" * 257, "a\x00b", "line\nbreak", "\ud800", 5, b"bytes"),
)
VALUES = {
    "username": mostly(
        st.one_of(
            st.text(PRINTABLE, min_size=1, max_size=10).filter(nfkc_has_no_space).map(as_username),
            valid(st.sampled_from(["bob", "Bob", "Admin", "p0", "u" * 128])),
            converted(("jose\u0301", "jos\u00e9"), ("\uff41dmin", "admin")),
        ),
        invalid(None, "", " ", "a b", "tab\there", "u" * 129, 7, "root\u200b1", "a\u202eb", "\ufeffbom"),
    ),
    "email": mostly(
        valid(st.sampled_from([None, "a@example.com", "A.B+tag@Example.org", "zoë@例え.jp"])),
        invalid("", "nope", "a@", "a b@example.com", 5),
    ),
    "display_name": NAME,
    "first_name": NAME,
    "middle_name": NAME,
    "last_name": NAME,
    "is_locked": mostly(valid(st.booleans()), invalid(None, "yes", 1, 0)),
    "password_must_change": mostly(valid(st.booleans()), invalid(None, "true", 1)),
    "password_expiry": mostly(
        st.one_of(
            valid(st.sampled_from([None, PAST, FUTURE])),
            converted(
                (FUTURE.replace(tzinfo=UTC) + timedelta(hours=2), FUTURE + timedelta(hours=2)),
                (FUTURE.replace(tzinfo=timezone(timedelta(hours=2))), FUTURE - timedelta(hours=2)),
                ("2099-02-03T04:05:06.789Z", FUTURE),
                ("2001-02-03T04:05:06", PAST),
            ),
        ),
        invalid("soon", "", 5, "2099-02-30T00:00:00"),
    ),
    "sign_up_status": mostly(valid(st.sampled_from(["final", "before_confirmation"])), invalid(None, "FINAL")),
    "approval_status": mostly(
        valid(st.sampled_from(["approved", "rejected", "before_decision"])), invalid(None, "maybe")
    ),
    "is_totp_enabled": mostly(valid(st.booleans()), invalid(None, "on", 1)),
    "totp_label": NAME,
}
# The write-only TOTP key is left out: its audit says only "(changed)" (tests/core/test_totp.py covers it).
ATTRIBUTES = tuple(name for name in READABLE if name in VALUES)
SELF_EDITABLE = tuple(name for name in SELF_EDITABLE if name in VALUES)


def updates(names) -> st.SearchStrategy[dict]:
    """A partial update: a random subset (now and then empty, at most four) of `names` with tagged values."""
    sizes = st.sampled_from([1, 1, 2, 2, 3, 4, 0])
    subsets = sizes.flatmap(lambda size: st.lists(st.sampled_from(names), min_size=size, max_size=size, unique=True))
    return subsets.flatmap(lambda chosen: st.fixed_dictionaries({name: VALUES[name] for name in chosen}))


VERSION_MODES = st.sampled_from([None, None, None, "current", "stale"])
EXTRA_KEYS = st.sampled_from([None] * 12 + [{"nickname": "x"}, {"password": PASSWORD}])
STEP = st.one_of(
    st.tuples(st.just("admin"), updates(list(VALUES)), VERSION_MODES, EXTRA_KEYS),
    st.tuples(
        st.sampled_from(["self", "self_by_id"]),
        st.one_of(updates(list(SELF_EDITABLE)), updates(list(SELF_EDITABLE)), updates(list(VALUES))),
        VERSION_MODES,
        EXTRA_KEYS,
    ),
)

NAMES = iter(f"p{number}" for number in itertools.count())


def expected_outcome(
    model: dict, caller: str, data: dict, extra: dict | None, version_mode, taken: set, ended: bool = False
) -> str:
    """The first SPEC §4 check that refuses this update, as 'kind:code', or 'ok'. `ended`: a lock ended the
    user's sessions (SPEC §9); while locked that says E005002, once unlocked the session is simply gone."""
    if not data and not extra:
        return "invalid:E008003"
    if extra:
        return "invalid:E008002"
    if caller != "admin":
        if ended and not model["is_locked"]:
            return "unauthenticated:E007001"
        if model["approval_status"] != "approved":
            return "unauthenticated:E007001"
        if model["is_locked"]:
            return "forbidden:E005002"
        if model["sign_up_status"] != "final":
            return "forbidden:E005003"
        if model["password_expiry"] is not None and model["password_expiry"] <= utcnow():
            return "forbidden:E005001"
        if any(name not in SELF_EDITABLE for name in data):
            return "forbidden:E008002"
    if any(stored is INVALID for _given, stored in data.values()):
        return "invalid:E008002"
    if "username" in data and fold(data["username"][1]) in taken:
        return "conflict:E001002"
    if version_mode == "stale":
        return "precondition:E011001"
    return "ok"


def attributes_of(row: dict) -> dict:
    return {name: row[name] for name in ATTRIBUTES}


def replay_audit(sso, user_id: str) -> dict:
    """Attributes rebuilt from the audit trail alone, checking each record's old values on the way."""
    state = dict.fromkeys(ATTRIBUTES)
    for record in audit_of(sso, user_id):
        if record["action"] not in ("create", "update"):
            continue
        for name, change in record["changes"].items():
            if name in ATTRIBUTES:
                assert state[name] == change["old"], (record, name)
                state[name] = change["new"]
    return state


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=2, max_size=8))
@example(  # a lock ends the sessions, an unlock does not revive them: the user's own update is then E007001
    steps=[
        ("admin", {"is_locked": (True, True)}, None, None),
        ("self", {"display_name": ("x", "x")}, None, None),
        ("admin", {"is_locked": (False, False)}, None, None),
        ("self", {"display_name": ("y", "y")}, None, None),
    ]
)
def test_random_partial_updates_behave_like_a_dict_and_the_audit_trail_replays_to_the_row(sso, admin, steps):
    _, admin_ust = admin
    created = sso.operator.create_local(next(NAMES), PASSWORD, super_user=False)
    user_id = created["user_id"]
    own_ust = sso.user.login(CID, created["username"], PASSWORD, APP, ADDR).ust
    with reading(sso.ctx.engine) as conn:
        taken = set(conn.execute(select(users.c.username_search).where(users.c.user_id != user_id)).scalars())
    model = attributes_of(row_of(sso, user_id))
    version, audits = row_of(sso, user_id)["version"], len(audit_of(sso, user_id))
    ended = False  # a lock ends the user's sessions; an unlock does not bring them back

    for caller, tagged, version_mode, extra in steps:
        data = {name: given for name, (given, _stored) in tagged.items()}
        sent = {**data, **(extra or {})}
        expected = expected_outcome(model, caller, tagged, extra, version_mode, taken, ended)
        kw = {} if version_mode is None else {"expected_version": version - (version_mode == "stale")}
        try:
            if caller == "admin":
                sso.user.update_user_by_id(CID, user_id, sent, admin_ust, APP, ADDR, **kw)
            elif caller == "self":
                sso.user.update_current_user(CID, sent, own_ust, APP, ADDR, **kw)
            else:
                sso.user.update_user_by_id(CID, user_id, sent, own_ust, APP, ADDR, **kw)
            outcome = "ok"
        except SSOError as e:
            outcome = f"{e.kind}:{','.join(e.sub_status)}"
        assert outcome == expected, (caller, sent, model)
        event(outcome)

        if outcome == "ok":
            new_model = {**model, **{name: stored for name, (_given, stored) in tagged.items()}}
            ended = ended or (new_model["is_locked"] is True and model["is_locked"] is not True)
            if new_model != model:
                version, audits = version + 1, audits + 1
            model = new_model
        stored_row = row_of(sso, user_id)
        assert attributes_of(stored_row) == model
        assert (stored_row["version"], len(audit_of(sso, user_id))) == (version, audits)
        assert stored_row["username_search"] == fold(model["username"])
        assert stored_row["first_name_search"] == fold(model["first_name"])
        if model["is_locked"]:
            assert stored_row["locked_time"] is not None and stored_row["locked_by"] is not None
        else:
            assert (stored_row["locked_time"], stored_row["locked_by"]) == (None, None)

    assert replay_audit(sso, user_id) == {name: jsonable(value) for name, value in model.items()}
