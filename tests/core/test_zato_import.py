"""SPEC §15: importing a Zato ODB built here from Zato's documented schema, on SQLite and PostgreSQL,
with password hashes made by passlib (an independent implementation)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from passlib.hash import pbkdf2_sha512
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
)

from webapp.sso import Code, Kind, SSOError
from webapp.sso.kernel.tables import audit, users

APP, ADDR = "CRM", "127.0.0.1"
ZATO_KEY = Fernet.generate_key().decode()

meta = MetaData()
ZATO_USER = Table(
    "zato_sso_user",
    meta,
    Column("id", Integer, primary_key=True),
    Column("user_id", String(191), nullable=False, unique=True),
    Column("is_active", Boolean, nullable=False),
    Column("is_internal", Boolean, nullable=False),
    Column("is_super_user", Boolean, nullable=False),
    Column("is_locked", Boolean, nullable=False),
    Column("locked_time", DateTime),
    Column("creation_ctx", Text, nullable=False),
    Column("locked_by", String(191)),
    Column("approval_status", String(191), nullable=False),
    Column("approval_status_mod_time", DateTime, nullable=False),
    Column("approval_status_mod_by", String(191), nullable=False),
    Column("username", String(191), nullable=False, unique=True),
    Column("password", Text, nullable=False),
    Column("password_is_set", Boolean, nullable=False),
    Column("password_must_change", Boolean, nullable=False),
    Column("password_last_set", DateTime, nullable=False),
    Column("password_expiry", DateTime, nullable=False),
    Column("sign_up_status", String(191), nullable=False),
    Column("sign_up_time", DateTime, nullable=False),
    Column("sign_up_confirm_time", DateTime),
    Column("sign_up_confirm_token", String(191), nullable=False, unique=True),
    Column("email", Text),
    Column("display_name", String(191)),
    Column("first_name", String(191)),
    Column("middle_name", String(191)),
    Column("last_name", String(191)),
    Column("display_name_upper", String(191)),
    Column("first_name_upper", String(191)),
    Column("middle_name_upper", String(191)),
    Column("last_name_upper", String(191)),
    Column("is_rate_limit_active", Boolean),
    Column("rate_limit_type", String(40)),
    Column("rate_limit_def", Text),
    Column("rate_limit_check_parent_def", Boolean),
    Column("is_totp_enabled", Boolean, nullable=False),
    Column("totp_key", Text),
    Column("totp_label", Text),
    Column("opaque1", JSON),
)
ZATO_ATTR = Table(
    "zato_sso_attr",
    meta,
    Column("id", Integer, primary_key=True),
    Column("creation_time", DateTime, nullable=False),
    Column("last_modified", DateTime),
    Column("expiration_time", DateTime),
    Column("is_session_attr", Boolean, nullable=False),
    Column("is_encrypted", Boolean, nullable=False),
    Column("serial_method", String(20), nullable=False),
    Column("name", String(191), nullable=False),
    Column("value", Text),
    Column("_ust_string", String(191), nullable=False),
    Column("opaque1", JSON),
    Column("user_id", String(191), ForeignKey("zato_sso_user.user_id", ondelete="CASCADE"), nullable=False),
    Column("ust", String(191)),
)


def zato_user(username: str, password: str, *, encrypt: bool = False, rounds: int = 1000, **extra) -> dict:
    now = datetime(2024, 5, 6, 7, 8, 9)
    hashed = pbkdf2_sha512.using(rounds=rounds, salt_size=64).hash(password)
    seal = (lambda value: Fernet(ZATO_KEY).encrypt(value.encode()).decode()) if encrypt else (lambda value: value)
    row = {
        "user_id": "zusr" + uuid.uuid4().hex[:26],
        "is_active": True,
        "is_internal": False,
        "is_super_user": False,
        "is_locked": False,
        "creation_ctx": '{"source": "zato"}',
        "approval_status": "approved",
        "approval_status_mod_time": now,
        "approval_status_mod_by": "auto",
        "username": username,
        "password": seal(hashed),
        "password_is_set": True,
        "password_must_change": False,
        "password_last_set": now,
        "password_expiry": now + timedelta(days=3650),
        "sign_up_status": "final",
        "sign_up_time": now,
        "sign_up_confirm_token": uuid.uuid4().hex,
        "email": seal(f"{username}@example.com"),
        "display_name": username.title(),
        "is_totp_enabled": False,
        "is_rate_limit_active": None,
    }
    row.update(extra)
    return row


@pytest.fixture
def zato_odb(db_url, request, tmp_path):
    """An empty Zato ODB of the same kind as our database."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'zato-odb.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"zato_{uuid.uuid4().hex[:10]}")
    engine = create_engine(url)
    meta.create_all(engine)
    yield url, engine
    engine.dispose()


def fill(engine, *rows, attrs=()):
    with engine.begin() as conn:
        conn.execute(insert(ZATO_USER), list(rows))
        if attrs:
            conn.execute(insert(ZATO_ATTR), list(attrs))


