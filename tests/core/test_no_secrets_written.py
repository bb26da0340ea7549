"""SPEC §4/§5: no password (nor its hash, nor a UST) ever reaches the logs, the audit trail or the database file."""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.engine import make_url

from webapp.db import reading
from webapp.sso.kernel.tables import audit, users

from .helpers import ADDR, APP, CID, PASSWORD


def test_passwords_hashes_and_usts_never_appear_in_logs_audit_or_database_file(sso, admin, caplog, db_url):
    from ..conftest import FERNET_KEY

    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # as an operator debugging SQL would
    _, admin_ust = admin
    secrets = [
        "First-Secret-Pass-1",
        "Second-Secret-Pass-2",
        "Third-Secret-Pass-3",
        "Fourth-Secret-Pass-4",
        "Wrong-Secret-Pass-5",
        "Weak",
    ]
    first, second, third, fourth, wrong, weak = secrets

    bob = sso.user.create_user(
        CID,
        {"username": "bob", "password": first, "auto_approve": True, "password_must_change": True},
        admin_ust,
        APP,
        ADDR,
    )
    for attempt in (wrong, first):
        try:
            sso.user.login(CID, "bob", attempt, APP, ADDR)
        except Exception:
            pass
    bob_ust = sso.user.login(CID, "bob", first, APP, ADDR, new_password=second).ust
    sso.user.change_password(CID, {"old_password": second, "new_password": third}, bob_ust, APP, ADDR)
    for bad in ({"old_password": wrong, "new_password": fourth}, {"old_password": third, "new_password": weak}):
        try:
            sso.user.change_password(CID, bad, bob_ust, APP, ADDR)
        except Exception:
            pass
    sso.user.change_password(CID, {"user_id": bob["user_id"], "new_password": fourth}, admin_ust, APP, ADDR)
    try:
        sso.user.update_current_user(CID, {"password": wrong}, admin_ust, APP, ADDR)
    except Exception:
        pass
    sso.user.logout(CID, bob_ust, APP, ADDR)

    with reading(sso.ctx.engine) as conn:
        hashes = [h for h in conn.execute(select(users.c.password_hash)).scalars() if h]
        audit_text = " ".join(str(dict(row)) for row in conn.execute(select(audit)).mappings())
    session_ids = [Fernet(FERNET_KEY).decrypt(ust.encode()).decode() for ust in (admin_ust, bob_ust)]

    assert "change_password" in audit_text and caplog.records, "the scenario ran and was logged"
    for secret in [*secrets, PASSWORD]:
        assert secret not in caplog.text, f"password {secret!r} was logged"
        assert secret not in audit_text, f"password {secret!r} is in the audit trail"
    # SQLAlchemy's own DEBUG level dumps whole result rows by design; from INFO up (echo=True, SQL with
    # its parameters, and database errors) no bound value is shown, so no hash.
    info_text = "\n".join(record.getMessage() for record in caplog.records if record.levelno >= logging.INFO)
    assert "INSERT INTO sso_user" in info_text
    for hashed in hashes:
        assert hashed.split("$")[-1] not in info_text, "a password hash was logged"
        assert hashed.split("$")[-1] not in audit_text
    for token in [admin_ust, bob_ust, *session_ids]:
        assert token not in caplog.text and token not in audit_text

    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        sso.ctx.engine.dispose()
        stored = b"".join(path.read_bytes() for path in Path(url.database).parent.glob("sso.db*"))
        for secret in [*secrets, PASSWORD, admin_ust, bob_ust, *session_ids]:
            assert secret.encode() not in stored, f"{secret!r} is in the database file"
