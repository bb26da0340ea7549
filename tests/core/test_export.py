"""Download my data (SPEC §20): the export's content for a user with data in every area, against its JSON
Schema (docs/export-schema-v1.json), on both databases; who may export whom; the recent sign-in."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pyotp
from sqlalchemy import insert

from webapp.db import writing
from webapp.sso import Kind
from webapp.sso.kernel.tables import passkeys

from ..conftest import PASSWORD
from .helpers import ADDR, APP, CID, audit_of, frozen_clock, refused

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "export-schema-v1.json").read_text())
VALIDATOR = jsonschema_rs.Draft202012Validator(SCHEMA, validate_formats=True)
KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def export(sso, ust, **kw) -> dict:
    return json.loads("".join(sso.user.export_user(CID, ust, APP, ADDR, **kw)))


def test_the_export_holds_every_area_and_matches_its_schema(sso, admin, make_user, login):
    admin_user, admin_ust = admin
    clock = frozen_clock(sso)
    carol = make_user("carol")
    user_id = carol["user_id"]
    ust = login("carol")
    sso.user.update_current_user(CID, {"display_name": "Carol C.", "email": "carol@example.org"}, ust, APP, ADDR)
    # two-factor on (ten recovery codes), a plain and an encrypted Zato attribute, one of the session
    sso.user.enable_totp(
        CID, {"password": PASSWORD, "totp_key": KEY, "totp_code": pyotp.TOTP(KEY).at(clock.now())}, ust, APP, ADDR
    )
    sso.user.user_attr(CID, "create", None, {"name": "theme", "value": {"dark": True}}, ust, APP, ADDR)
    sso.user.user_attr(CID, "create", None, {"name": "api_token", "value": "s3cret", "encrypt": True}, ust, APP, ADDR)
    sso.user.session_attr(CID, "create", ust, {"name": "cart", "value": [1, 2]}, ust, APP, ADDR)
    # an API client linked to her, a pending password-reset link, an administrator's change
    sso.operator.create_api_client("carol.robot")
    sso.user.link(
        CID, user_id, {"auth_type": "zato.basic_auth", "auth_username": "carol.robot"}, admin_ust, APP, "10.9.9.9"
    )
    sso.user.request_password_reset(CID, "carol", APP, ADDR)
    sso.user.update_user_by_id(CID, user_id, {"last_name": "Carter"}, admin_ust, APP, "10.9.9.9")
    sso.user.update_current_user(CID, {"first_name": "Caro"}, admin_ust, APP, ADDR)  # not about her
    # a passkey, stored as a registration stores it (the ceremony itself is tested in Chromium)
    with writing(sso.ctx.engine) as conn:
        conn.execute(
            insert(passkeys).values(
                passkey_id="pk-carol",
                user_id=user_id,
                credential_id="Y3JlZGVudGlhbC1pZA",
                public_key=b"public-key-bytes",
                sign_count=3,
                transports=["internal"],
                aaguid="00000000-0000-0000-0000-000000000000",
                backup_eligible=True,
                backed_up=True,
                name="Carol's phone",
                creation_time=clock.now(),
                last_use_time=None,
            )
        )

    document = export(sso, ust)

    errors = [f"{error.instance_path}: {error.message}" for error in VALIDATOR.iter_errors(document)]
    assert errors == []
    assert (document["format"], document["version"], document["produced_by"]) == ("sso-user-export", 1, "self")
    user = document["user"]
    assert (user["user_id"], user["display_name"], user["last_name"], user["deletion_time"]) == (
        user_id,
        "Carol C.",
        "Carter",
        None,
    )
    assert document["two_factor"] == {"is_totp_enabled": True, "totp_label": None, "recovery_codes_left": 10}
    assert document["passkeys"] == [
        {
            "name": "Carol's phone",
            "creation_time": document["passkeys"][0]["creation_time"],
            "last_use_time": None,
            "synced": True,
        }
    ]
    assert "Y3JlZGVudGlhbC1pZA" not in json.dumps(document)
    assert len(document["sessions"]) == 1 and document["sessions"][0]["remote_addr"] == "127.0.0.1"
    attributes = {(a["scope"], a["name"]): a for a in document["attributes"]}
    assert attributes[("user", "theme")]["value"] == {"dark": True}
    assert attributes[("user", "api_token")]["is_encrypted"] is True
    assert attributes[("user", "api_token")]["value"] is None
    assert attributes[("session", "cart")]["session_id"] == document["sessions"][0]["session_id"]
    assert [link["api_client"] for link in document["linked_api_clients"]] == ["carol.robot"]
    assert [link["purpose"] for link in document["pending_email_links"]] == ["reset"]

    records = document["audit"]
    assert [r["id"] for r in records] == [r["id"] for r in audit_of(sso, user_id)]  # every record about her
    by_admin = [r for r in records if r["changes"] == {"last_name": {"old": None, "new": "Carter"}}]
    assert by_admin and by_admin[0]["actor"] == "an administrator" and by_admin[0]["actor_role"] == "super-user"
    assert by_admin[0]["remote_addr"] is None and by_admin[0]["user_agent"] is None
    assert records[-1]["action"] == "export" and records[-1]["actor"] == "self"
    text = json.dumps(document)
    for secret in (KEY, "s3cret", PASSWORD, '"admin"', admin_user["user_id"], "10.9.9.9"):
        assert secret not in text


def test_a_user_cannot_export_another_and_an_administrator_can_audited(sso, admin, alice, make_user, login):
    admin_user, admin_ust = admin
    alice_user, alice_ust = alice
    bob = make_user("bob")
    with refused(Kind.forbidden, "E005001"):
        export(sso, alice_ust, user_id=bob["user_id"])

    document = export(sso, admin_ust, user_id=alice_user["user_id"])
    assert document["produced_by"] == "an administrator" and document["user"]["user_id"] == alice_user["user_id"]
    exported = audit_of(sso, alice_user["user_id"], "export")[-1]
    assert exported["actor_id"] == admin_user["user_id"]
    with refused(Kind.not_found, "E001100"):
        export(sso, admin_ust, user_id="zusrnobody")


def test_an_old_sign_in_needs_the_password_again(sso, alice):
    _, ust = alice
    clock = frozen_clock(sso)
    clock(minutes=6)
    with refused(Kind.forbidden, "E005001") as info:
        export(sso, ust)
    assert "password" in info.value.errors
    with refused(Kind.forbidden, "E005001"):
        export(sso, ust, password="not it")
    assert export(sso, ust, password=PASSWORD)["user"]["username"] == "alice"


def test_the_export_streams_its_audit_part(sso, alice):
    """Twice the audit records, twice the file, and the same traced peak: the audit part is read and written
    in batches, never held whole (bench/export_memory.py measures the RSS at 100,000 records)."""
    import tracemalloc

    from webapp.sso.kernel.context import utcnow
    from webapp.sso.kernel.tables import audit

    alice_user, ust = alice

    def add(count: int) -> None:
        row = {
            "time": utcnow(),
            "cid": "bulk",
            "action": "update",
            "actor_id": alice_user["user_id"],
            "target_id": alice_user["user_id"],
            "channel": "api",
            "current_app": APP,
            "remote_addr": "10.0.0.1",
            "user_agent": "a browser of some length " * 4,
            "changes": {"display_name": {"old": "a name", "new": "another name"}},
        }
        with writing(sso.ctx.engine) as conn:
            conn.execute(insert(audit), [row] * count)

    def measure() -> tuple[int, int]:
        tracemalloc.start()
        try:
            size = sum(len(chunk) for chunk in sso.user.export_user(CID, ust, APP, ADDR))
            return size, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    add(4_000)
    size, peak = measure()
    add(8_000)
    tripled, peak_after = measure()
    assert tripled > 2.8 * size
    assert peak_after < 1.3 * peak, (peak, peak_after)


def test_an_administrators_copy_needs_users_view_and_audit_view_and_names_the_role(sso, admin, make_user, login):
    _, admin_ust = admin
    carol = make_user("carol")
    helpdesk, auditor = make_user("desk"), make_user("audit")
    sso.user.grant_role(CID, helpdesk["user_id"], "helpdesk", admin_ust, APP, ADDR)
    sso.user.grant_role(CID, auditor["user_id"], "auditor", admin_ust, APP, ADDR)
    desk_ust = login("desk")
    sso.user.update_user_by_id(CID, carol["user_id"], {"is_locked": True}, desk_ust, APP, ADDR)
    with refused(Kind.forbidden, "E005001") as info:  # helpdesk: users.view but not audit.view
        export(sso, desk_ust, user_id=carol["user_id"])
    assert "audit.view" in info.value.errors["permission"]

    document = export(sso, login("audit"), user_id=carol["user_id"])
    locked = [r for r in document["audit"] if r["changes"] == {"is_locked": {"old": False, "new": True}}]
    assert (locked[0]["actor"], locked[0]["actor_role"]) == ("an administrator", "helpdesk")
    assert document["user"]["locked_by"] == "an administrator"


def test_after_five_minutes_ones_own_passkey_confirms_the_download(sso, alice, make_user, login):
    """The facade's `reauth` (SPEC §18's re-authentication) stands in for the password: one's own passkey, its
    answer used once; another person's passkey does not confirm it."""
    from ..passkey_authenticator import SoftAuthenticator
    from .test_passkeys import ORIGIN, add_passkey, reauth_answer

    _, ust = alice
    key = SoftAuthenticator(ORIGIN)
    add_passkey(sso, ust, key)
    make_user("bob")
    bob_ust = login("bob")
    bobs = SoftAuthenticator(ORIGIN)
    add_passkey(sso, bob_ust, bobs, name="Bob's")
    frozen_clock(sso)(minutes=6)
    with refused(Kind.forbidden, "E005001") as info:
        export(sso, ust)
    assert "confirm with a passkey" in info.value.errors["password"]

    answer = reauth_answer(sso, ust, key)
    document = export(sso, ust, reauth=answer)
    assert document["user"]["username"] == "alice" and document["passkeys"][0]["last_use_time"] is not None
    with refused(Kind.invalid, "E008002") as info:  # used once
        export(sso, ust, reauth=answer)
    assert set(info.value.errors) == {"challenge_id"}
    with refused(Kind.forbidden, "E005001") as info:
        export(sso, ust, reauth=reauth_answer(sso, ust, bobs))
    assert set(info.value.errors) == {"passkey"}
    assert [r["action"] for r in audit_of(sso, alice[0]["user_id"], "export")] == ["export"]


def test_a_user_an_administrator_created_finds_no_administrators_id_or_address_in_their_file(sso, admin, login):
    _, admin_ust = admin
    dora = sso.user.create_user(CID, {"username": "dora", "password": PASSWORD}, admin_ust, APP, "203.0.113.9")
    assert dora is not None
    sso.user.approve_user(CID, dora["user_id"], admin_ust, APP, ADDR)
    document = export(sso, login("dora"))
    created = document["user"]["creation_ctx"]
    assert created["creator"] == "an administrator" and created["remote_addr"] is None
    assert admin_ust and "203.0.113.9" not in json.dumps(document["user"])