def test_users_come_over_with_their_passwords_which_become_scrypt_at_first_login(sso, zato_odb, app):
    url, engine = zato_odb
    plain = zato_user("ann", "Old-Zato-Secret-1", rounds=120000)
    sealed = zato_user("bob", "Bob-Zato-Secret-2", encrypt=True)
    fill(
        engine,
        plain,
        sealed,
        attrs=[
            {
                "creation_time": datetime(2024, 1, 1),
                "is_session_attr": False,
                "is_encrypted": False,
                "serial_method": "json",
                "name": "colour",
                "value": '"blue"',
                "_ust_string": "",
                "user_id": plain["user_id"],
            },
            {
                "creation_time": datetime(2024, 1, 1),
                "is_session_attr": False,
                "is_encrypted": True,
                "serial_method": "json",
                "name": "pin",
                "value": Fernet(ZATO_KEY).encrypt(b'"1234"').decode(),
                "_ust_string": "",
                "user_id": sealed["user_id"],
            },
        ],
    )
    summary = sso.operator.import_zato(url, zato_secret_key=ZATO_KEY)
    assert (summary.imported, summary.rejected) == (["ann", "bob"], [])
    with app.extensions["sso_engine"].connect() as conn:
        before = conn.execute(select(users.c.password_hash).where(users.c.username == "bob")).scalar_one()
        records = conn.execute(select(audit).where(audit.c.action == "import")).mappings().all()
    assert before.startswith("$pbkdf2-sha512$1000$")
    assert {(r["target_id"], r["channel"]) for r in records} == {(plain["user_id"], "cli"), (sealed["user_id"], "cli")}
    assert "Bob-Zato-Secret-2" not in str([dict(r) for r in records])
    ust = sso.user.login("t", "bob", "Bob-Zato-Secret-2", APP, ADDR).ust
    me = sso.user.get_current_user("t", ust, APP, ADDR)
    assert (me["user_id"], me["email"], me["display_name"]) == (sealed["user_id"], "bob@example.com", "Bob")
    with app.extensions["sso_engine"].connect() as conn:
        after = conn.execute(select(users.c.password_hash).where(users.c.username == "bob")).scalar_one()
    assert after.startswith("scrypt$")
    assert sso.user.login("t", "bob", "Bob-Zato-Secret-2", APP, ADDR).status == "ok", "the same password, now scrypt"
    with pytest.raises(SSOError) as error:
        sso.user.login("t", "ann", "wrong-password", APP, ADDR)
    assert (error.value.kind, error.value.sub_status) == (Kind.forbidden, [Code.auth_invalid])
    ann = sso.user.login("t", "ann", "Old-Zato-Secret-1", APP, ADDR).ust
    assert sso.user.user_attr("t", "get", None, {"name": "colour"}, ann, APP, ADDR)["value"] == "blue"
    assert sso.user.user_attr("t", "get", None, {"name": "pin"}, ust, APP, ADDR)["value"] == "1234"


def test_a_rerun_changes_nothing_a_dry_run_writes_nothing_and_local_changes_win(sso, zato_odb, admin):
    url, engine = zato_odb
    _, admin_ust = admin
    carl = zato_user("carl", "Carl-Zato-Secret-3")
    dora = zato_user("dora", "Dora-Zato-Secret-4")
    fill(engine, carl)
    dry = sso.operator.import_zato(url, dry_run=True)
    assert dry.imported == ["carl"] and "dry run" in dry.lines()[0]
    assert sso.user.search("t", {"username": "carl"}, admin_ust, APP, ADDR)["total"] == 0
    assert sso.operator.import_zato(url).imported == ["carl"]
    again = sso.operator.import_zato(url)
    assert (again.imported, again.updated, again.unchanged) == ([], [], ["carl"])
    assert "Nothing changed." in again.lines()
    fill(engine, dora)
    with engine.begin() as conn:
        conn.execute(ZATO_USER.update().where(ZATO_USER.c.username == "carl").values(display_name="Carl Z"))
        conn.execute(ZATO_USER.update().where(ZATO_USER.c.username == "dora").values(display_name="Dora Z"))
    assert sso.operator.import_zato(url).updated == ["carl"]
    sso.user.update_user_by_id("t", carl["user_id"], {"display_name": "Carl Here"}, admin_ust, APP, ADDR)
    with engine.begin() as conn:
        conn.execute(ZATO_USER.update().where(ZATO_USER.c.username == "carl").values(display_name="Carl Zato"))
    third = sso.operator.import_zato(url)
    assert third.skipped == [("carl", "changed here since the last import")]
    assert sso.user.get_user_by_id("t", carl["user_id"], admin_ust, APP, ADDR)["display_name"] == "Carl Here"


def test_an_invalid_email_is_kept_and_listed_and_unusable_rows_are_rejected_with_the_reason(sso, zato_odb):
    url, engine = zato_odb
    fred = zato_user("fred", "Fred-Secret-7")
    fred["password"] = "$1$md5$notpbkdf2"
    fill(
        engine,
        zato_user("eve", "Eve-Zato-Secret-5", email="not-an-email"),
        zato_user("has space", "Some-Secret-6"),
        fred,
        zato_user("gina", "Gina-Secret-8", encrypt=True),
    )
    summary = sso.operator.import_zato(url)  # no key: gina's columns cannot be read
    assert summary.imported == ["eve"]
    assert ("eve", "email 'not-an-email' is not a valid address; kept as it was") in summary.notes
    reasons = dict(summary.rejected)
    assert set(reasons) == {"has space", "fred", "gina"}
    assert "whitespace" in reasons["has space"] and "PBKDF2" in reasons["fred"]
    assert "--zato-secret-key" in reasons["gina"]
    assert sso.user.login("t", "eve", "Eve-Zato-Secret-5", APP, ADDR).status == "ok"


def test_the_command_prints_the_summary(app, zato_odb):
    url, engine = zato_odb
    fill(engine, zato_user("hal", "Hal-Zato-Secret-9"))
    result = app.test_cli_runner().invoke(args=["sso", "import-zato", url, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 would be imported" in result.output
    missing = app.test_cli_runner().invoke(args=["sso", "import-zato", "sqlite:////nonexistent/dir/x.db"])
    assert missing.exit_code != 0 and "zato_sso_user" in missing.output


def test_every_imported_value_goes_through_the_apis_rules_and_unreadable_rows_are_reported(sso, zato_odb, app):
    """Issue 31 #9, a hostile but plausible ODB: a 1 MB display_name, a malformed hash, control characters,
    a 504-character user_id, a fullwidth username, a 100 KB attribute and (SQLite holds anything) a non-date
    in a DATETIME column. Rows break the rules are rejected with the reason; free text is kept, cut and
    reported; nothing ends the run."""
    url, engine = zato_odb
    sqlite = url.startswith("sqlite")
    if not sqlite:  # a PostgreSQL ODB whose columns were widened (Zato's are varchar(191))
        with engine.begin() as conn:
            for column in ("user_id", "username", "display_name", "first_name"):
                conn.exec_driver_sql(f"ALTER TABLE zato_sso_user ALTER COLUMN {column} TYPE text")
    big = zato_user("big", "Big-Zato-Secret-1", display_name="x" * 1_000_000)
    ctrl = zato_user("ctrl", "Ctrl-Zato-Secret-2", first_name="a\x1bb" + ("\x00" if sqlite else "") + "c")
    badhash = zato_user("badhash", "Bad-Zato-Secret-3")
    badhash["password"] = "$pbkdf2-sha512$notanumber$abc$def"
    longid = zato_user("longid", "Long-Zato-Secret-4", user_id="z" * 504)
    wide = zato_user("\uff46\uff55\uff4c\uff4c", "Wide-Zato-Secret-5")  # ｆｕｌｌ
    esc = zato_user("es\x1bc", "Esc-Zato-Secret-6")
    bigattr = zato_user("bigattr", "Attr-Zato-Secret-7")
    baddate = zato_user("baddate", "Date-Zato-Secret-8")
    attr = {"creation_time": datetime(2024, 1, 1), "is_session_attr": False, "is_encrypted": False}
    attr |= {"serial_method": "json", "_ust_string": "", "user_id": bigattr["user_id"]}
    for row in (big, badhash, longid, wide, esc, bigattr, baddate):
        row["first_name"] = None  # one insert for all: every row has the same keys
    fill(
        engine,
        big,
        ctrl,
        badhash,
        longid,
        wide,
        esc,
        bigattr,
        baddate,
        attrs=[{**attr, "name": "huge", "value": '"' + "y" * 100_000 + '"'}],
    )
    if sqlite:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE zato_sso_user SET password_expiry = 'not-a-date' WHERE username = 'baddate'")
    summary = sso.operator.import_zato(url)
    imported = ["big", "ctrl", "\uff46\uff55\uff4c\uff4c"] + ([] if sqlite else ["baddate"])  # as named there
    assert sorted(summary.imported) == sorted(imported)
    reasons = dict(summary.rejected)
    assert "malformed" in reasons["badhash"] and "rounds" in reasons["badhash"]
    assert "user_id must be text of 1 to 64 characters" in reasons["longid"]
    assert "control characters" in reasons["es\ufffdc"]
    assert "at most 64 KiB" in reasons["bigattr"] and "'huge'" in reasons["bigattr"]
    if sqlite:
        assert reasons["baddate"] == "row 1: column password_expiry holds 'not-a-date', not a DATETIME"
    notes = dict(summary.notes)
    assert notes["big"] == "display_name of 1000000 characters cut to 256"
    assert "taken out" in notes["ctrl"]
    assert len(summary.lines()[0]) < 200 and max(len(line) for line in summary.lines()) < 300
    with app.extensions["sso_engine"].connect() as conn:
        stored = {r["username"]: r for r in conn.execute(select(users)).mappings()}
    assert stored["big"]["display_name"] == "x" * 256 and stored["ctrl"]["first_name"] == "abc"
    assert stored["full"]["username_search"] == "full"
    assert sso.user.login("t", "FULL", "Wide-Zato-Secret-5", APP, ADDR).status == "ok"
